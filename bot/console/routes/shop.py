"""The demo shop: the company's site, with the chat widget, signing in as any demo customer.

It plays the part of the company's own site, which knows who is signed in and
signs a customer token for the widget. Letting a visitor pick who they are is
only for a demo, so the page exists only in demo mode.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse

from bot.console.deps import SessionDep, SettingsDep, TiersDep
from bot.console.i18n import language_of
from bot.console.render import render
from bot.service.demo import demo_customer, demo_customers
from bot.tokens import sign_token

__all__ = ["router"]


def _demo_only(settings: SettingsDep) -> None:
    if not settings.demo_mode:
        raise HTTPException(status.HTTP_404_NOT_FOUND)


router = APIRouter(include_in_schema=False, dependencies=[Depends(_demo_only)])


@router.get("/shop")
def shop(
    request: Request, session: SessionDep, settings: SettingsDep, tiers: TiersDep, customer: str = ""
) -> HTMLResponse:
    signed_in = demo_customer(session, customer) if customer else None
    custom_data: dict[str, str] = {"language": language_of(request)}
    if signed_in is not None:
        custom_data["token"] = sign_token(settings.identity_secret, signed_in.id, settings.token_ttl_seconds)
    return render(
        request,
        "shop.html",
        None,
        choices=demo_customers(session, tiers=tiers),
        customer=signed_in,
        custom_data=custom_data,
        socket_url=settings.public_rasa_url,
    )


@router.get("/shop/webchat.js")
def webchat(settings: SettingsDep) -> FileResponse:
    path = settings.webchat_js
    if not path.exists():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"the widget is not installed at {path}: run `make run`")
    return FileResponse(path, media_type="text/javascript")
