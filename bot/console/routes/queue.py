"""The queue: waiting and active handoffs by tier priority, then waiting time; as a page, as the
rows the page refreshes when the queue changes, and in the agents' API."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.console.deps import CurrentAgent, PageAgent, SessionDep
from bot.console.render import render
from bot.console.schemas import HandoffSummary
from bot.service.handoffs import OPEN, HandoffView, queue_view

__all__ = ["api", "router"]

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/handoffs", tags=["queue"])


@router.get("/")
def home(agent: PageAgent) -> Response:
    return RedirectResponse("/queue", status.HTTP_303_SEE_OTHER)


@router.get("/queue")
def queue_page(request: Request, session: SessionDep, agent: PageAgent) -> HTMLResponse:
    return render(request, "queue.html", agent, rows=queue_view(session))


@router.get("/queue/rows")
def queue_rows(request: Request, session: SessionDep, agent: PageAgent) -> HTMLResponse:
    """The queue table's rows, refreshed by the page when the server says the queue changed."""
    return render(request, "queue_rows.html", agent, rows=queue_view(session))


@api.get("", response_model=list[HandoffSummary])
def read_queue(session: SessionDep, agent: CurrentAgent, status_filter: str | None = None) -> list[HandoffView]:
    """The queue, or the handoffs in the comma-separated ``status_filter``, in the order agents take them."""
    statuses = tuple(s for s in (status_filter or ",".join(OPEN)).split(",") if s)
    return queue_view(session, statuses)
