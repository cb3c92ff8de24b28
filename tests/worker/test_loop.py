"""The worker's passes: every job in turn, one failing job holding up no other, a stop ending them."""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
from sqlalchemy import update

from bot.db.models import Handoff, utcnow
from bot.db.session import sessions_for
from bot.worker.__main__ import jobs
from bot.worker.loop import Loop


def test_a_handoff_nobody_took_becomes_a_ticket_and_the_customer_hears_of_it_in_the_same_pass(
    db_url, settings_for, tiers, queue_one, rasa
):
    url, taken, _ = rasa
    handoff_id = queue_one("late")
    with sessions_for(db_url).begin() as session:
        an_hour_ago = utcnow() - timedelta(hours=1)
        session.execute(update(Handoff).where(Handoff.id == handoff_id).values(created_at=an_hour_ago))
    settings = settings_for(RASA_URL=url, HANDOFF_TIMEOUT_MINUTES="10")
    Loop(sessions_for(db_url), jobs(settings, tiers, httpx.Client()), interval=60).run_once()
    with sessions_for(db_url)() as session:
        handoff = session.get(Handoff, handoff_id)
        assert handoff.status == "expired" and handoff.ticket is not None
    assert taken == [("late", "handoff_event")]


def test_a_failing_job_holds_up_neither_the_others_nor_the_next_pass(db_url):
    ran: list[str] = []

    def broken(session) -> int:
        ran.append("broken")
        raise RuntimeError("a bug")

    def fine(session) -> int:
        ran.append("fine")
        return 1

    loop = Loop(sessions_for(db_url), {"broken": broken, "fine": fine}, interval=60)
    loop.run_once()
    loop.run_once()
    assert ran == ["broken", "fine"] * 2


def test_a_wake_starts_the_next_pass_at_once_and_a_stop_ends_the_loop(db_url):
    passes = threading.Semaphore(0)

    def count(session) -> int:
        passes.release()
        return 0

    loop = Loop(sessions_for(db_url), {"count": count}, interval=3600)
    thread = threading.Thread(target=loop.run)
    thread.start()
    assert passes.acquire(timeout=10)
    loop.wake()
    assert passes.acquire(timeout=10)
    loop.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
