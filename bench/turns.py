"""Conversation latency: a turn answered from the knowledge base against a bare turn.

    .venv/bin/python -m bench.turns [--rounds 60]

Starts the real Rasa server, action server and console on free ports (with the
trained model and the built knowledge base), then alternates two kinds of turn
over REST, each in a fresh conversation so no session state builds up:
- bare: "hello" from a guest, which runs one trivial custom action (the greeting);
- knowledge base: a question answered from the knowledge base.
Prints the median and p95 of each and their ratio, measured side by side.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

import httpx
import numpy as np

from bench.stack import running_stack

QUESTIONS = [
    "how long does it take to get my refund back?",
    "退款一般几天能到账",
    "can I change my delivery address after paying?",
    "怎么开电子发票",
    "do you ship to Hong Kong?",
    "忘记密码怎么办",
]


def turn(client: httpx.Client, url: str, text: str) -> float:
    # The session start is its own first turn, so it is not counted against either kind.
    sender = uuid.uuid4().hex
    client.post(url, json={"sender": sender, "message": "/greet"}).raise_for_status()
    started = time.perf_counter()
    client.post(url, json={"sender": sender, "message": text}).raise_for_status()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    with running_stack() as settings:
        url = f"{settings.rasa_url}/webhooks/rest/webhook"
        bare, kb = [], []
        with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {settings.rest_token}"}) as client:
            for _ in range(5):  # warm-up
                turn(client, url, "hello")
                turn(client, url, QUESTIONS[0])
            for i in range(args.rounds):
                bare.append(turn(client, url, "hello"))
                kb.append(turn(client, url, QUESTIONS[i % len(QUESTIONS)]))
    print(f"{'turn':<16} {'median ms':>10} {'p95 ms':>8} {'n':>4}")
    for name, times in (("bare (greeting)", bare), ("knowledge base", kb)):
        print(f"{name:<16} {statistics.median(times):>10.1f} {np.percentile(times, 95):>8.1f} {len(times):>4}")
    print(f"ratio of medians: {statistics.median(kb) / statistics.median(bare):.2f}")


if __name__ == "__main__":
    main()
