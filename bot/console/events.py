"""Server-sent events: the queue and a conversation, live, without reloading the page.

The action server writes handoffs and customer messages to the database, so the
stream watches the database: once a second it compares what a page shows with
what is there and sends only the changes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.console.api import RowId
from bot.console.auth import AgentDep
from bot.db.models import Handoff, HandoffMessage
from bot.service.handoffs import OPEN

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
POLL_SECONDS = 1.0
# A comment line now and then keeps proxies from closing a quiet stream.
KEEPALIVE_POLLS = 15


def _queue_state(session: Session) -> tuple[tuple[Any, ...], ...]:
    return tuple(session.execute(select(Handoff.id, Handoff.status).where(Handoff.status.in_(OPEN))).tuples())


def _new_messages(session: Session, handoff_id: int, after: int) -> tuple[list[dict[str, Any]], str | None]:
    rows = session.scalars(
        select(HandoffMessage).where(HandoffMessage.handoff_id == handoff_id, HandoffMessage.id > after).order_by(HandoffMessage.id)
    ).all()
    handoff = session.get(Handoff, handoff_id)
    messages = [
        {"id": m.id, "author": m.author, "text": m.text, "at": m.created_at.isoformat() + "Z", "delivered": m.delivered_at is not None}
        for m in rows
    ]
    return messages, handoff.status if handoff else None


def _event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _stream(
    request: Request, sessions: sessionmaker[Session], handoff_id: int | None, after: int
) -> AsyncIterator[str]:
    def look(state: dict[str, Any]) -> list[str]:
        out = []
        with sessions() as session:
            queue = _queue_state(session)
            if queue != state.get("queue"):
                seen = {row[0] for row in state.get("queue") or ()}
                new = [row[0] for row in queue if row[0] not in seen and row[1] == "waiting"]
                if "queue" in state and new:
                    out.append(_event("escalation", {"ids": new}))
                state["queue"] = queue
                out.append(_event("queue", {"size": len(queue)}))
            if handoff_id is not None:
                messages, status = _new_messages(session, handoff_id, state.get("after", 0))
                if messages:
                    state["after"] = messages[-1]["id"]
                    out.append(_event("messages", messages))
                if status != state.get("status"):
                    state["status"] = status
                    out.append(_event("status", {"status": status}))
        return out

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
def events(request: Request, agent: AgentDep, handoff: RowId | None = None, after: RowId = 0) -> StreamingResponse:
    """The changes since message ``after`` of ``handoff``, and of the queue; a malformed query is a 422."""
    return StreamingResponse(
        _stream(request, request.app.state.sessions, handoff, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
