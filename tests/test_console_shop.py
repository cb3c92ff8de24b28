"""The demo shop: a visitor picks one customer of each tier, and the site signs that customer's
token for the widget; outside demo mode there is no shop."""

from __future__ import annotations

import html
import json
import re

from fastapi.testclient import TestClient

from bot.console.app import create_app
from bot.db.models import Customer
from bot.db.session import sessions_for
from bot.settings import load_settings
from bot.tokens import verify_token


def shop(db_url: str, **env: str) -> TestClient:
    with sessions_for(db_url).begin() as session:
        for customer_id, name, tier in (
            ("V2", "Vera", "vip"),
            ("V1", "Victoria", "vip"),
            ("N1", "Ned", "normal"),
            ("X1", "Xavier", None),
        ):
            session.add(Customer(id=customer_id, name=name, tier=tier))
    return TestClient(create_app(load_settings({"DATABASE_URL": db_url, "RASA_PORT": "9", **env})))


def test_the_shop_offers_the_first_customer_of_each_tier_and_signs_the_chosen_ones_token(db_url):
    page = shop(db_url, BOT_DEMO="1").get("/shop", params={"customer": "V1", "lang": "en"}).text
    assert re.findall(r'<option value="(\w*)"', page) == ["", "N1", "V1"]
    assert '<option value="V1" selected>Victoria · VIP</option>' in page
    custom_data = json.loads(html.unescape(re.search(r"customData: (\{.*?\}),", page).group(1)))
    settings = load_settings({"DATABASE_URL": db_url, "BOT_DEMO": "1"})
    assert custom_data["language"] == "en" and verify_token(settings.identity_secret, custom_data["token"]) == "V1"


def test_an_unknown_customer_visits_as_a_guest(db_url):
    page = shop(db_url, BOT_DEMO="1").get("/shop", params={"customer": "nobody"}).text
    assert " selected>" not in page and '"token"' not in page


def test_there_is_no_shop_outside_demo_mode(db_url):
    client = shop(
        db_url,
        BOT_DEMO="0",
        IDENTITY_SECRET="i" * 32,
        RASA_TOKEN="r" * 32,
        CONSOLE_SECRET="c" * 32,
        ACTION_TOKEN="a" * 32,
    )
    assert client.get("/shop").status_code == 404
    assert client.get("/shop/webchat.js").status_code == 404


def test_the_company_name_is_configuration(db_url):
    settings = load_settings(
        {"BOT_DEMO": "1", "DATABASE_URL": db_url, "COMPANY_NAME": "Acme", "COMPANY_NAME_ZH": "艾克米"}
    )
    with TestClient(create_app(settings)) as client:
        assert "Acme service console" in client.get("/login").text
        assert "艾克米客服工作台" in client.get("/login?lang=zh").text
