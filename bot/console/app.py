"""The console web app: the agents' API, the delivery of their messages, and a status page."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from bot.console.api import router as api_router
from bot.console.delivery import Deliverer
from bot.db.session import sessions_for
from bot.settings import Settings, load_settings
from bot.tiers import load_tiers

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    sessions = sessions_for(settings.database_url)
    deliverer = Deliverer(settings, sessions, load_tiers(settings.tiers_file))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        deliverer.start()
        yield
        deliverer.stop()

    app = FastAPI(title="Tiered service console", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.deliverer = deliverer
    app.include_router(api_router)

    @app.get("/health")
    def read_health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse)
    async def read_status() -> str:
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
                rows.append(f"<tr><td>{html.escape(name)}</td><td>{'up' if up else 'DOWN'}</td></tr>")
        return (
            "<!doctype html><meta charset=utf-8><title>Tiered service console</title>"
            "<h1>Tiered service console</h1><table>" + "".join(rows) + "</table>"
        )

    return app
