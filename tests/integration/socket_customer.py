"""A customer on the web widget's channel: Rasa's socket.io, with a real socket.io client."""

from __future__ import annotations

import uuid

import socketio

from tests.integration.conftest import wait_for


class SocketCustomer:
    """The web widget's side of Rasa's socket.io channel, with a real socket.io client."""

    def __init__(self, url: str, metadata: dict) -> None:
        self.session_id = uuid.uuid4().hex
        self.metadata = metadata
        self.received: list[dict] = []
        self.client = socketio.Client()
        self.client.on("bot_uttered", self.received.append)
        self.client.connect(url, transports=["websocket"])
        self.client.emit("session_request", {"session_id": self.session_id})

    def say(self, text: str) -> None:
        # As rasa-webchat sends it: the page's data under customData (credentials.yml's metadata_key).
        self.client.emit("user_uttered", {"message": text, "session_id": self.session_id, "customData": self.metadata})

    def wait_for_text(self, fragment: str, timeout: float = 30) -> dict:
        return wait_for(
            lambda: next((m for m in self.received if fragment in (m.get("text") or "")), None),
            timeout, f"{fragment!r} on the socket (received: {self.received})",
        )

    def close(self) -> None:
        self.client.disconnect()
