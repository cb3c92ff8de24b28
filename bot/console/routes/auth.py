"""Signing in and out of the console."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.console.deps import PageAgent, SessionDep, require_csrf
from bot.console.i18n import language_of, translate
from bot.console.render import render
from bot.console.security import (
    LOGIN_CSRF_COOKIE,
    check_csrf,
    end_cookie_session,
    served_over_https,
    start_cookie_session,
)
from bot.service.agents import FAILURE_WINDOW, MAX_PASSWORD, TooManyFailures, sign_in

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


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
        LOGIN_CSRF_COOKIE,
        request.state.csrf,
        httponly=True,
        samesite="strict",
        max_age=3600,
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
        refused = _login_form(request, message, next, status.HTTP_429_TOO_MANY_REQUESTS)
        refused.headers["Retry-After"] = str(minutes * 60)
        return refused
    response: Response
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
