"""The console web app: the agents' pages and API.

What agents write is stored and left to the worker (bot/worker) to deliver, so no
request here waits on Rasa.

Every page and API needs a signed-in agent (or an agent's API token); only
``/health``, the sign-in page and, in demo mode, the demo shop are open.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from python_multipart.exceptions import FormParserError

from bot.console import api, events, pages, shop
from bot.console.auth import NotSignedIn
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
    app.include_router(api.router)
    app.include_router(events.router)
    app.include_router(pages.router)
    app.include_router(shop.router)
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

    @app.middleware("http")
    async def no_framing(request: Request, call_next) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    @app.get("/health", include_in_schema=False)
    def read_health() -> dict[str, str]:
        return {"status": "ok"}

    return app
