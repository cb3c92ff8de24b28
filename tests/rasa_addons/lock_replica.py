"""One Rasa replica's lock store, driven by tests/rasa_addons/test_lock_store.py; runs on .venv-rasa's Python.

The store is the one endpoints.yml names, made as ``rasa run`` makes it, with the expiry
given on the command line. Each line on stdin is a turn: ``CONVERSATION SECONDS [busy]
[LIFETIME]``: take the conversation's lock, hold it SECONDS (``busy``: with the event loop
blocked, as Rasa's NLU blocks it), let go. Each step is printed as a JSON line.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from rasa.core.lock_store import LockError, LockStore
from rasa.core.utils import AvailableEndpoints


def report(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, "at": time.time(), **fields}), flush=True)


async def turn(store: LockStore, number: int, conversation: str, seconds: float, busy: bool, lifetime: float) -> None:
    try:
        async with store.lock(conversation, lock_lifetime=lifetime):
            report("acquired", turn=number, conversation=conversation)
            if busy:
                time.sleep(seconds)
            else:
                await asyncio.sleep(seconds)
            report("released", turn=number, conversation=conversation)
    except LockError as error:
        report("gave up", turn=number, conversation=conversation, error=str(error))


async def main(expiry: str) -> None:
    config = AvailableEndpoints.read_endpoints("endpoints.yml").lock_store
    config.kwargs["expiry_seconds"] = expiry
    store = LockStore.create(config)
    report("ready", store=type(store).__name__, redis=bool(store.url))
    turns = []
    number = 0
    while line := await asyncio.to_thread(sys.stdin.readline):
        conversation, seconds, *rest = line.split()
        number += 1
        lifetime = float(next((word for word in rest if word != "busy"), 60))
        turns.append(asyncio.create_task(turn(store, number, conversation, float(seconds), "busy" in rest, lifetime)))
    await asyncio.gather(*turns)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
