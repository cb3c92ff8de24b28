"""The console's pages: sign-in, the queue, a conversation, tickets, knowledge gaps, analytics."""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from bot.console.api import RowId
from bot.console.auth import (
    LOGIN_CSRF_COOKIE,
    SessionDep,
    SupervisorDep,
    check_csrf,
    csrf_token,
    end_cookie_session,
    page_agent,
    require_csrf,
    served_over_https,
    start_cookie_session,
)
from bot.console.charts import OUTCOME_COLOURS, column_chart, stacked_bars
from bot.console.i18n import LANG_COOKIE, LANGUAGES, language_of, translate
from bot.db.models import Agent, Customer, Handoff, utcnow
from bot.service.agents import FAILURE_WINDOW, MAX_PASSWORD, TooManyFailures, sign_in
from bot.service.analytics import build_report
from bot.service.complaints import TICKET_CATEGORIES, category_label
from bot.service.customers import way_up
from bot.service.gaps import (
    GapError,
    add_entry,
    group_gaps,
    knowledge_questions,
    rebuild_index,
    resolve_gaps,
)
from bot.service.handoffs import OPEN, queue, queue_position
from bot.service.tickets import STATUSES, filter_tickets, update_ticket

__all__ = ["router", "templates"]

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
PageAgent = Annotated[Agent, Depends(page_agent)]

QUICK_REPLIES = {
    "en": [
        "Hello, this is {agent} from Lumo Shop. I'm looking into it now.",
        "Could you tell me the order number, please?",
        "I've arranged it for you; you'll get a text message shortly.",
        "Is there anything else I can help you with?",
    ],
    "zh": [
        "您好，我是露莫商城客服{agent}，正在为您查看。",
        "请提供一下订单号，谢谢。",
        "已经为您处理好了，稍后会收到短信通知。",
        "请问还有其他可以帮您的吗？",
    ],
}


def render(request: Request, name: str, agent: Agent | None, **context: Any) -> HTMLResponse:
    lang = language_of(request)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "agent": agent,
            "lang": lang,
            "languages": LANGUAGES,
            "t": lambda key, **values: translate(lang, key, **values),
            "csrf": csrf_token(request),
            "category_label": lambda c: category_label(c, lang),
            "tier_label": lambda t: _tier_label(request, t, lang),
            **context,
        },
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


def _tier_label(request: Request, tier_id: str, lang: str) -> str:
    tier = request.app.state.tiers.get(tier_id)
    return tier.label_in(lang) if tier else tier_id


# Sign-in --------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, error: bool = False) -> HTMLResponse:
    message = translate(language_of(request), "bad_login") if error else None
    return _login_form(request, message, request.query_params.get("next"))


def _login_form(
    request: Request, error: str | None, next: str | None, status_code: int = status.HTTP_200_OK
) -> HTMLResponse:
    request.state.csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", None, error=error, next=_safe_next(next))
    response.status_code = status_code
    response.set_cookie(
        LOGIN_CSRF_COOKIE, request.state.csrf, httponly=True, samesite="strict", max_age=3600,
        secure=served_over_https(request),
    )
    return response


def _safe_next(target: str | None) -> str:
    # Only paths of this site: an open redirect would let a link sign an agent in elsewhere.
    return target if target and target.startswith("/") and not target.startswith("//") else "/queue"


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=MAX_PASSWORD)],
    csrf_token: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/queue",
) -> Response:
    check_csrf(request.cookies.get(LOGIN_CSRF_COOKIE, ""), csrf_token)
    address = request.client.host if request.client else ""
    try:
        agent = sign_in(session, username=username.strip().lower(), password=password, address=address)
    except TooManyFailures:
        minutes = int(FAILURE_WINDOW.total_seconds() // 60)
        message = translate(language_of(request), "too_many_sign_ins", minutes=minutes)
        response = _login_form(request, message, next, status.HTTP_429_TOO_MANY_REQUESTS)
        response.headers["Retry-After"] = str(minutes * 60)
        return response
    if agent is None:
        response = RedirectResponse(f"/login?error=1&next={quote(_safe_next(next))}", status.HTTP_303_SEE_OTHER)
    else:
        response = RedirectResponse(_safe_next(next), status.HTTP_303_SEE_OTHER)
        start_cookie_session(request, response, session, agent)
        response.delete_cookie(LOGIN_CSRF_COOKIE)
    session.commit()
    return response


@router.post("/logout", dependencies=[Depends(require_csrf)])
def logout(request: Request, session: SessionDep, agent: PageAgent) -> Response:
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    end_cookie_session(request, response, session)
    session.commit()
    return response


# The queue and a conversation ----------------------------------------------


@router.get("/")
def home(agent: PageAgent) -> Response:
    return RedirectResponse("/queue", status.HTTP_303_SEE_OTHER)


def queue_rows(session: Any) -> list[dict[str, Any]]:
    rows = []
    now = utcnow()
    for handoff in queue(session, OPEN):
        customer = (handoff.packet or {}).get("customer") or {}
        rows.append(
            {
                "handoff": handoff,
                "name": customer.get("name"),
                "position": queue_position(session, handoff) if handoff.status == "waiting" else None,
                "since": int(((handoff.accepted_at or now) - handoff.created_at).total_seconds()),
                "created": handoff.created_at.isoformat() + "Z",
            }
        )
    return rows


@router.get("/queue")
def queue_page(request: Request, session: SessionDep, agent: PageAgent) -> HTMLResponse:
    return render(request, "queue.html", agent, rows=queue_rows(session))


@router.get("/queue/rows")
def queue_partial(request: Request, session: SessionDep, agent: PageAgent) -> HTMLResponse:
    """The queue table's rows, refreshed by the page when the server says the queue changed."""
    return render(request, "queue_rows.html", agent, rows=queue_rows(session))


@router.get("/handoffs/{handoff_id}")
def handoff_page(handoff_id: RowId, request: Request, session: SessionDep, agent: PageAgent) -> HTMLResponse:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, translate(language_of(request), "not_found"))
    packet = handoff.packet or {}
    facts = packet.get("customer") or {}
    next_tier = None
    if handoff.customer_id and session.get(Customer, handoff.customer_id):
        tiers = request.app.state.tiers
        up = way_up(session, customer_id=handoff.customer_id, tier=tiers.get(handoff.tier), tiers=tiers, today=date.today())
        if up is not None:
            above, gap = up
            next_tier = {"tier": above.id, "orders": gap.orders, "spend": gap.spend}
    lang = language_of(request)
    quick = [q.format(agent=agent.display_name) for q in QUICK_REPLIES[lang if lang in QUICK_REPLIES else "en"]]
    return render(
        request, "handoff.html", agent, handoff=handoff, packet=packet, facts=facts, next_tier=next_tier,
        messages=handoff.messages, quick_replies=quick,
    )


# Tickets ---------------------------------------------------------------------


@router.get("/tickets")
def tickets_page(
    request: Request,
    session: SessionDep,
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
        request, "tickets.html", agent, tickets=tickets, chosen=chosen, statuses=STATUSES,
        tiers=[t.id for t in request.app.state.tiers.tiers], categories=list(TICKET_CATEGORIES), now=utcnow(),
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


# Knowledge gaps ----------------------------------------------------------------


def _sources_dir(settings: Any) -> Path:
    first = settings.kb_sources[0]
    return first if first.is_dir() else first.parent


@router.get("/gaps")
def gaps_page(request: Request, session: SessionDep, agent: PageAgent, added: str = "", build: str = "") -> HTMLResponse:
    settings = request.app.state.settings
    groups = group_gaps(session, background=knowledge_questions(settings.kb_sources))
    return render(request, "gaps.html", agent, groups=groups, added=added, build=build, error=None, form={})


@router.post("/gaps/add", dependencies=[Depends(require_csrf)])
async def add_gap_entry(request: Request, agent: PageAgent) -> Response:
    """Writes the agent's entry to the sources, rebuilds the index, and marks the gaps answered."""
    settings = request.app.state.settings
    form = await request.form()
    field = lambda name: str(form.get(name) or "").strip()  # noqa: E731
    entry_id = field("entry_id")
    questions = {lang: field(f"question_{lang}") for lang in ("zh", "en") if field(f"question_{lang}")}
    answers = {lang: field(f"answer_{lang}") for lang in ("zh", "en") if field(f"answer_{lang}")}
    # Ids as the page wrote them: isdigit() would pass "²", which int() refuses.
    gap_ids = [int(g) for g in form.getlist("gap_id") if re.fullmatch(r"[0-9]{1,18}", str(g))]
    try:
        add_entry(
            _sources_dir(settings), entry_id=entry_id, questions=questions, answers=answers,
            known_tiers=[t.id for t in request.app.state.tiers.tiers],
        )
        build_id = await asyncio.to_thread(rebuild_index, settings)
    except GapError as error:
        with request.app.state.sessions() as session:
            groups = group_gaps(session, background=knowledge_questions(settings.kb_sources))
        response = render(request, "gaps.html", agent, groups=groups, added="", build="", error=str(error), form=dict(form))
        response.status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
        return response
    with request.app.state.sessions.begin() as session:
        resolve_gaps(session, gap_ids, entry_id)
    return RedirectResponse(f"/gaps?added={quote(entry_id)}&build={quote(build_id)}", status.HTTP_303_SEE_OTHER)


# Analytics -------------------------------------------------------------------


def _date(raw: str, default: date) -> date:
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"not a date: {raw!r}") from None


@router.get("/analytics")
def analytics_page(
    request: Request, session: SessionDep, agent: SupervisorDep, since: str = "", until: str = ""
) -> HTMLResponse:
    settings, tiers = request.app.state.settings, request.app.state.tiers
    zone = settings.hours.zone
    today = datetime.now(zone).date()
    start, last = _date(since, today - timedelta(days=6)), _date(until, today)
    if start > last:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the start must not be after the end")
    # The report runs to the day after the last one, and the calendar has none after its last.
    if last == date.max:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"the end must be before {date.max}")
    end = last + timedelta(days=1)
    try:
        report = build_report(session, since=start, until=end, zone=zone, tier_order=[t.id for t in tiers.tiers])
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
    lang = language_of(request)
    by_tier = [
        (_tier_label(request, total.tier, lang), {key: getattr(total.figures, key) for key in OUTCOME_COLOURS})
        for total in report.totals
        if total.figures.conversations
    ]
    per_day: dict[date, int] = {}
    for row in report.days:
        per_day[row.day] = per_day.get(row.day, 0) + row.figures.conversations
    days = [(f"{d:%m-%d}", per_day.get(d, 0)) for d in (start + timedelta(days=n) for n in range((end - start).days))]
    return render(
        request, "analytics.html", agent, report=report, since=start, until=last,
        tier_chart=stacked_bars(by_tier, OUTCOME_COLOURS), day_chart=column_chart(days), colours=OUTCOME_COLOURS,
    )


# Status ----------------------------------------------------------------------


@router.get("/status")
async def status_page(request: Request, agent: PageAgent) -> HTMLResponse:
    settings = request.app.state.settings
    checks = {
        "Rasa server": f"{settings.rasa_url}/",
        "Action server": settings.action_server_url.removesuffix("/webhook") + "/health",
    }
    rows = []
    async with httpx.AsyncClient(timeout=2) as client:
        for name, url in checks.items():
            try:
                up = (await client.get(url)).status_code == 200
            except httpx.HTTPError:
                up = False
            rows.append((name, up))
    return render(request, "status.html", agent, rows=rows, hours=settings.hours.describe())

