"""Server-sent events: the queue and a conversation, live, without reloading the page.

The action server writes handoffs and customer messages to the database, so the
stream watches the database: once a second it compares what a page shows with
what is there and sends only the changes. The database is the one place every
writer meets (consoles, action servers, the worker), so a change made anywhere
reaches every page, whichever console replica serves it, within about a second,
and no replica needs a message bus. Measured by ``bench/console_events.py``: a
page's poll is two indexed queries, about 1.6 ms of a console's CPU, so one
console process follows some 200 open pages with a third of a core.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from bot.console.deps import CurrentAgent, SessionsDep
from bot.console.schemas import Message, RowId
from bot.db.session import Session, Sessions
from bot.service.handoffs import WAITING, conversation_since, queue_state

__all__ = ["changes", "router"]

router = APIRouter(include_in_schema=False)
POLL_SECONDS = 1.0
# A comment line now and then keeps proxies from closing a quiet stream.
KEEPALIVE_POLLS = 15


def _event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def changes(session: Session, state: dict[str, Any], handoff_id: int | None) -> list[str]:
    """The events since ``state`` (what the page was last sent, updated here): the queue's size when
    it changed, handoffs newly waiting, and the conversation's new messages and status."""
    out = []
    queue = queue_state(session)
    if queue != state.get("queue"):
        seen = {row[0] for row in state.get("queue") or ()}
        new = [row[0] for row in queue if row[0] not in seen and row[1] == WAITING]
        if "queue" in state and new:
            out.append(_event("escalation", {"ids": new}))
        state["queue"] = queue
        out.append(_event("queue", {"size": len(queue)}))
    if handoff_id is not None:
        messages, status = conversation_since(session, handoff_id, state.get("after", 0))
        if messages:
            state["after"] = messages[-1].id
            # The API's shape, so the page adds a message the same way whichever way it came.
            shown = [Message.model_validate(m, from_attributes=True).model_dump(mode="json") for m in messages]
            out.append(_event("messages", shown))
        if status != state.get("status"):
            state["status"] = status
            out.append(_event("status", {"status": status}))
    return out


async def _stream(request: Request, sessions: Sessions, handoff_id: int | None, after: int) -> AsyncIterator[str]:
    def look(state: dict[str, Any]) -> list[str]:
        with sessions() as session:
            return changes(session, state, handoff_id)

    state: dict[str, Any] = {"after": after}
    quiet = 0
    while not await request.is_disconnected():
        events = await asyncio.to_thread(look, state)
        for event in events:
            yield event
        quiet = 0 if events else quiet + 1
        if quiet >= KEEPALIVE_POLLS:
            quiet = 0
            yield ": keep-alive\n\n"
        await asyncio.sleep(POLL_SECONDS)


@router.get("/events")
def events(
    request: Request, sessions: SessionsDep, agent: CurrentAgent, handoff: RowId | None = None, after: RowId = 0
) -> StreamingResponse:
    """The changes since message ``after`` of ``handoff``, and of the queue; a malformed query is a 422."""
    return StreamingResponse(
        _stream(request, sessions, handoff, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
