"""A throwaway PostgreSQL cluster from Debian's binaries, for the tests that run on PostgreSQL.

It lives in a temporary folder of its own, listens on a free loopback port (its unix
socket stays in that folder), lets anyone on loopback in without a password, and is
gone once stopped. initdb and postgres refuse to run as root: when the tests run as
root, the cluster runs as the ``postgres`` user that Debian's package creates, and its
folder belongs to that user.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg2

from bot.cli.processes import free_port

__all__ = ["PostgresCluster", "PostgresMissing"]

DEBIAN_VERSIONS = Path("/usr/lib/postgresql")
# Whom the cluster runs as when the tests run as root.
SERVICE_USER = "postgres"


class PostgresMissing(RuntimeError):
    pass


def _bin_dir() -> Path:
    """The newest of Debian's installed versions: /usr/lib/postgresql/<version>/bin."""
    versions = sorted(
        (d for d in DEBIAN_VERSIONS.glob("*") if (d / "bin" / "initdb").exists() and re.fullmatch(r"\d+", d.name)),
        key=lambda d: int(d.name),
    )
    if not versions:
        raise PostgresMissing(
            f"no PostgreSQL in {DEBIAN_VERSIONS}: `make test` installs Debian's postgresql package "
            "(scripts/setup.sh), or run: sudo apt-get install postgresql"
        )
    return versions[-1] / "bin"


class PostgresCluster:
    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="bot-postgres-"))
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(SERVICE_USER)
            except KeyError as missing:
                raise PostgresMissing(
                    f"the tests run as root and there is no {SERVICE_USER!r} user to run PostgreSQL as"
                ) from missing
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", SERVICE_USER, "--"]

    @property
    def data(self) -> Path:
        return self.dir / "data"

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run([*self._as, str(self.bin / tool), *args], capture_output=True, text=True)
        if result.returncode != 0:
            log = self.dir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr.strip()}\n{tail}")

    def start(self) -> PostgresCluster:
        # No durability: a test's cluster is thrown away, and waiting for the disk only slows the tests.
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-o", options, "-w", "start")
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str = "template1") -> str:
        """A new database, a copy of ``template`` (by default empty); returns its SQLAlchemy URL."""
        for plain in (name, template):
            if not re.fullmatch(r"[a-z_][a-z0-9_]*", plain):
                raise ValueError(f"not a plain database name: {plain!r}")
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        try:
            # CREATE DATABASE refuses to run in a transaction.
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        finally:
            connection.close()
        return self.url(name)
