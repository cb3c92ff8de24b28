"""What each client saw: the ledger the checks compare with the stores."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Conversation", "Handled", "Ledger", "Sent"]


@dataclass
class Sent:
    """One customer message and what became of it on the client's side."""

    number: int
    message_id: str
    text: str
    answered_by_bot: bool = True
    attempts: int = 0
    answered: bool = False
    gave_up: bool = False  # every try failed: the message counts as lost
    note: str = ""  # what the client saw of a lost message, beyond its tries
    # From the first try until the answer (or the acknowledgement, for a message relayed to an agent).
    seconds: float | None = None


@dataclass
class Conversation:
    channel: str  # "rest", "socketio" or "wechat"
    sender: str  # the tracker's sender id: the REST sender, the socket.io session, the OpenID
    key: str  # what its messages' ids begin with (a socket.io session id is too long for that)
    escalates: bool = False
    sent: list[Sent] = field(default_factory=list)
    # The numbers of the agent's messages, as the customer received them.
    agent_numbers: list[int] = field(default_factory=list)
    reached_agent: bool = False
    finished: bool = False
    # Stopped by the end of the run while still talking (Locust's stop timeout): what it missed is not counted.
    cut_off: bool = False


@dataclass
class Handled:
    """A handoff an agent of the run took: what it sent, and whether the close went through."""

    handoff_id: int
    texts: list[str] = field(default_factory=list)
    closed: bool = False


@dataclass
class Ledger:
    conversations: list[Conversation] = field(default_factory=list)
    handled: list[Handled] = field(default_factory=list)
    wechat_retries: int = 0
    # socket.io customers who never got a connection: they sent nothing.
    unconnected: int = 0
    # Requests refused or cut by a kill and tried again, by channel.
    retries: dict[str, int] = field(default_factory=dict)

    def retried(self, channel: str) -> None:
        self.retries[channel] = self.retries.get(channel, 0) + 1
