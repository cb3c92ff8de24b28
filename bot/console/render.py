"""The console's pages drawn from templates, with what every page needs: the agent, the
language and its words, the CSRF token, and labels of tiers and categories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from bot.console.i18n import LANG_COOKIE, LANGUAGES, company_name, language_of, translate
from bot.console.security import csrf_token
from bot.service.agents import AgentView
from bot.service.complaints import category_label

__all__ = ["render", "tier_label"]

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def render(request: Request, name: str, agent: AgentView | None, **context: Any) -> HTMLResponse:
    lang = language_of(request)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "agent": agent,
            "lang": lang,
            "languages": LANGUAGES,
            "t": lambda key, **values: translate(
                lang, key, company=company_name(request.app.state.settings, lang), **values
            ),
            "csrf": csrf_token(request),
            "category_label": lambda c: category_label(c, lang),
            "tier_label": lambda t: tier_label(request, t, lang),
            **context,
        },
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


def tier_label(request: Request, tier_id: str, lang: str) -> str:
    tier = request.app.state.tiers.get(tier_id)
    return tier.label_in(lang) if tier else tier_id
