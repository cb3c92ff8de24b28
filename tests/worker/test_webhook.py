"""Each new escalation is announced to the chat tool agents use, once."""

from __future__ import annotations

import httpx

from bot.db.session import sessions_for
from bot.worker.__main__ import jobs
from bot.worker.webhook import EscalationWebhook


def test_each_new_escalation_is_posted_to_the_webhook_once(db_url, queue_one, hook):
    url, received = hook
    queue_one("before-start")
    webhook = EscalationWebhook(httpx.Client(), url=url, console_url="http://console.example")

    def announce() -> int:
        with sessions_for(db_url)() as session:
            return webhook(session)

    assert announce() == 0  # what was queued before the worker started is not announced
    handoff_id = queue_one("s1")
    assert announce() == 1 and announce() == 0
    [posted] = received
    assert posted["id"] == handoff_id and posted["tier"] == "vip" and "Victoria" in posted["text"]
    assert posted["url"] == f"http://console.example/handoffs/{handoff_id}"


def test_without_a_webhook_url_the_worker_posts_nothing(settings_for, tiers, hook):
    url, _ = hook
    assert "escalation webhook" not in jobs(settings_for(), tiers, httpx.Client())
    assert "escalation webhook" in jobs(settings_for(ESCALATION_WEBHOOK_URL=url), tiers, httpx.Client())
