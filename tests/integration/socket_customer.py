"""A customer on the web widget's channel, with a real socket.io client."""

from __future__ import annotations

import socketio

from tests.integration.conftest import wait_for


class SocketCustomer:
    """The web widget's side of the socket.io channel: asks for a session, then talks in it.

    ``session_id`` is the id to ask for (a reload's stored id, or an attacker's guess);
    the server confirms it or issues another, and :attr:`session_id` is then the confirmed one.
    """

    def __init__(self, url: str, metadata: dict, session_id: str | None = None, last_seq: int | None = None) -> None:
        self.metadata = metadata
        self.received: list[dict] = []
        self.confirmed: list[str] = []
        self.client = socketio.Client()
        self.client.on("bot_uttered", self.received.append)
        self.client.on("session_confirm", self.confirmed.append)
        self.client.connect(url, transports=["websocket"])
        # A widget that reconnects may name the last message it has, to be sent the ones it missed.
        request = {"session_id": session_id} if last_seq is None else {"session_id": session_id, "last_seq": last_seq}
        self.client.emit("session_request", request)
        self.session_id: str = wait_for(lambda: self.confirmed and self.confirmed[-1], 15, "session_confirm")

    def say(self, text: str, session_id: str | None = None) -> None:
        # As rasa-webchat sends it: the page's data under customData (credentials.yml's metadata_key).
        data = {"message": text, "session_id": session_id or self.session_id, "customData": self.metadata}
        self.client.emit("user_uttered", data)

    def wait_for_text(self, fragment: str, timeout: float = 30) -> dict:
        return wait_for(
            lambda: next((m for m in self.received if fragment in (m.get("text") or "")), None),
            timeout,
            f"{fragment!r} on the socket (received: {self.received})",
        )

    def close(self) -> None:
        self.client.disconnect()
