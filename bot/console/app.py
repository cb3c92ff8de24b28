"""The console web app: the agents' pages and API.

What agents write is stored and left to the worker (bot/worker) to deliver, so no
request here waits on Rasa.

Every page and API needs a signed-in agent (or an agent's API token); only
``/health``, the sign-in page and, in demo mode, the demo shop are open.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from python_multipart.exceptions import FormParserError

from bot.console.routes import analytics, auth, events, gaps, handoffs, queue, shop, status, tickets
from bot.console.security import NotSignedIn
from bot.db.session import sessions_for
from bot.service.tiers import load_tiers
from bot.settings import Settings, load_settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    sessions = sessions_for(settings.database_url)
    tiers = load_tiers(settings.tiers_file)
    app = FastAPI(title="Tiered service console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.tiers = tiers
    app.include_router(queue.api)
    app.include_router(handoffs.api)
    for routes in (auth, queue, handoffs, tickets, gaps, analytics, status, events, shop):
        app.include_router(routes.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.exception_handler(NotSignedIn)
    async def to_sign_in(request: Request, exc: NotSignedIn) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(FormParserError)
    async def malformed_form(request: Request, exc: FormParserError) -> Response:
        # Starlette before 1.0 (FastAPI 0.128 takes no later) lets python-multipart's error on a
        # broken form body through as a 500; the client's body is at fault.
        return JSONResponse({"detail": "malformed form"}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI's own answer, but Python's JSON parser takes NaN and Infinity, which JSON has
        # not: echoed back as the refused input they would turn the 422 into a 500.
        return JSONResponse({"detail": _json_safe(jsonable_encoder(exc.errors()))}, status_code=422)

    @app.middleware("http")
    async def no_framing(request: Request, call_next) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    return app


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value
