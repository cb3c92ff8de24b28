"""A handoff: the conversation page, and in the agents' API its record, accept, reply, close and
convert to a ticket. What an agent does is stored; the worker (bot/worker) tells the customer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, TypeVar

from fastapi import APIRouter, Header, HTTPException, Request, status
from fastapi.responses import HTMLResponse

from bot.console.deps import CurrentAgent, PageAgent, SessionDep, SettingsDep, TiersDep
from bot.console.i18n import company_name, language_of, quick_replies, translate
from bot.console.render import render
from bot.console.schemas import HandoffDetail, Message, MessageIn, RowId
from bot.db.session import Session
from bot.service.handoffs import (
    HandoffConflict,
    HandoffNotFound,
    HandoffRecord,
    MessageView,
    accept,
    close,
    convert_to_ticket,
    customer_way_up,
    handoff_record,
    post_agent_message,
)

__all__ = ["api", "router"]

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/handoffs", tags=["handoffs"])
T = TypeVar("T")
# Names a reply, so a tool that sends it again after a lost answer does not post it twice.
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", pattern=r"^[A-Za-z0-9_-]{1,64}$")]


@router.get("/handoffs/{handoff_id}")
def handoff_page(
    handoff_id: RowId, request: Request, session: SessionDep, tiers: TiersDep, settings: SettingsDep, agent: PageAgent
) -> HTMLResponse:
    lang = language_of(request)
    try:
        handoff = handoff_record(session, handoff_id)
    except HandoffNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, translate(lang, "not_found")) from None
    return render(
        request,
        "handoff.html",
        agent,
        handoff=handoff,
        facts=handoff.packet.get("customer") or {},
        way_up=customer_way_up(session, handoff, tiers=tiers, today=date.today()),
        quick_replies=quick_replies(lang, agent.display_name, company_name(settings, lang)),
    )


def _record(session: Session, handoff_id: int) -> HandoffRecord:
    try:
        return handoff_record(session, handoff_id)
    except HandoffNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None


def _committed(session: Session, change: Callable[[], T]) -> T:
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
    # The answer must show what was stored, and the session keeps what the change loaded as it was then.
    session.expire_all()
    return result


@api.get("/{handoff_id}", response_model=HandoffDetail)
def read_handoff(handoff_id: RowId, session: SessionDep, agent: CurrentAgent) -> HandoffRecord:
    return _record(session, handoff_id)


@api.post("/{handoff_id}/accept", response_model=HandoffDetail)
def accept_handoff(handoff_id: RowId, session: SessionDep, agent: CurrentAgent) -> HandoffRecord:
    _committed(session, lambda: accept(session, handoff_id, agent))
    return _record(session, handoff_id)


@api.post("/{handoff_id}/messages", response_model=Message, status_code=status.HTTP_201_CREATED)
def create_message(
    handoff_id: RowId, body: MessageIn, session: SessionDep, agent: CurrentAgent, key: IdempotencyKey = None
) -> MessageView:
    """Stores the reply for the worker to deliver; ``delivered`` is false until Rasa has taken it.

    Sent again with the same ``Idempotency-Key`` (after a lost answer), it is the message stored the first time.
    """
    message = _committed(session, lambda: post_agent_message(session, handoff_id, agent, body.text, key))
    return MessageView.of(message)


@api.post("/{handoff_id}/close", response_model=HandoffDetail)
def close_handoff(handoff_id: RowId, session: SessionDep, agent: CurrentAgent) -> HandoffRecord:
    _committed(session, lambda: close(session, handoff_id, agent))
    return _record(session, handoff_id)


@api.post("/{handoff_id}/ticket", response_model=HandoffDetail)
def convert_handoff(handoff_id: RowId, session: SessionDep, tiers: TiersDep, agent: CurrentAgent) -> HandoffRecord:
    """Ends the handoff as a ticket drafted from the conversation; the customer is told its number."""
    _committed(session, lambda: convert_to_ticket(session, handoff_id, agent, tiers=tiers))
    return _record(session, handoff_id)
