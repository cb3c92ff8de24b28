"""Knowledge gaps: the questions the bot could not answer, grouped, and an agent's answer to a group."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.console.deps import PageAgent, SessionDep, SessionsDep, SettingsDep, TiersDep, require_csrf
from bot.console.render import render
from bot.service.gaps import GapError, add_answer, groups_to_answer, resolve_gaps

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/gaps")
def gaps_page(
    request: Request, session: SessionDep, settings: SettingsDep, agent: PageAgent, added: str = "", build: str = ""
) -> HTMLResponse:
    groups = groups_to_answer(session, settings)
    return render(request, "gaps.html", agent, groups=groups, added=added, build=build, error=None, form={})


@router.post("/gaps/add", dependencies=[Depends(require_csrf)])
async def add_gap_entry(
    request: Request, sessions: SessionsDep, settings: SettingsDep, tiers: TiersDep, agent: PageAgent
) -> Response:
    """Writes the agent's entry to the sources, rebuilds the index, and marks the gaps answered."""
    form = await request.form()
    field = lambda name: str(form.get(name) or "").strip()  # noqa: E731
    entry_id = field("entry_id")
    questions = {lang: field(f"question_{lang}") for lang in ("zh", "en") if field(f"question_{lang}")}
    answers = {lang: field(f"answer_{lang}") for lang in ("zh", "en") if field(f"answer_{lang}")}
    # Ids as the page wrote them: isdigit() would pass "²", which int() refuses.
    gap_ids = [int(g) for g in form.getlist("gap_id") if isinstance(g, str) and re.fullmatch(r"[0-9]{1,18}", g)]
    try:
        # The build embeds every question; in a thread, other requests are served meanwhile.
        build_id = await asyncio.to_thread(
            add_answer,
            settings,
            entry_id=entry_id,
            questions=questions,
            answers=answers,
            known_tiers=[t.id for t in tiers.tiers],
        )
    except GapError as error:
        with sessions() as session:
            groups = groups_to_answer(session, settings)
        response = render(
            request, "gaps.html", agent, groups=groups, added="", build="", error=str(error), form=dict(form)
        )
        response.status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
        return response
    with sessions.begin() as session:
        resolve_gaps(session, gap_ids, entry_id)
    return RedirectResponse(f"/gaps?added={quote(entry_id)}&build={quote(build_id)}", status.HTTP_303_SEE_OTHER)
