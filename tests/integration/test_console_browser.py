"""The agent console in a real browser: headless Debian chromium driven by Playwright.

A supervisor signs in, sees a VIP's escalation arrive without reloading, accepts
it, replies to the customer on the web widget's socket.io channel, reads their
answer live, closes, and finds the conversation in the VIP row of the analytics.
Screenshots go to test-output/console/.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from bot.settings import ROOT
from tests.integration.conftest import PASSWORD
from tests.integration.socket_customer import SocketCustomer

pytestmark = pytest.mark.slow

SHOTS = ROOT / "test-output" / "console"


def sign_in(page: Page, stack, username: str) -> None:
    page.goto(f"{stack.console_url}/queue")
    expect(page).to_have_url(f"{stack.console_url}/login?next=/queue")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{stack.console_url}/queue")


def test_a_vip_escalation_is_served_from_the_console(stack, page):
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, stack, "sam")

    customer = SocketCustomer(stack.settings.rasa_url, {"token": stack.token("V100")})
    try:
        customer.say("hi")
        customer.wait_for_text("Victoria Chen")
        customer.say("I'd like to talk to a person about a present I ordered")
        customer.wait_for_text("in the queue")

        row = page.locator("#queue-rows tr", has_text="Victoria Chen").filter(has_text="asked for a person")
        expect(row).to_be_visible()
        expect(row.locator(".badge")).to_have_text("VIP")
        page.screenshot(path=str(SHOTS / "queue.png"), full_page=True)

        row.get_by_role("link", name="Open").click()
        expect(page.locator(".summary-line")).to_contain_text("Victoria Chen")
        expect(page.locator("#transcript")).to_contain_text("talk to a person about a present")
        page.get_by_role("button", name="Accept").click()
        customer.wait_for_text("Sam from our team has joined")

        page.fill("#reply textarea", "Hello Victoria, which present is it?")
        page.get_by_role("button", name="Send").click()
        customer.wait_for_text("Sam (Lumo Shop agent): Hello Victoria, which present is it?")

        customer.say("The silk scarf for my mother")
        expect(page.locator("#transcript li.customer").last).to_have_text("CustomerThe silk scarf for my mother")
        page.screenshot(path=str(SHOTS / "conversation.png"), full_page=True)

        page.get_by_role("button", name="Close").click()
        expect(page.locator("#handoff-status")).to_have_text("Closed")
        customer.wait_for_text("How would you rate this service")
        customer.say('/give_rating{"rating": 4}')
        customer.wait_for_text("Thank you for your rating")
    finally:
        customer.close()

    page.goto(f"{stack.console_url}/analytics")
    vip = page.locator('#tier-table tr[data-tier="vip"]')
    expect(vip).to_be_visible()
    assert int(vip.locator("td").nth(1).inner_text()) >= 1
    assert vip.locator("td").nth(3).inner_text() != "-"
    expect(page.locator("#tier-chart svg")).to_contain_text("VIP")
    page.screenshot(path=str(SHOTS / "analytics.png"), full_page=True)


def test_the_console_speaks_chinese(stack, page):
    sign_in(page, stack, "anna")
    page.goto(f"{stack.console_url}/queue?lang=zh")
    expect(page.locator("nav")).to_contain_text("排队")
    page.goto(f"{stack.console_url}/tickets")
    expect(page.locator("h1")).to_have_text("工单")
