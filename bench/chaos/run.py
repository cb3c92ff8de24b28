"""The whole run: load at one replica and at several, then load with replicas killed, then the checks.

Imports Locust, so gevent: only ``python -m bench.chaos`` may import this module.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import gevent
from locust.env import Environment
from sqlalchemy import select

from bench.chaos.agent import Agent
from bench.chaos.chaos import Chaos
from bench.chaos.checks import Findings, check
from bench.chaos.customers import Audience, customer_classes
from bench.chaos.records import Ledger
from bench.chaos.report import Load, chaos_table, load_table
from bench.chaos.stores import handoff_messages, tracker_events
from bot.cli.processes import on_free_ports
from bot.cli.scale import MAX_REPLICAS, Topology, scaled
from bot.db.models import Agent as AgentRow
from bot.db.models import Customer
from bot.db.session import sessions_for
from bot.service.agents import DEMO_AGENTS, issue_token
from bot.service.tiers import load_tiers
from bot.settings import ROOT, Settings, load_settings
from tests.integration import wechat_platform as wechat
from tests.integration.wechat_platform import WeChatPlatform

__all__ = ["main"]

RAMP_SECONDS = 5.0
# Customers still in a conversation when the time is up finish it, within this long.
STOP_SECONDS = 150.0
# After the customers stop, the workers may still be delivering an agent's last messages.
SETTLE_SECONDS = 5.0


@dataclass
class Run:
    load: Load
    ledger: Ledger
    chaos: Chaos | None


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def base_settings(workdir: Path, wechat_api_url: str) -> Settings:
    """Demo mode with every channel on, WeChat pointed at the stand-in, agents at work all day."""
    return load_settings(
        {
            "BOT_DEMO": "1",
            "BOT_VAR_DIR": str(workdir),
            # HAProxy's fronts: free ports, so the run goes on beside a `make run` or `make scale`.
            **on_free_ports(),
            "KB_DIR": str(ROOT / "var" / "kb"),
            "SERVICE_HOURS": "00:00-24:00",
            # No handoff may turn into a ticket while the run's agent is busy with others.
            "HANDOFF_TIMEOUT_MINUTES": "60",
            "DELIVERY_INTERVAL_SECONDS": "0.5",
            **wechat.channel_settings(wechat_api_url),
        }
    )


def _agent_and_top_customers(settings: Settings) -> tuple[str, str, list[str]]:
    """The demo agent's username and a fresh API token, and the customers whose tier is served by people first."""
    sessions = sessions_for(settings.database_url)
    tiers = load_tiers(settings.tiers_file)
    username = next(name for name, _, role, _ in DEMO_AGENTS if role == "agent")
    human_first = [tier.id for tier in tiers.tiers if tier.policy.human_first]
    with sessions.begin() as session:
        agent = session.scalars(select(AgentRow).where(AgentRow.username == username)).one()
        token = issue_token(session, agent)
        top = list(session.scalars(select(Customer.id).where(Customer.tier.in_(human_first))))
    if not top:
        raise SystemExit(f"no customer of a human-first tier ({', '.join(human_first)}) to escalate with")
    return username, token, top


def drive(
    topology: Topology,
    platform: WeChatPlatform,
    args: argparse.Namespace,
    *,
    seconds: float,
    chaos: bool,
    rng: random.Random,
) -> Run:
    """``args.users`` customers for ``seconds``; with ``chaos``, one replica of each kind killed and restarted in turn."""
    username, token, top = _agent_and_top_customers(topology.settings)
    ledger = Ledger()
    audience = Audience(
        rasa_url=topology.rasa_url,
        rest_token=topology.settings.rest_token,
        identity_secret=topology.settings.identity_secret,
        wechat=platform,
        top_customers=top,
        ledger=ledger,
        messages_per_conversation=args.messages,
        escalating_share=args.escalating,
        rng=rng,
    )
    serving, killing = threading.Event(), threading.Event()
    agent = Agent(topology.console_url, token, username, ledger, serving)
    agent_greenlet = gevent.spawn(agent.serve)
    killer = Chaos(topology, random.Random(rng.random()), killing) if chaos else None
    chaos_greenlet = gevent.spawn(killer.run) if killer else None
    env = Environment(user_classes=customer_classes(audience), stop_timeout=STOP_SECONDS)
    runner = env.create_local_runner()
    runner.start(args.users, spawn_rate=args.users / RAMP_SECONDS)
    gevent.sleep(seconds)
    # The figures of the time asked for; customers then finish their conversations on a settled topology.
    total = env.stats.total
    load = Load(
        replicas=len(topology.replicas["Rasa server"]),
        chaos=chaos,
        seconds=seconds,
        answered=total.num_requests,
        p50_ms=total.get_response_time_percentile(0.5) or 0.0,
        p95_ms=total.get_response_time_percentile(0.95) or 0.0,
    )
    killing.set()
    if chaos_greenlet is not None:
        chaos_greenlet.join()
    runner.quit()
    serving.set()
    agent_greenlet.join()
    agent.close()
    return Run(load, ledger, killer)


def verdict(topology: Topology, run: Run) -> Findings:
    time.sleep(SETTLE_SECONDS)
    senders = [c.sender for c in run.ledger.conversations]
    return check(
        run.ledger,
        tracker_events(topology.settings.tracker_store_url, senders),
        handoff_messages(topology.settings.database_url, senders),
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--users", type=int, default=16, help="customers at a time (default 16)")
    parser.add_argument("--seconds", type=float, default=150, help="length of the chaos run (default 150)")
    parser.add_argument("--baseline-seconds", type=float, default=40, help="length of each load-only run (default 40)")
    parser.add_argument("--seed", type=int, default=14, help="seeds the kills, their timing and the customers")
    parser.add_argument("--replicas", type=int, default=2, help="replicas of each kind (default 2)")
    parser.add_argument("--no-chaos", action="store_true", help="load only: kill nothing")
    parser.add_argument("--skip-baseline", action="store_true", help="no load-only runs before: the chaos run alone")
    parser.add_argument("--messages", type=int, default=6, help="messages per conversation (default 6)")
    parser.add_argument(
        "--escalating",
        type=float,
        default=0.25,
        help="share of socket.io customers who ask for a person (default 0.25)",
    )
    args = parser.parse_args(argv)
    if args.users < 1 or args.seconds <= 0 or args.baseline_seconds <= 0 or args.messages < 1:
        parser.error("--users and --messages must be at least 1, --seconds and --baseline-seconds more than 0")
    if not 1 <= args.replicas <= MAX_REPLICAS:
        parser.error(f"--replicas must be 1 to {MAX_REPLICAS}: the load balancer's configuration names that many")
    if not 0 <= args.escalating <= 1:
        parser.error("--escalating is a share: between 0 and 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="bot-chaos-"))
    # PostgreSQL runs as its own user when we are root, and must reach its folder inside.
    workdir.chmod(0o755)
    _say(f"logs and stores in {workdir}")
    platform = WeChatPlatform()
    loads: list[Load] = []
    try:
        if not args.skip_baseline and args.replicas != 1:
            _say("starting 1 replica of each kind ...")
            with scaled(base_settings(workdir / "one", platform.url), workdir / "one", replicas=1) as topology:
                _say(f"load only, {args.baseline_seconds:.0f} s ...")
                loads.append(drive(topology, platform, args, seconds=args.baseline_seconds, chaos=False, rng=rng).load)
        _say(f"starting {args.replicas} replicas of each kind ...")
        settings = base_settings(workdir / "many", platform.url)
        with scaled(settings, workdir / "many", replicas=args.replicas) as topology:
            if not args.skip_baseline:
                _say(f"load only, {args.baseline_seconds:.0f} s ...")
                loads.append(drive(topology, platform, args, seconds=args.baseline_seconds, chaos=False, rng=rng).load)
            chaos = not args.no_chaos
            _say(f"load{' with kills' if chaos else ''}, {args.seconds:.0f} s, then the checks ...")
            run = drive(topology, platform, args, seconds=args.seconds, chaos=chaos, rng=rng)
            loads.append(run.load)
            findings = verdict(topology, run)
    finally:
        platform.close()
    print(
        f"{args.users} customers at a time (REST 2 : socket.io 2 : WeChat 1), seed {args.seed}; this machine's 2 cores are shared, so the figures are noisy."
    )
    print()
    print(load_table(loads))
    print()
    kills = run.chaos.kills if run.chaos else {}
    restarted = run.chaos.restarted if run.chaos else {}
    print(chaos_table(findings, kills, restarted))
    for line in (run.chaos.failures if run.chaos else []) + findings.details[:40]:
        print(f"- {line}")
    if len(findings.details) > 40:
        print(f"- ... and {len(findings.details) - 40} more")
    return 0 if findings.clean else 1
