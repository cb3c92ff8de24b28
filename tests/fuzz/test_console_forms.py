"""Console forms: any strings or bytes get an answer below 500, and a refusal changes nothing."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.console.app import create_app
from bot.db.models import Agent, Handoff, HandoffMessage, KbGap, Ticket, TicketUpdate
from bot.db.session import sessions_for
from bot.service import gaps
from bot.service.agents import add_agent
from bot.service.handoffs import accept
from bot.settings import ROOT
from tests.factories import console_settings
from tests.fuzz import FUZZ
from tests.test_console_auth import csrf_of, sign_in

TEXT = st.text(max_size=40)
# Form values: any text, or one a field expects, so that some requests get past the first check.
VALUES = TEXT | st.sampled_from(["", "open", "resolved", "refund-time", "fuzz-entry", "1", "²", "9" * 30, "\x00"])
BODIES = st.binary(max_size=200) | TEXT.map(str.encode)
CONTENT_TYPES = st.sampled_from(
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json"]
)


class Console:
    """A supervisor signed in to a console over a database with one conversation of each kind."""

    def __init__(self, client: TestClient, db_url: str, sources: Path) -> None:
        self.client, self.db_url, self.sources = client, db_url, sources
        self.csrf = csrf_of(client)

    def state(self) -> tuple[Any, ...]:
        """Everything a form could change: the rows behind the console, and the knowledge-base sources."""
        with sessions_for(self.db_url)() as session:
            rows = tuple(
                tuple(session.execute(select(*columns)).all())
                for columns in (
                    (Handoff.id, Handoff.status, Handoff.agent_id),
                    (HandoffMessage.id, HandoffMessage.text),
                    (Ticket.id, Ticket.status),
                    (TicketUpdate.id,),
                    (KbGap.id, KbGap.resolved_entry_id),
                    (Agent.id, Agent.password_hash, Agent.active),
                )
            )
        files = tuple(sorted((p.name, p.read_bytes()) for p in self.sources.iterdir()))
        return rows, files

    def post(self, url: str, *, changes: set[int], **kwargs: Any) -> int:
        """Posts; a status outside ``changes`` must leave the state as it was."""
        before = self.state()
        status = self.client.post(url, follow_redirects=False, **kwargs).status_code
        assert status < 500, (url, kwargs)
        if status not in changes:
            assert self.state() == before, (url, status, kwargs)
        return status


@pytest.fixture
def console(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Console]:
    sources = tmp_path / "sources"
    shutil.copytree(ROOT / "tests" / "data" / "kb", sources)
    with sessions_for(db_url).begin() as session:
        sam, _ = add_agent(session, username="sam", display_name="Sam", role="supervisor", password="sam-password")
        for n in range(2):
            session.add(
                Handoff(sender_id=f"s{n}", channel="rest", tier="vip", priority=8, reason="requested", packet={})
            )
        session.add(
            Ticket(
                number="T-1",
                sender_id="s0",
                channel="rest",
                tier="vip",
                category="late_delivery",
                description="late",
                priority=0,
                status="open",
                created_at=datetime(2026, 3, 1),
                sla_due_at=datetime(2026, 3, 2),
            )
        )
        session.add(
            KbGap(sender_id="s0", tier="vip", language="en", question="gift wrap?", created_at=datetime(2026, 3, 1))
        )
        session.flush()
        accept(session, 1, sam)
    settings = console_settings(db_url, KB_SOURCES=str(sources), KB_DIR=str(tmp_path / "kb"))
    # Building an index loads the embedding model: the form is the subject here, not the build.
    monkeypatch.setattr(gaps, "rebuild_index", lambda settings: "fuzz-build")
    with TestClient(create_app(settings)) as client:
        sign_in(client, "sam", "sam-password")
        yield Console(client, db_url, sources)


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(["username", "password", "csrf_token", "next"]), VALUES))
def test_the_sign_in_form_takes_any_fields(console: Console, fields: dict[str, str]):
    # Only a right password signs in, and a failed attempt is recorded, so compare nothing but the status.
    response = console.client.post("/login", data=fields, follow_redirects=False)
    assert response.status_code < 500


@FUZZ
@given(body=BODIES, content_type=CONTENT_TYPES)
def test_the_sign_in_form_takes_any_body(console: Console, body: bytes, content_type: str):
    assert console.client.post("/login", content=body, headers={"content-type": content_type}).status_code < 500


@FUZZ
@given(text=VALUES, body=BODIES, raw=st.booleans(), csrf=st.booleans())
def test_a_reply_of_any_body_is_stored_or_refused(console: Console, text: str, body: bytes, raw: bool, csrf: bool):
    headers = {"X-CSRF-Token": console.csrf if csrf else "wrong", "content-type": "application/json"}
    payload = {"content": body} if raw else {"json": {"text": text}}
    console.post("/api/handoffs/1/messages", changes={201}, headers=headers, **payload)


@FUZZ
@given(
    action=st.sampled_from(["close", "ticket", "accept"]),
    handoff=st.sampled_from(["1", "2", "3", "x", str(2**63)]),
    body=BODIES,
    csrf=st.booleans(),
)
def test_ending_a_handoff_with_any_body_is_done_or_refused(
    console: Console, action: str, handoff: str, body: bytes, csrf: bool
):
    headers = {"X-CSRF-Token": console.csrf if csrf else "wrong", "content-type": "application/json"}
    console.post(f"/api/handoffs/{handoff}/{action}", changes={200}, content=body, headers=headers)


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(["status", "note", "csrf_token"]), VALUES), csrf=st.booleans())
def test_the_ticket_form_takes_any_fields(console: Console, fields: dict[str, str], csrf: bool):
    data = {**fields, **({"csrf_token": console.csrf} if csrf else {})}
    console.post("/tickets/1/status", changes={303}, data=data)


@FUZZ
@given(
    fields=st.dictionaries(
        st.sampled_from(["entry_id", "question_zh", "question_en", "answer_zh", "answer_en", "csrf_token"]), VALUES
    ),
    gap_ids=st.lists(VALUES, max_size=3),
    csrf=st.booleans(),
)
def test_the_gap_answer_form_takes_any_fields(console: Console, fields: dict[str, str], gap_ids: list[str], csrf: bool):
    data = {**fields, "gap_id": gap_ids, **({"csrf_token": console.csrf} if csrf else {})}
    console.post("/gaps/add", changes={303}, data=data)


@FUZZ
@given(body=BODIES, content_type=CONTENT_TYPES, url=st.sampled_from(["/gaps/add", "/tickets/1/status", "/logout"]))
def test_the_page_forms_take_any_body(console: Console, body: bytes, content_type: str, url: str):
    console.post(url, changes=set(), content=body, headers={"content-type": content_type})


@FUZZ
@given(since=VALUES, until=VALUES)
def test_the_analytics_page_takes_any_dates(console: Console, since: str, until: str):
    assert console.client.get("/analytics", params={"since": since, "until": until}).status_code in {200, 422}


def test_an_id_wider_than_the_database_takes_is_a_422(console: Console):
    huge = 2**63
    headers = {"X-CSRF-Token": console.csrf}
    for url in (f"/api/handoffs/{huge}/close", f"/api/handoffs/{huge}/messages"):
        assert console.post(url, changes=set(), headers=headers, json={"text": "hi"}) == 422
    form = {"status": "open", "csrf_token": console.csrf}
    assert console.post(f"/tickets/{huge}/status", changes=set(), data=form) == 422
    assert console.client.get(f"/handoffs/{huge}").status_code == 422


def test_a_gap_id_that_is_no_plain_number_is_ignored(console: Console):
    data = {"entry_id": "", "gap_id": ["²", "9" * 30], "csrf_token": console.csrf}
    assert console.post("/gaps/add", changes=set(), data=data) == 422


def test_a_broken_multipart_body_is_a_400(console: Console):
    headers = {"content-type": "multipart/form-data; boundary=x"}
    assert console.post("/gaps/add", changes=set(), content=b"\x00", headers=headers) == 400
