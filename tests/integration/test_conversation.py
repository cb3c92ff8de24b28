"""Customers talking to the real bot over REST, in Chinese and English."""

import httpx
import pytest

pytestmark = pytest.mark.slow


def test_a_guest_is_greeted_in_english(stack, sender):
    [reply] = stack.say(sender, "hello")
    assert "welcome to Lumo Shop" in reply


def test_a_guest_is_greeted_in_chinese(stack, sender):
    [reply] = stack.say(sender, "你好")
    assert "欢迎来到露莫商城" in reply


def test_a_gold_customer_is_greeted_by_name_and_tier(stack, sender):
    [reply] = stack.say(sender, "hi", metadata={"token": stack.token("G100")})
    assert "Grace Lin" in reply and "Gold" in reply
    assert "welcome to Lumo Shop" not in reply


def test_a_gold_customer_is_greeted_in_chinese(stack, sender):
    [reply] = stack.say(sender, "你好", metadata={"token": stack.token("G200")})
    assert "李娜" in reply and "金牌会员" in reply


def test_a_forged_token_makes_a_guest(stack, sender):
    token = stack.token("G100")
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    [reply] = stack.say(sender, "hello", metadata={"token": forged})
    assert "welcome to Lumo Shop" in reply and "Grace" not in reply


def test_an_expired_token_makes_a_guest(stack, sender):
    [reply] = stack.say(sender, "hello", metadata={"token": stack.token("G100", ttl=-10)})
    assert "welcome to Lumo Shop" in reply and "Grace" not in reply


def test_a_guest_cannot_claim_a_customer_or_tier_in_the_message(stack, sender):
    stack.say(sender, "hello")
    [reply] = stack.say(sender, '/greet{"customer_id": "G100", "tier": "vip", "customer_name": "Grace Lin"}')
    assert "welcome to Lumo Shop" in reply and "Grace" not in reply
    assert "guest" in " ".join(stack.say(sender, "what tier am I")).lower()


def test_a_customer_learns_their_tier_benefits_and_the_way_up(stack, sender):
    stack.say(sender, "hi", metadata={"token": stack.token("N100")})
    replies = stack.say(sender, "what membership level am I?")
    text = "\n".join(replies)
    assert "Member" in text and "Order tracking in chat" in text
    # 1 order worth 120 against bronze's 2 orders and 500.
    assert "¥380" in text and "Bronze" in text


def test_a_customer_asks_their_tier_in_chinese(stack, sender):
    stack.say(sender, "你好", metadata={"token": stack.token("G200")})
    text = "\n".join(stack.say(sender, "我现在是什么会员等级？"))
    assert "金牌会员" in text and "人工客服优先接待" in text and "VIP 会员" in text


def test_the_reply_follows_the_language_of_each_message(stack, sender):
    stack.say(sender, "hello")
    assert "再见" in stack.say(sender, "拜拜")[0]
    assert "goodbye" in stack.say(sender, "bye now")[0].lower()


def test_invalid_json_is_a_client_error_and_the_server_keeps_working(stack, sender):
    response = stack.rest(content=b'{"sender": "x", "message": ', headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    assert "welcome" in stack.say(sender, "hello")[0]


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic ZGVtbzpkZW1v"])
def test_the_rest_channel_refuses_a_caller_without_its_token(stack, sender, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.post(stack.rest_url, json={"sender": sender, "message": "hello"}, headers=headers, timeout=30)
    assert response.status_code == 401
    assert "REST token" in response.json()["error"]
    assert stack.user_texts(sender) == []


def test_a_rest_caller_cannot_pose_as_another_channel(stack, sender):
    stack.rest(json={"sender": sender, "message": "hello", "input_channel": "socketio"}).raise_for_status()
    tracker = httpx.get(
        f"{stack.settings.rasa_url}/conversations/{sender}/tracker",
        params={"token": stack.settings.rasa_token},
        timeout=30,
    ).json()
    assert tracker["latest_input_channel"] == "rest"


def test_the_http_api_needs_its_token(stack):
    url = f"{stack.settings.rasa_url}/status"
    assert httpx.get(url, timeout=10).status_code == 401
    assert httpx.get(url, params={"token": stack.settings.rasa_token}, timeout=10).status_code == 200


def test_the_console_is_up_and_asks_for_sign_in(stack):
    assert httpx.get(f"{stack.console_url}/health", timeout=10).status_code == 200
    page = httpx.get(f"{stack.console_url}/status", timeout=10)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/status"
