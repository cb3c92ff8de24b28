"""Knowledge gaps in the console: grouped and counted, and answered by a new entry that the
bot can then find, with the real embedding model rebuilding the index."""

from __future__ import annotations

import re
import shutil
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from bot.console.app import create_app
from bot.db.models import KbGap
from bot.db.session import sessions_for
from bot.service.agents import add_agent
from bot.settings import load_settings
from knowledge.service import KnowledgeBase
from tests.test_console_auth import csrf_of, sign_in

pytestmark = pytest.mark.slow

ASKED = [
    "do you deliver to antarctica",
    "can you ship to Antarctica?",
    "delivery to antarctica possible?",
    "can I pay with seashells",
]


@pytest.fixture
def setup(db_url, tmp_path):
    sources = tmp_path / "sources"
    shutil.copytree("tests/data/kb", sources)
    with sessions_for(db_url).begin() as session:
        add_agent(session, username="anna", display_name="Anna", role="agent", password="anna-password")
        for n, question in enumerate(ASKED):
            session.add(
                KbGap(
                    sender_id=f"s{n}",
                    tier="normal",
                    language="en",
                    question=question,
                    created_at=datetime(2026, 11, 20, 10, n),
                )
            )
    settings = load_settings(
        {
            "BOT_DEMO": "1",
            "DATABASE_URL": db_url,
            "KB_SOURCES": str(sources),
            "KB_DIR": str(tmp_path / "kb"),
            "RASA_PORT": "9",
        }
    )
    with TestClient(create_app(settings)) as client:
        sign_in(client, "anna", "anna-password")
        yield client, settings, db_url


def test_gaps_are_grouped_and_a_new_entry_answers_them(setup):
    client, settings, db_url = setup
    page = client.get("/gaps").text
    groups = re.findall(r'<section class="card gap" data-count="(\d+)">', page)
    assert groups == ["3", "1"]
    gap_ids = re.findall(r'name="gap_id" value="(\d+)"', page.split('data-count="1"')[0])

    refused = client.post(
        "/gaps/add", data={"entry_id": "Bad Id", "question_en": "x", "answer_en": "y", "csrf_token": csrf_of(client)}
    )
    assert refused.status_code == 422 and "id" in refused.text

    added = client.post(
        "/gaps/add",
        data={
            "entry_id": "shipping-antarctica",
            "csrf_token": csrf_of(client),
            "gap_id": gap_ids,
            "question_en": "Do you deliver to Antarctica?",
            "answer_en": "Sorry, we can't deliver to Antarctica.",
            "question_zh": "能寄到南极吗？",
            "answer_zh": "抱歉，我们暂不配送南极。",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    after = client.get(added.headers["location"]).text
    assert "Added shipping-antarctica" in after
    assert re.findall(r'data-count="(\d+)"', after) == ["1"]
    with sessions_for(db_url)() as session:
        assert {g.resolved_entry_id for g in session.query(KbGap)} == {"shipping-antarctica", None}

    best = KnowledgeBase(settings.kb_dir).searcher().search("can I get a parcel sent to antarctica", k=1).best
    assert best.entry.id == "shipping-antarctica"
    assert "shipping-antarctica" in (settings.kb_sources[0] / "added.yml").read_text(encoding="utf-8")
