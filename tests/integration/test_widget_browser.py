"""The demo shop's chat widget (rasa-webchat, from npm) in headless Debian chromium.

A guest asks in Chinese and gets the knowledge base's Chinese answer; a VIP asks
for a person, an agent answers through the agents' API, and the reply shows in
the widget; a reload keeps the conversation. Screenshots go to test-output/widget/.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from bot.db.models import Handoff
from bot.db.session import sessions_for
from bot.settings import ROOT
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.slow

SHOTS = ROOT / "test-output" / "widget"


def open_chat(page: Page, stack, query: str) -> None:
    page.goto(f"{stack.console_url}/shop?{query}")
    page.locator(".rw-launcher").click()
    expect(page.locator(".rw-new-message")).to_be_visible()


def say(page: Page, text: str) -> None:
    page.locator(".rw-new-message").fill(text)
    page.locator(".rw-new-message").press("Enter")


def test_a_guest_asks_in_chinese_and_gets_the_chinese_answer(stack, page):
    SHOTS.mkdir(parents=True, exist_ok=True)
    open_chat(page, stack, "lang=zh")
    expect(page.locator(".rw-response").first).to_contain_text("欢迎来到露莫商城")
    say(page, "退款一般几天能到账啊")
    expect(page.locator(".rw-response", has_text="1–3 个工作日到账")).to_be_visible()
    expect(page.get_by_text("有帮助", exact=True)).to_be_visible()
    page.screenshot(path=str(SHOTS / "guest-chinese.png"))


def test_a_vip_reaches_a_person_whose_reply_shows_in_the_widget_and_survives_a_reload(stack, page):
    SHOTS.mkdir(parents=True, exist_ok=True)
    open_chat(page, stack, "lang=en&customer=V100")
    expect(page.locator(".rw-response").first).to_contain_text("Victoria Chen")
    say(page, "I want to talk to a person, please")
    expect(page.locator(".rw-response", has_text="in the queue")).to_be_visible()

    def waiting() -> int | None:
        with sessions_for(stack.settings.database_url)() as session:
            return session.scalar(
                select(Handoff.id)
                .where(Handoff.customer_id == "V100", Handoff.status == "waiting", Handoff.channel == "socketio")
                .order_by(Handoff.id.desc())
            )

    handoff_id = wait_for(waiting, what="the widget's handoff")
    assert stack.api("POST", f"/api/handoffs/{handoff_id}/accept").status_code == 200
    sent = stack.api(
        "POST", f"/api/handoffs/{handoff_id}/messages", json={"text": "Hi Victoria, Anna here. How can I help?"}
    )
    assert sent.status_code == 201
    reply = page.locator(".rw-response", has_text="Anna (Lumo Shop agent): Hi Victoria, Anna here.")
    expect(reply).to_be_visible()
    say(page, "My parcel is for a birthday on Friday")
    wait_for(
        lambda: (
            "My parcel is for a birthday on Friday"
            in [m["text"] for m in stack.api("GET", f"/api/handoffs/{handoff_id}").json()["messages"]]
        ),
        what="the customer's message in the handoff",
    )
    page.screenshot(path=str(SHOTS / "vip-agent-reply.png"))

    page.reload()
    # The widget remembers whether it was open; the launcher would close it.
    page.wait_for_selector(".rw-widget-container")
    if not page.locator(".rw-new-message").is_visible():
        page.locator(".rw-launcher").click()
    expect(page.locator(".rw-response", has_text="Anna (Lumo Shop agent): Hi Victoria, Anna here.")).to_be_visible()
    expect(page.locator(".rw-client", has_text="My parcel is for a birthday on Friday")).to_be_visible()
    stack.api("POST", f"/api/handoffs/{handoff_id}/close")
    expect(page.locator(".rw-response", has_text="How would you rate this service")).to_be_visible()
    page.screenshot(path=str(SHOTS / "after-reload.png"))


def test_the_shop_exists_only_in_demo_mode(stack):
    import httpx

    assert httpx.get(f"{stack.console_url}/shop", timeout=10).status_code == 200
    assert (
        httpx.get(f"{stack.console_url}/shop/webchat.js", timeout=10)
        .headers["content-type"]
        .startswith("text/javascript")
    )


def test_a_visitor_who_edits_the_token_is_a_guest(stack):
    from tests.integration.socket_customer import SocketCustomer

    token = stack.token("V100")
    customer = SocketCustomer(
        stack.settings.rasa_url, {"token": token[:-3] + ("xyz" if not token.endswith("xyz") else "abc")}
    )
    try:
        customer.say("hi")
        customer.wait_for_text("welcome to Lumo Shop")
        assert not any("Victoria" in (m.get("text") or "") for m in customer.received)
    finally:
        customer.close()
