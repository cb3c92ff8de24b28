"""Whether one customer's heavy message holds up everyone else's turn.

    .venv/bin/python -m bench.stall [--rounds 20]

Starts the real Rasa server, action server and console on free ports with the
demo customers, then measures a guest's "hello" turn over REST, alternately:
- alone;
- while a signed-in customer's ordinary complaint is answered at the same moment;
- while a signed-in customer's complaint of the longest message allowed, full
  of distinct order-like words, is answered at the same moment.
It also times the refusal of the 12,000-times "O1234 " complaint (72,000
characters) that once held every turn up for seconds. Prints medians side by side.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import statistics
import time
import uuid

import httpx

from bench.stack import running_stack
from bot.rasa_addons.channels.limits import MAX_MESSAGE_CHARS
from bot.tokens import sign_token

CUSTOMER = "C00001"
HEAVY = ("My parcel is late, order " + " ".join(f"O{n:04d}" for n in range(1000)))[:MAX_MESSAGE_CHARS]
HUGE = "O1234 " * 12_000
ORDINARY = "My parcel is late, order O0001"


def timed(client: httpx.Client, url: str, sender: str, text: str) -> tuple[float, int]:
    started = time.perf_counter()
    status = client.post(url, json={"sender": sender, "message": text}).status_code
    return (time.perf_counter() - started) * 1000, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with running_stack(demo_customers=True) as settings:
        url = f"{settings.rasa_url}/webhooks/rest/webhook"
        token = sign_token(settings.identity_secret, CUSTOMER, 3600)
        alone, beside_ordinary, beside_heavy, heavy, refusals = [], [], [], [], []
        headers = {"Authorization": f"Bearer {settings.rest_token}"}
        with httpx.Client(timeout=120, headers=headers) as client, concurrent.futures.ThreadPoolExecutor(2) as pool:
            complainant = uuid.uuid4().hex
            client.post(url, json={"sender": complainant, "message": "hi", "metadata": {"token": token}})
            for _ in range(3):  # warm-up
                timed(client, url, uuid.uuid4().hex, "hello")
            for _ in range(args.rounds):
                alone.append(timed(client, url, uuid.uuid4().hex, "hello")[0])
                for text, beside in ((ORDINARY, beside_ordinary), (HEAVY, beside_heavy)):
                    complaint = pool.submit(timed, client, url, complainant, text)
                    time.sleep(0.05)  # the complaint first, as in the attack
                    beside.append(timed(client, url, uuid.uuid4().hex, "hello")[0])
                    if text is HEAVY:
                        heavy.append(complaint.result()[0])
                    complaint.result()
                elapsed, status = timed(client, url, complainant, HUGE)
                assert status == 413, status
                refusals.append(elapsed)
    print(f"{'turn':<46} {'median ms':>10} {'max ms':>8} {'n':>4}")
    for name, times in (
        ("a guest's hello, alone", alone),
        ("a guest's hello, beside an ordinary complaint", beside_ordinary),
        ("a guest's hello, beside a heavy complaint", beside_heavy),
        (f"the heavy complaint ({len(HEAVY):,} characters)", heavy),
        (f"refusal of the {len(HUGE):,}-character complaint", refusals),
    ):
        print(f"{name:<46} {statistics.median(times):>10.1f} {max(times):>8.1f} {len(times):>4}")
    for name, times in (("an ordinary", beside_ordinary), ("a heavy", beside_heavy)):
        print(
            f"hello beside {name} complaint / alone (medians): {statistics.median(times) / statistics.median(alone):.2f}"
        )


if __name__ == "__main__":
    main()
