"""What the console's live pages cost the database, and how late they learn of a change.

    .venv/bin/python -m bench.console_events [--database-url URL] [--pages 1 50 200] [--seconds 20]

Each open page (the queue, or a conversation) holds an event stream that asks the
database once a second what changed (bot/console/routes/events.py): that is how an
event caused through any console replica, the action server or the worker reaches
every page, whichever replica serves it. This fills a database (a new SQLite file
unless ``--database-url`` names an empty one) with a busy day's state: 150 open
handoffs and 5,000 closed ones, 20 messages each. Then, for each number of pages,
it runs that many streams' polls in one process as the console does (asyncio, each
poll's queries in a worker thread, one session per poll) for ``--seconds``, and
prints each poll's time (queries and waiting for a thread), the process's CPU
share, and the time from a new message's commit to a page's receiving it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.console.routes.events import POLL_SECONDS, changes
from bot.db.migrate import upgrade
from bot.db.models import Handoff, HandoffMessage, utcnow
from bot.db.session import sessions_for
from bot.service.handoffs import open_handoff
from bot.service.tiers import load_tiers
from bot.settings import ROOT

OPEN_HANDOFFS = 150
CLOSED_HANDOFFS = 5000
MESSAGES_EACH = 20


def fill(url: str) -> list[int]:
    """A busy day's handoffs; returns the ids of the open ones."""
    upgrade(url)
    tiers = load_tiers(ROOT / "tiers.yml")
    start = utcnow() - timedelta(days=1)
    with sessions_for(url).begin() as session:
        handoffs = []
        for n in range(OPEN_HANDOFFS + CLOSED_HANDOFFS):
            handoff = open_handoff(
                session,
                sender_id=f"bench-{n}",
                channel="socketio",
                customer_id=None,
                tier=tiers.tiers[n % len(tiers.tiers)],
                language="en",
                reason="requested",
                packet={"customer": {}},
                now=start + timedelta(seconds=n),
            )
            if n < CLOSED_HANDOFFS:
                handoff.status = "closed"
            elif n % 3 == 0:
                handoff.status = "active"
            handoffs.append(handoff)
        session.flush()
        session.add_all(
            HandoffMessage(handoff_id=h.id, author="customer" if m % 2 else "agent", text=f"message {m}")
            for h in handoffs
            for m in range(MESSAGES_EACH)
        )
        return [h.id for h in handoffs if h.status != "closed"]


async def follow(sessions: Any, handoff_id: int | None, until: float, polls: list[float], heard: dict) -> None:
    """One page's stream: the poll loop of bot/console/routes/events.py, timed."""

    def look(state: dict[str, Any]) -> list[str]:
        with sessions() as session:
            return changes(session, state, handoff_id)

    state: dict[str, Any] = {"after": 0}
    await asyncio.to_thread(look, state)  # what the page gets when it opens
    while time.monotonic() < until:
        started = time.perf_counter()
        events = await asyncio.to_thread(look, state)
        polls.append(time.perf_counter() - started)
        if any("bench: new message" in e for e in events):
            heard.setdefault(handoff_id, time.monotonic())
        await asyncio.sleep(POLL_SECONDS)


async def measure(url: str, open_ids: list[int], pages: int, seconds: float) -> dict[str, float]:
    sessions = sessions_for(url)
    polls: list[float] = []
    heard: dict[int | None, float] = {}
    until = time.monotonic() + seconds
    # One page in ten follows the queue, the others a conversation each.
    followed = [None if n % 10 == 9 else open_ids[n % len(open_ids)] for n in range(pages)]
    cpu = time.process_time()
    wall = time.monotonic()
    streams = [asyncio.create_task(follow(sessions, h, until, polls, heard)) for h in followed]
    await asyncio.sleep(seconds / 2)
    target = next((h for h in followed if h is not None), open_ids[0])

    def post() -> None:
        with sessions.begin() as session:
            session.add(HandoffMessage(handoff_id=target, author="agent", text="bench: new message"))

    await asyncio.to_thread(post)
    posted = time.monotonic()
    await asyncio.gather(*streams)
    cpu_share = (time.process_time() - cpu) / (time.monotonic() - wall)
    with sessions.begin() as session:
        session.query(HandoffMessage).filter(HandoffMessage.text == "bench: new message").delete()
    polls.sort()
    return {
        "polls": len(polls),
        "median": statistics.median(polls) * 1000,
        "p95": polls[int(len(polls) * 0.95)] * 1000,
        "cpu": cpu_share,
        "seen": (heard[target] - posted) * 1000 if target in heard else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="an empty database to fill (default: a new SQLite file)")
    parser.add_argument("--pages", type=int, nargs="+", default=[1, 50, 200])
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bot.db'}"
        open_ids = fill(url)
        with sessions_for(url)() as session:
            counts = session.query(Handoff).count(), session.query(HandoffMessage).count()
        print(f"{url.split(':', 1)[0]}: {counts[0]:,} handoffs ({len(open_ids)} open), {counts[1]:,} messages")
        print(
            "| open pages | polls | poll median ms | poll p95 ms | console CPU (share of one core) | new message seen after ms |"
        )
        print("|---:|---:|---:|---:|---:|---:|")
        for pages in args.pages:
            r = asyncio.run(measure(url, open_ids, pages, args.seconds))
            print(
                f"| {pages} | {r['polls']:.0f} | {r['median']:.1f} | {r['p95']:.1f} | {r['cpu']:.2f} | {r['seen']:.0f} |"
            )


if __name__ == "__main__":
    main()
