"""Conversation latency: our knowledge-base turn against a bare ``rasa init`` bot's turn.

    .venv/bin/python -m bench.turns [--rounds 60] [--kb DIR] [--model MODEL]

Starts a bare ``rasa init`` bot whose one custom action says hello
(bench/bare_bot.py; its model is trained once per Rasa version) and our real
Rasa server, action server and console on free ports (with the trained model
and the built knowledge base), then alternates three kinds of turn over REST,
each in a fresh conversation after a first message that starts the session and
is not counted:
- bare rasa init: "hello", answered by the bare bot's custom action;
- knowledge base: one of our questions, in Chinese or English, answered from the knowledge base;
- our hello: "hello" to our bot, which runs one custom action (the greeting).
Each turn is checked to be the one measured (the bare bot's hello; our tracker
showing the knowledge-base action or the greeting). Prints the median and p95 of
each and the ratio of the knowledge-base median to the bare bot's, all measured
side by side in one run.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from bench.bare_bot import HELLO, running_bare_bot
from bench.stack import running_stack
from bot.settings import ROOT, Settings

QUESTIONS = [
    "how long does it take to get my refund back?",
    "退款一般几天能到账",
    "can I change my delivery address after paying?",
    "怎么开电子发票",
    "do you ship to Hong Kong?",
    "忘记密码怎么办",
]
WARM_UP = 5


@dataclass
class Kind:
    """A kind of turn: its texts in turn, after ``first``; ``measured`` tells, from the
    conversation and the answer's texts, that the bot took the turn this kind measures."""

    url: str
    first: str
    texts: list[str]
    measured: Callable[[str, list[str]], bool]
    times: list[float] = field(default_factory=list)

    def turn(self, client: httpx.Client, text: str) -> float:
        sender = uuid.uuid4().hex
        client.post(self.url, json={"sender": sender, "message": self.first}).raise_for_status()
        started = time.perf_counter()
        answer = client.post(self.url, json={"sender": sender, "message": text})
        elapsed = (time.perf_counter() - started) * 1000
        answer.raise_for_status()
        texts = [str(m.get("text", "")) for m in answer.json()]
        if not self.measured(sender, texts):
            raise SystemExit(f"{self.url} answered {text!r} with {texts}: not the turn this benchmark measures")
        return elapsed


def ran(client: httpx.Client, settings: Settings, action: str) -> Callable[[str, list[str]], bool]:
    """Whether our bot ran ``action`` for the conversation's latest message, as its tracker shows."""

    def check(sender: str, texts: list[str]) -> bool:
        url = f"{settings.rasa_url}/conversations/{sender}/tracker"
        events = client.get(url, params={"token": settings.rasa_token}).raise_for_status().json()["events"]
        latest = max(i for i, event in enumerate(events) if event["event"] == "user")
        return any(event.get("name") == action for event in events[latest:])

    return check


def row(name: str, times: list[float]) -> str:
    return f"| {name} | {statistics.median(times):.1f} | {np.percentile(times, 95):.1f} | {len(times)} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--kb", type=Path, default=ROOT / "var" / "kb", help="where the knowledge base is built")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "bot.tar.gz", help="our trained model")
    args = parser.parse_args()
    stack = running_stack(kb_dir=args.kb, model=args.model)
    with running_bare_bot() as bare_url, stack as settings, httpx.Client(timeout=60) as client:
        client.headers["Authorization"] = f"Bearer {settings.rest_token}"
        ours = f"{settings.rasa_url}/webhooks/rest/webhook"
        bare = Kind(bare_url, "hello", ["hello"], lambda sender, texts: HELLO in texts)
        # Answered, or its closest entries offered: the same search and the same work either way.
        kb = Kind(ours, "/greet", QUESTIONS, ran(client, settings, "action_answer_faq"))
        kinds = {
            "bare rasa init (hello, one custom action)": bare,
            "ours: knowledge base (zh and en)": kb,
            "ours: hello (one custom action)": Kind(ours, "/greet", ["hello"], ran(client, settings, "action_greet")),
        }
        for i in range(WARM_UP + args.rounds):
            for kind in kinds.values():
                elapsed = kind.turn(client, kind.texts[i % len(kind.texts)])
                if i >= WARM_UP:
                    kind.times.append(elapsed)
    print("| turn | median ms | p95 ms | n |")
    print("|---|---|---|---|")
    for name, kind in kinds.items():
        print(row(name, kind.times))
    ratio = statistics.median(kb.times) / statistics.median(bare.times)
    print(f"\nknowledge base / bare rasa init, ratio of medians: {ratio:.2f}")


if __name__ == "__main__":
    main()
