"""Debian's PostgreSQL, Redis and HAProxy, run as child processes of ours.

``bot scale`` starts its topology on them, and the tests their throwaway servers. Each
runs in the foreground under :class:`~bot.cli.processes.Process`, so it is stopped as
our other processes are, and does not outlive us even when we are killed outright.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from bot.cli.processes import Process, free_port

__all__ = ["PostgresCluster", "ServerMissing", "check_haproxy_config", "haproxy", "redis", "redis_server"]

DEBIAN_POSTGRESQL = Path("/usr/lib/postgresql")
# Whom PostgreSQL runs as when we run as root: initdb and postgres refuse to run as root.
SERVICE_USER = "postgres"


class ServerMissing(RuntimeError):
    """A Debian package we start a server from is not installed."""


def _program(name: str, package: str) -> str:
    # /usr/sbin is not on every user's PATH, and Debian puts haproxy there.
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
    if found is None:
        raise ServerMissing(f"no {name}: `make setup` installs Debian's {package} package (apt-get install {package})")
    return found


def _postgres_bin() -> Path:
    """The newest of Debian's installed versions: /usr/lib/postgresql/<version>/bin."""
    versions = sorted(
        (d for d in DEBIAN_POSTGRESQL.glob("*") if (d / "bin" / "initdb").exists() and re.fullmatch(r"\d+", d.name)),
        key=lambda d: int(d.name),
    )
    if not versions:
        raise ServerMissing(
            f"no PostgreSQL in {DEBIAN_POSTGRESQL}: `make setup` installs Debian's postgresql package "
            "(apt-get install postgresql)"
        )
    return versions[-1] / "bin"


@dataclass
class _Postmaster(Process):
    def stop(self, grace: float = 15) -> None:
        # SIGTERM, which Process.stop sends, is PostgreSQL's smart shutdown: it waits until every
        # client has gone, and the test process keeps pooled connections. SIGINT shuts down at once.
        if self.popen is not None and self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.popen.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(grace)
        super().stop(grace)


class PostgresCluster:
    """A PostgreSQL cluster on a free loopback port that lets anyone on loopback in without a password.

    With no ``folder`` it lives in a temporary one, without durability, and is gone once
    stopped (for the tests). With a ``folder`` its data is kept there and found again by
    the next start. Run as root, the cluster runs as the ``postgres`` user that Debian's
    package creates, and its folder belongs to that user.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.bin = _postgres_bin()
        self.port = free_port()
        self.throwaway = folder is None
        self.dir = Path(tempfile.mkdtemp(prefix="bot-postgres-")) if folder is None else folder.resolve()
        self.dir.mkdir(parents=True, exist_ok=True)
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(SERVICE_USER)
            except KeyError as missing:
                raise ServerMissing(
                    f"running as root, and there is no {SERVICE_USER!r} user to run PostgreSQL as"
                ) from missing
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            # setpriv execs postgres itself, so the postmaster is our child and gets our signals;
            # the parent-death signal Process sets is cleared by the change of user, and kept.
            self._as = [
                "setpriv",
                f"--reuid={SERVICE_USER}",
                f"--regid={SERVICE_USER}",
                "--init-groups",
                "--pdeathsig=keep",
                "--",
            ]
        self.server = _Postmaster(
            name="PostgreSQL",
            args=[*self._as, str(self.bin / "postgres"), "-D", str(self.data), *self._options()],
            log_path=self.dir / "server.log",
            ready_text="database system is ready to accept connections",
        )

    @property
    def data(self) -> Path:
        return self.dir / "data"

    def _options(self) -> list[str]:
        options = {"port": str(self.port), "listen_addresses": "127.0.0.1", "unix_socket_directories": str(self.dir)}
        # Each process's SQLAlchemy pool may open 15 connections per database, and two replicas of
        # every process under load open more than PostgreSQL's default 100.
        options["max_connections"] = "300"
        if self.throwaway:
            # A test's cluster is thrown away: waiting for the disk only slows the tests.
            options |= {"fsync": "off", "full_page_writes": "off", "synchronous_commit": "off"}
        return [arg for name, value in options.items() for arg in ("-c", f"{name}={value}")]

    def _initdb(self) -> None:
        args = ["-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]
        result = subprocess.run(
            [*self._as, str(self.bin / "initdb"), *args, *(["--no-sync"] if self.throwaway else [])],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            as_user = f" (it runs as {SERVICE_USER}, who must be able to reach {self.dir})" if self._as else ""
            raise RuntimeError(f"initdb failed ({result.returncode}){as_user}: {result.stderr.strip()}")

    def start(self, timeout: float = 60) -> PostgresCluster:
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        self.server.start()
        try:
            self.server.wait_healthy(timeout)
        except BaseException:
            self.server.stop()
            raise
        return self

    def stop(self) -> None:
        self.server.stop()
        if self.throwaway:
            shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self, statement: str, *params: str) -> list[tuple]:
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        try:
            # CREATE DATABASE refuses to run in a transaction.
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

    def create_database(self, name: str, template: str = "template1") -> str:
        """A new database, a copy of ``template`` (by default empty); returns its SQLAlchemy URL."""
        for plain in (name, template):
            if not re.fullmatch(r"[a-z_][a-z0-9_]*", plain):
                raise ValueError(f"not a plain database name: {plain!r}")
        self._admin(f"CREATE DATABASE {name} TEMPLATE {template}")
        return self.url(name)

    def database(self, name: str) -> str:
        """The URL of database ``name``, created empty if the cluster has none of that name."""
        if self._admin("SELECT 1 FROM pg_database WHERE datname = %s", name):
            return self.url(name)
        return self.create_database(name)


def redis(folder: Path, port: int) -> Process:
    """Debian's redis-server on loopback, keeping nothing on disk: locks and socket.io's fan-out are of the moment."""
    server = _program("redis-server", "redis-server")
    return Process(
        name="Redis",
        args=[
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        log_path=folder / "redis.log",
        ready_text="Ready to accept connections",
    )


@contextmanager
def redis_server(folder: Path, timeout: float = 20) -> Iterator[str]:
    """A Redis for as long as the block runs; yields its URL."""
    port = free_port()
    server = redis(folder, port)
    server.start()
    try:
        server.wait_healthy(timeout)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.stop()


def check_haproxy_config(config: Path, env: Mapping[str, str]) -> None:
    """Raise ValueError with HAProxy's own words if ``config``, with the variables of ``env``, is not valid."""
    result = subprocess.run(
        [_program("haproxy", "haproxy"), "-c", "-f", str(config)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise ValueError(f"{config} is not a valid HAProxy configuration:\n{(result.stdout + result.stderr).strip()}")


def haproxy(config: Path, env: Mapping[str, str], log_path: Path, health_url: str) -> Process:
    """HAProxy in the foreground (master and worker, logging to ``log_path``), its config checked first.

    ``health_url`` is where it answers once it listens: a ``monitor-uri`` of ``config``.
    """
    check_haproxy_config(config, env)
    return Process(
        name="HAProxy",
        args=[_program("haproxy", "haproxy"), "-W", "-db", "-f", str(config)],
        log_path=log_path,
        health_url=health_url,
        env=dict(env),
    )
