"""Tickets: the list agents work, filtered by status, tier and category, and a status change with a note."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.clock import utcnow
from bot.console.deps import PageAgent, SessionDep, TiersDep, require_csrf
from bot.console.render import render
from bot.console.schemas import RowId
from bot.service.complaints import TICKET_CATEGORIES
from bot.service.tickets import STATUSES, filter_tickets, update_ticket

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/tickets")
def tickets_page(
    request: Request,
    session: SessionDep,
    tiers: TiersDep,
    agent: PageAgent,
    status_: Annotated[str, Query(alias="status")] = "",
    tier: str = "",
    category: str = "",
) -> HTMLResponse:
    chosen = {"status": status_ or "open,in_progress", "tier": tier, "category": category}
    tickets = filter_tickets(
        session,
        statuses=[s for s in chosen["status"].split(",") if s],
        tiers=[t for t in tier.split(",") if t],
        categories=[c for c in category.split(",") if c],
    )
    return render(
        request,
        "tickets.html",
        agent,
        tickets=tickets,
        chosen=chosen,
        statuses=STATUSES,
        tiers=[t.id for t in tiers.tiers],
        categories=list(TICKET_CATEGORIES),
        now=utcnow(),
    )


@router.post("/tickets/{ticket_id}/status", dependencies=[Depends(require_csrf)])
def change_ticket(
    ticket_id: RowId,
    request: Request,
    session: SessionDep,
    agent: PageAgent,
    new_status: Annotated[str, Form(alias="status")] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    try:
        update_ticket(session, ticket_id, agent, status=new_status, note=note)
        session.commit()
    except LookupError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no ticket {ticket_id}") from None
    except ValueError as error:
        session.rollback()
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
    return RedirectResponse(request.headers.get("referer") or "/tickets", status.HTTP_303_SEE_OTHER)
