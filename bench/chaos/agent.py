"""The agent of the run: takes every waiting handoff through the console's load balancer, writes
numbered messages, waits until they are delivered, and closes.

A request cut by a kill is ambiguous: it may have been stored. The agent sends each reply
with an ``Idempotency-Key``, so sending it again after a lost answer stores it once.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

from bench.chaos import script
from bench.chaos.records import Handled, Ledger

__all__ = ["Agent"]

TRIES = 10
DELIVERY_WAIT_SECONDS = 180.0


class Agent:
    def __init__(self, console_url: str, token: str, username: str, ledger: Ledger, stop: threading.Event) -> None:
        self.http = httpx.Client(base_url=console_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        self.username = username
        self.ledger = ledger
        self.stop = stop
        self.taken: set[int] = set()
        self.threads: list[threading.Thread] = []

    def serve(self) -> None:
        """Takes handoffs until told to stop, then lets those it has finish."""
        while not self.stop.wait(1.0):
            queue = self._call("GET", "/api/handoffs")
            for handoff in queue.json() if queue is not None and queue.status_code == 200 else []:
                if handoff["status"] == "waiting" and handoff["id"] not in self.taken:
                    self.taken.add(handoff["id"])
                    thread = threading.Thread(target=self._handle, args=(handoff["id"],), daemon=True)
                    thread.start()
                    self.threads.append(thread)
        for thread in self.threads:
            thread.join(DELIVERY_WAIT_SECONDS + 60)

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        """The answer, once it is not a load balancer's or a dying replica's; None after every try."""
        for attempt in range(TRIES):
            try:
                response = self.http.request(method, path, **kwargs)
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code < 500:
                return response
            time.sleep(min(0.5 * 2**attempt, 4.0))
        return None

    def _record(self, handoff_id: int) -> dict[str, Any] | None:
        response = self._call("GET", f"/api/handoffs/{handoff_id}")
        return response.json() if response is not None and response.status_code == 200 else None

    def _handle(self, handoff_id: int) -> None:
        accepted = self._call("POST", f"/api/handoffs/{handoff_id}/accept")
        if accepted is None or accepted.status_code != 200:
            # A 409 may answer a repeat of an accept whose answer was lost.
            record = self._record(handoff_id)
            if record is None or record["agent"] != self.username or record["status"] != "active":
                return
        handled = Handled(handoff_id)
        self.ledger.handled.append(handled)
        for number in range(1, script.AGENT_MESSAGES + 1):
            text = script.agent_text(number)
            if self._post_once(handoff_id, number, text):
                handled.texts.append(text)
            time.sleep(0.5)
        self._wait_delivered(handoff_id)
        closed = self._call("POST", f"/api/handoffs/{handoff_id}/close")
        record = self._record(handoff_id)
        handled.closed = (closed is not None and closed.status_code == 200) or (
            record is not None and record["status"] == "closed"
        )

    def _post_once(self, handoff_id: int, number: int, text: str) -> bool:
        response = self._call(
            "POST",
            f"/api/handoffs/{handoff_id}/messages",
            json={"text": text},
            headers={"Idempotency-Key": f"handoff-{handoff_id}-{number}"},
        )
        return response is not None and response.status_code in (200, 201)

    def _wait_delivered(self, handoff_id: int) -> None:
        deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
        while time.monotonic() < deadline:
            record = self._record(handoff_id)
            mine = [m for m in record["messages"] if m["author"] == "agent"] if record else []
            if mine and all(m["delivered"] for m in mine):
                return
            time.sleep(1)

    def close(self) -> None:
        self.http.close()
