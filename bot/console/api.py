"""The agents' HTTP API: the queue, a handoff's record, accept, reply and close.

Every route needs an agent's API token (``Authorization: Bearer ...``), or the
console's session cookie with its CSRF token in ``X-CSRF-Token`` on writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bot.console.auth import AgentDep, SessionDep
from bot.db.models import Handoff, HandoffMessage, utcnow
from bot.service.handoffs import (
    MAX_MESSAGE,
    OPEN,
    WAITING,
    HandoffConflict,
    HandoffNotFound,
    accept,
    close,
    convert_to_ticket,
    post_agent_message,
    queue,
    queue_position,
)

__all__ = ["RowId", "router"]

router = APIRouter(prefix="/api", tags=["agents"])
# A row's id in a path or a query: SQLite raises on an integer wider than 64 bits instead
# of finding nothing.
RowId = Annotated[int, Field(ge=0, lt=2**63)]


class MessageIn(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_MESSAGE)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() + "Z" if moment else None


def _summary(session: Session, handoff: Handoff) -> dict[str, Any]:
    customer = (handoff.packet or {}).get("customer") or {}
    return {
        "id": handoff.id,
        "status": handoff.status,
        "tier": handoff.tier,
        "priority": handoff.priority,
        "reason": handoff.reason,
        "summary": handoff.summary,
        "customer_id": handoff.customer_id,
        "customer_name": customer.get("name"),
        "language": handoff.language,
        "channel": handoff.channel,
        "position": queue_position(session, handoff) if handoff.status == WAITING else None,
        "waiting_seconds": int(((handoff.accepted_at or utcnow()) - handoff.created_at).total_seconds()),
        "agent": handoff.agent.username if handoff.agent else None,
        "created_at": _iso(handoff.created_at),
        "accepted_at": _iso(handoff.accepted_at),
        "closed_at": _iso(handoff.closed_at),
        "ticket": handoff.ticket.number if handoff.ticket else None,
        "rating": handoff.rating,
    }


def _message(message: HandoffMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "author": message.author,
        "text": message.text,
        "created_at": _iso(message.created_at),
        "delivered": message.delivered_at is not None,
    }


def _detail(session: Session, handoff: Handoff) -> dict[str, Any]:
    return {**_summary(session, handoff), "packet": handoff.packet, "messages": [_message(m) for m in handoff.messages]}


def _handoff(session: Session, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no handoff {handoff_id}")
    return handoff


def _change(session: Session, change: Any) -> Any:
    """Runs a state change and commits it; what it queued for the customer, the worker delivers."""
    try:
        result = change()
        session.commit()
    except HandoffNotFound as error:
        session.rollback()
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    except HandoffConflict as error:
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    except ValueError as error:
        session.rollback()
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
    return result


@router.get("/handoffs")
def list_handoffs(session: SessionDep, agent: AgentDep, status_filter: str | None = None) -> list[dict[str, Any]]:
    """The queue: waiting and active handoffs by tier priority, then waiting time."""
    statuses = tuple(s for s in (status_filter or ",".join(OPEN)).split(",") if s)
    return [_summary(session, h) for h in queue(session, statuses)]


@router.get("/handoffs/{handoff_id}")
def read_handoff(handoff_id: RowId, session: SessionDep, agent: AgentDep) -> dict[str, Any]:
    return _detail(session, _handoff(session, handoff_id))


@router.post("/handoffs/{handoff_id}/accept")
def accept_handoff(handoff_id: RowId, session: SessionDep, agent: AgentDep) -> dict[str, Any]:
    _change(session, lambda: accept(session, handoff_id, agent))
    session.expire_all()
    return _detail(session, _handoff(session, handoff_id))


@router.post("/handoffs/{handoff_id}/messages", status_code=status.HTTP_201_CREATED)
def send_message(handoff_id: RowId, body: MessageIn, session: SessionDep, agent: AgentDep) -> dict[str, Any]:
    """Stores the reply for the worker to deliver; ``delivered`` is false until Rasa has taken it."""
    message = _change(session, lambda: post_agent_message(session, handoff_id, agent, body.text))
    session.expire_all()
    return _message(session.get(HandoffMessage, message.id))


@router.post("/handoffs/{handoff_id}/close")
def close_handoff(handoff_id: RowId, session: SessionDep, agent: AgentDep) -> dict[str, Any]:
    _change(session, lambda: close(session, handoff_id, agent))
    session.expire_all()
    return _detail(session, _handoff(session, handoff_id))


@router.post("/handoffs/{handoff_id}/ticket")
def convert_handoff(handoff_id: RowId, request: Request, session: SessionDep, agent: AgentDep) -> dict[str, Any]:
    """Ends the handoff as a ticket drafted from the conversation; the customer is told its number."""
    tiers = request.app.state.tiers
    _change(session, lambda: convert_to_ticket(session, handoff_id, agent, tiers=tiers))
    session.expire_all()
    return _detail(session, _handoff(session, handoff_id))
