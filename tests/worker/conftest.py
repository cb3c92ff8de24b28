"""Stand-ins for Rasa's trigger_intent endpoint and for the escalation webhook, and a queued handoff."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from bot.db.session import sessions_for
from bot.settings import Settings, load_settings
from tests.factories import add_handoff


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """``handler`` listening on a free loopback port, for the test's length."""
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port
    finally:
        server.shutdown()


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def body(self) -> dict:
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))


@pytest.fixture
def rasa() -> Iterator[tuple[str, list[tuple[str, str]], list[str]]]:
    """A stand-in Rasa that refuses the conversation ``down``: its URL, what it took, and whom it was asked for."""
    taken: list[tuple[str, str]] = []
    asked: list[str] = []

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            sender = self.path.split("/")[2]
            intent = self.body()["name"]
            asked.append(sender)
            if sender == "down":
                self.send_response(500)
            else:
                taken.append((sender, intent))
                self.send_response(200)
            self.end_headers()

    with serving(Handler) as port:
        yield f"http://127.0.0.1:{port}", taken, asked


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict]]]:
    """A stand-in chat tool: the webhook's URL and what was posted to it."""
    received: list[dict] = []

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            received.append(self.body())
            self.send_response(204)
            self.end_headers()

    with serving(Handler) as port:
        yield f"http://127.0.0.1:{port}/hook", received


@pytest.fixture
def settings_for(db_url: str) -> Callable[..., Settings]:
    """Demo settings on the test's database, with Rasa where nothing listens unless told otherwise."""

    def settings(**env: str) -> Settings:
        return load_settings({"BOT_DEMO": "1", "DATABASE_URL": db_url, "RASA_URL": "http://127.0.0.1:9", **env})

    return settings


@pytest.fixture
def queue_one(db_url, tiers) -> Callable[[str], int]:
    """Queues a VIP's handoff for conversation ``sender``; returns its id."""

    def queue(sender: str) -> int:
        with sessions_for(db_url).begin() as session:
            return add_handoff(session, tiers, sender=sender, tier="vip", name="Victoria").id

    return queue
