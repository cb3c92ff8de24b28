"""What the agents' API takes and answers, as its OpenAPI document describes it.

The service's views (bot/service/handoffs.py) are read into these by attribute, so a
field here is one of the view's by name.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from bot.service.handoffs import MAX_MESSAGE

__all__ = ["HandoffDetail", "HandoffSummary", "Message", "MessageIn", "RowId"]

# A row's id in a path or a query: SQLite raises on an integer wider than 64 bits instead
# of finding nothing.
RowId = Annotated[int, Field(ge=0, lt=2**63)]
# The database keeps UTC without a zone; the API says it is UTC ("...Z").
UtcTime = Annotated[datetime, AfterValidator(lambda moment: moment.replace(tzinfo=timezone.utc))]


class MessageIn(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_MESSAGE)


class Message(BaseModel):
    id: int
    author: str = Field(description='"customer", "agent" or "system"; a system message\'s text is the event')
    text: str
    created_at: UtcTime
    delivered: bool = Field(description="false until Rasa has taken an agent's or system message")


class HandoffSummary(BaseModel):
    id: int
    status: str = Field(description='"waiting", "active", "closed", "expired" or "ticketed"')
    tier: str
    priority: int
    reason: str
    summary: str
    customer_id: str | None
    customer_name: str | None
    language: str
    channel: str
    position: int | None = Field(description="place in the queue while waiting, 1 next")
    waiting_seconds: int = Field(description="until an agent accepted, or until now")
    agent: str | None = Field(description="the username of the agent who has it")
    created_at: UtcTime
    accepted_at: UtcTime | None
    closed_at: UtcTime | None
    ticket: str | None = Field(description="the number of the ticket it became")
    rating: int | None


class HandoffDetail(HandoffSummary):
    packet: dict[str, Any] = Field(
        description="what the bot gathered: customer facts, transcript, what it tried, the ticket draft"
    )
    messages: list[Message]
