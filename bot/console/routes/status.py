"""Whether the console is up (``/health``, open to load balancers) and, for agents, whether the
Rasa server and the action server answer, and the service hours."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot.console.deps import PageAgent, SettingsDep
from bot.console.render import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/health")
def read_health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/status")
async def status_page(request: Request, settings: SettingsDep, agent: PageAgent) -> HTMLResponse:
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
