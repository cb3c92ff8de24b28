"""The demo shop: the company's site, with the chat widget, signing in as any demo customer.

It plays the part of the company's own site, which knows who is signed in and
signs a customer token for the widget. Letting a visitor pick who they are is
only for a demo, so the page exists only in demo mode.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy import func, select

from bot.console.i18n import language_of
from bot.console.pages import render
from bot.db.models import Customer
from bot.tokens import sign_token

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _demo_only(request: Request) -> None:
    if not request.app.state.settings.demo_mode:
        raise HTTPException(status.HTTP_404_NOT_FOUND)


def _one_customer_per_tier(request: Request) -> list[tuple[str, Customer]]:
    tiers = request.app.state.tiers
    with request.app.state.sessions() as session:
        rows = session.execute(select(Customer.tier, func.min(Customer.id)).group_by(Customer.tier))
        firsts = {tier: customer_id for tier, customer_id in rows}
        return [(t.id, session.get(Customer, firsts[t.id])) for t in tiers.tiers if t.id in firsts]


@router.get("/shop")
def shop(request: Request, customer: str = "") -> HTMLResponse:
    _demo_only(request)
    settings = request.app.state.settings
    lang = language_of(request)
    choices = _one_customer_per_tier(request)
    with request.app.state.sessions() as session:
        signed_in = session.get(Customer, customer) if customer else None
    custom_data: dict[str, str] = {"language": lang}
    if signed_in is not None:
        custom_data["token"] = sign_token(settings.identity_secret, signed_in.id, settings.token_ttl_seconds)
    return render(
        request, "shop.html", None, choices=choices, customer=signed_in, custom_data=custom_data,
        socket_url=settings.public_rasa_url,
    )


@router.get("/shop/webchat.js")
def webchat(request: Request) -> FileResponse:
    _demo_only(request)
    path = request.app.state.settings.webchat_js
    if not path.exists():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"the widget is not installed at {path}: run `make run`")
    return FileResponse(path, media_type="text/javascript")
