"""The scaled topology on one machine: PostgreSQL, Redis, replicas of every process, HAProxy in front.

``bot scale`` runs it until stopped; tests and benchmarks start it with :func:`scaled`.
Each replica is started from :func:`bot.cli.processes.processes`, so it runs exactly the
command ``bot run`` starts, with its own ports and log folder. Every replica shares the
settings that make them one product: the secrets, both stores on PostgreSQL, Redis, and
the knowledge base's ``KB_DIR`` (production's shared volume). HAProxy (``deploy/haproxy.cfg``)
listens on the ports of the settings given, where ``bot run``'s processes would:

- ``RASA_PORT``: the public front of the Rasa servers (REST, socket.io, WeChat, HTTP API),
  which consoles and workers call too;
- ``CONSOLE_PORT``: the consoles;
- ``ACTION_PORT``: the action servers, which the Rasa servers call.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.cli.local_servers import PostgresCluster, haproxy, redis
from bot.cli.processes import Process, ProcessError, free_port, processes, stop_all
from bot.cli.run import hold_stop_signals, stop_on_signals, until_one_dies
from bot.db.migrate import upgrade
from bot.db.session import engine_for, sessions_for
from bot.service.agents import DEMO_AGENTS
from bot.service.demo import seed_demo
from bot.service.tiers import load_tiers
from bot.settings import ROOT, Settings

__all__ = ["HAPROXY_CONFIG", "KINDS", "MAX_REPLICAS", "Topology", "scale", "scaled"]

HAPROXY_CONFIG = ROOT / "deploy" / "haproxy.cfg"
# The names processes() gives, in the order they start; HAProxy's variables for each kind.
KINDS = {"action server": "LB_ACTIONS", "Rasa server": "LB_RASA", "console": "LB_CONSOLE", "worker": None}
# deploy/haproxy.cfg names this many servers of each kind.
MAX_REPLICAS = 2
# Loading Rasa's model is the slow part, longer still while the other replicas load theirs.
START_TIMEOUT = 300.0


@dataclass
class Topology:
    settings: Settings  # what every replica shares; its URLs are HAProxy's fronts
    rasa_url: str  # HAProxy's public front for the Rasa servers (REST, socket.io, WeChat, HTTP API)
    console_url: str  # HAProxy's front for the consoles
    replicas: dict[str, list[Process]]  # by the names processes() gives: KINDS
    servers: list[Process]  # PostgreSQL, Redis and HAProxy
    stats_url: str  # HAProxy's statistics page, on loopback

    def kill(self, process: Process) -> None:
        """kill -9 of its whole process group, at once, without waiting for it to die."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.running.pid, signal.SIGKILL)

    def restart(self, process: Process, timeout: float = START_TIMEOUT) -> None:
        """Start it again, stopping it first if it still runs, and return once it is healthy."""
        process.stop()
        process.start()
        process.wait_healthy(timeout)


def _slug(kind: str) -> str:
    return kind.lower().replace(" ", "-")


def _check_free(address: str, what: str, log_dir: Path) -> None:
    """Raise ProcessError if ``address`` (host:port) is taken, naming its holder."""
    Process(what, [], log_dir / "unused.log", health_url=f"http://{address}/").check_port()


def _databases(cluster: PostgresCluster, settings: Settings) -> dict[str, str]:
    """The business database, migrated (with the demo data in demo mode), and the tracker store."""
    urls = {"database_url": cluster.database("bot"), "tracker_store_url": cluster.database("tracker")}
    upgrade(urls["database_url"])
    if settings.demo_mode:
        # Loads the demo customers only into an empty database: a restarted topology keeps its data.
        seed_demo(sessions_for(urls["database_url"]), tiers=load_tiers(settings.tiers_file), today=date.today())
    engine_for(urls["database_url"]).dispose()
    return urls


def _fleet(common: Settings, replicas: int, logs: Path) -> tuple[dict[str, list[Process]], dict[str, str]]:
    """The replicas of each kind, each on ports of its own, and HAProxy's variables naming them."""
    fleet: dict[str, list[Process]] = {kind: [] for kind in KINDS}
    servers: dict[str, str] = {}
    for n in range(1, replicas + 1):
        ports = {"rasa_port": free_port(), "action_port": free_port(), "console_port": free_port()}
        replica = common.model_copy(update=ports)
        for kind, lb_variable in KINDS.items():
            [process] = [p for p in processes(replica, logs / f"{_slug(kind)}-{n}") if p.name == kind]
            process.name = f"{kind} {n}"
            fleet[kind].append(process)
            if lb_variable is not None:
                servers[f"{lb_variable}_{n}"] = f"{common.host}:{process.port}"
    return fleet, servers


@contextmanager
def scaled(settings: Settings, workdir: Path, replicas: int = 2) -> Iterator[Topology]:
    """The topology, from PostgreSQL to HAProxy, for as long as the block runs; stopped in reverse order after.

    PostgreSQL keeps its data in ``workdir/postgres``, found again by the next start; each
    replica logs in ``workdir/logs/<kind>-<n>``. ``replicas`` of each kind, 1 or 2. Run as root,
    PostgreSQL runs as the ``postgres`` user, who must be able to reach ``workdir``.
    """
    if not 1 <= replicas <= MAX_REPLICAS:
        raise ValueError(f"replicas must be 1 to {MAX_REPLICAS} ({HAPROXY_CONFIG.name} names {MAX_REPLICAS} of each)")
    if not settings.model_path.exists():
        raise FileNotFoundError(f"no trained model at {settings.model_path}: run `make train`")
    workdir = workdir.resolve()
    logs = workdir / "logs"
    host = settings.host
    fronts = {
        "LB_RASA_FRONT": f"{host}:{settings.rasa_port}",
        "LB_ACTIONS_FRONT": f"{host}:{settings.action_port}",
        "LB_CONSOLE_FRONT": f"{host}:{settings.console_port}",
    }
    for variable, address in fronts.items():
        _check_free(address, f"HAProxy's {variable}", logs)
    started: list[Process] = []
    try:
        cluster = PostgresCluster(workdir / "postgres").start()
        started.append(cluster.server)
        shared = _databases(cluster, settings)
        redis_port = free_port()
        (workdir / "redis").mkdir(parents=True, exist_ok=True)
        shared_redis = redis(workdir / "redis", redis_port)
        started.append(shared_redis)
        shared_redis.start()
        shared_redis.wait_healthy(20)
        front = f"http://{fronts['LB_RASA_FRONT']}"
        shared |= {
            "redis_url": f"redis://127.0.0.1:{redis_port}/0",
            "rasa_url": front,
            "public_rasa_url": front,
            "action_server_url": f"http://{fronts['LB_ACTIONS_FRONT']}/webhook",
        }
        common = settings.model_copy(update=shared)
        fleet, servers = _fleet(common, replicas, logs)
        everyone = [p for kind in fleet.values() for p in kind]
        for process in everyone:
            process.check_port()
        # All at once, then wait for all: the Rasa servers load their models side by side.
        for process in everyone:
            started.append(process)
            process.start()
        for process in everyone:
            process.wait_healthy(START_TIMEOUT)
        stats = f"127.0.0.1:{free_port()}"
        balancer = haproxy(
            HAPROXY_CONFIG, {**fronts, **servers, "LB_STATS": stats}, logs / "haproxy.log", f"http://{stats}/health"
        )
        started.append(balancer)
        balancer.start()
        balancer.wait_healthy(20)
        yield Topology(
            settings=common,
            rasa_url=front,
            console_url=f"http://{fronts['LB_CONSOLE_FRONT']}",
            replicas=fleet,
            servers=[cluster.server, shared_redis, balancer],
            stats_url=f"http://{stats}/",
        )
    finally:
        stop_all(started)


def _urls(topology: Topology, workdir: Path) -> str:
    settings, rasa, console = topology.settings, topology.rasa_url, topology.console_url
    counts = ", ".join(
        f"{len(fleet)} {kind}{'s' if len(fleet) > 1 else ''}" for kind, fleet in topology.replicas.items()
    )
    lines = [
        f"All up: {counts}, behind HAProxy:",
        f"  REST               {rasa}/webhooks/rest/webhook"
        + ("  (Authorization: Bearer $REST_TOKEN)" if settings.rest_token else "  (off: REST_TOKEN is unset)"),
        f"  socket.io          {rasa}/socket.io/  (sticky: HAProxy's SERVERID cookie)",
        f"  WeChat             {rasa}/webhooks/wechat/webhook"
        + ("" if settings.wechat_token else "  (off: WECHAT_TOKEN is unset)"),
        f"  Rasa HTTP API      {rasa}/status?token=...",
        f"  Agent console      {console}/",
    ]
    if settings.demo_mode:
        lines.append(f"  Demo shop (widget) {console}/shop")
        lines.append("  Demo sign-ins      " + ", ".join(f"{u} / {p} ({r})" for u, _, r, p in DEMO_AGENTS))
    lines += [
        f"  HAProxy stats      {topology.stats_url}",
        f"  PostgreSQL         {settings.database_url}  and  {settings.tracker_store_url}",
        f"  Redis              {settings.redis_url}",
        f"  Knowledge base     {settings.kb_dir}  (every action server reads it)",
        f"  Logs               {workdir / 'logs'}",
    ]
    return "\n" + "\n".join(lines) + "\n\nPress Ctrl-C to stop them all."


def scale(settings: Settings, workdir: Path, replicas: int = 2) -> None:
    """The topology until stopped, as ``bot run`` runs its processes: a signal stops it, and so does any process dying."""
    print(f"starting PostgreSQL, Redis, {replicas} of each process and HAProxy (logs in {workdir / 'logs'}) ...")
    stop_on_signals()
    try:
        with scaled(settings, workdir, replicas) as topology:
            print(_urls(topology, workdir), flush=True)
            watched = [*topology.servers, *(p for fleet in topology.replicas.values() for p in fleet)]
            dead = until_one_dies(watched)
            print(f"error: {dead.exit_report()}\nstopping the others ...", file=sys.stderr, flush=True)
            hold_stop_signals()
            sys.exit(1)
    except (ProcessError, ValueError, FileNotFoundError) as error:  # scaled has stopped what it started
        sys.exit(f"error: {error}")
    except KeyboardInterrupt:
        print("\nstopped", flush=True)
