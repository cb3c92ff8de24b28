"""The WeChat channel against a stand-in WeChat platform built with wechatpy, on loopback."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.conftest import wait_for
from tests.integration.wechat_platform import TOKEN

pytestmark = pytest.mark.slow


def test_url_verification_echoes_only_a_correct_signature(webhook, wechat_platform):
    query = wechat_platform.signed_query()
    ok = httpx.get(webhook, params={**query, "echostr": "echo-4711"}, timeout=10)
    assert ok.status_code == 200 and ok.text == "echo-4711"
    forged = wechat_platform.signed_query(token="not-the-token")
    assert httpx.get(webhook, params={**forged, "echostr": "echo-4711"}, timeout=10).status_code == 403


@pytest.mark.parametrize("mode", ["plain", "compatible", "safe"])
def test_a_text_message_is_answered_in_the_same_response_in_every_mode(webhook, wechat_platform, openid, mode):
    response = wechat_platform.post(webhook, wechat_platform.text_xml(openid, "你好"), mode=mode)
    assert response.status_code == 200
    reply = wechat_platform.read_reply(response, mode)
    assert reply["ToUserName"] == openid and reply["MsgType"] == "text"
    assert "欢迎来到露莫商城" in reply["Content"]


def test_a_retried_message_is_handled_once(stack, webhook, wechat_platform, openid):
    xml = wechat_platform.text_xml(openid, "how long does it take to get my refund back?", msg_id=88001122334455)
    first = wechat_platform.post(webhook, xml)
    assert "1–3 working days" in wechat_platform.read_reply(first)["Content"]
    for _ in range(3):
        again = wechat_platform.post(webhook, xml)
        assert again.status_code == 200 and again.text == "success"
    assert stack.user_texts(openid).count("how long does it take to get my refund back?") == 1


def test_a_bad_signature_is_refused_and_changes_nothing(stack, webhook, wechat_platform, openid):
    forged = wechat_platform.signed_query(token="not-the-token")
    response = wechat_platform.post(webhook, wechat_platform.text_xml(openid, "hello"), query=forged)
    assert response.status_code == 403
    assert stack.user_texts(openid) == []


@pytest.mark.parametrize(
    "body",
    [
        "<xml><ToUserName>",
        "not xml at all",
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><xml><Content>&lol2;</Content></xml>',
    ],
)
def test_malformed_xml_is_refused_without_a_crash(stack, webhook, wechat_platform, openid, body):
    response = httpx.post(webhook, params=wechat_platform.signed_query(), content=body.encode(), timeout=10)
    assert response.status_code == 400
    assert (
        "欢迎"
        in wechat_platform.read_reply(wechat_platform.post(webhook, wechat_platform.text_xml(openid, "你好")))[
            "Content"
        ]
    )


def test_an_oversized_message_is_refused(webhook, wechat_platform, openid):
    response = wechat_platform.post(webhook, wechat_platform.text_xml(openid, "x" * 70_000))
    assert response.status_code == 413


def test_subscribing_gets_a_welcome_and_a_picture_a_polite_answer(webhook, wechat_platform, openid):
    welcome = wechat_platform.read_reply(wechat_platform.post(webhook, wechat_platform.event_xml(openid, "subscribe")))
    assert "welcome to Lumo Shop" in welcome["Content"]
    picture = wechat_platform.read_reply(wechat_platform.post(webhook, wechat_platform.image_xml(openid)))
    assert "只能阅读文字消息" in picture["Content"]


def test_several_answers_go_through_the_customer_service_api(webhook, wechat_platform, openid):
    response = wechat_platform.post(webhook, wechat_platform.text_xml(openid, "do you deliver to antarctica"))
    assert response.text == "success"
    sent = wait_for(
        lambda: [m for m in wechat_platform.sent if m["touser"] == openid] or None, what="customer-service messages"
    )
    texts = [m["text"]["content"] for m in sent]
    assert "I don't know the answer" in texts[0] and "Open a ticket" in texts[-1]


def test_an_agents_reply_during_a_handoff_arrives_through_the_customer_service_api(
    stack, webhook, wechat_platform, openid
):
    # Other tests may have made this Rasa server fetch its access token already.
    tokens_before = len(wechat_platform.token_requests)
    wechat_platform.post(webhook, wechat_platform.text_xml(openid, "hello"))
    wechat_platform.post(webhook, wechat_platform.text_xml(openid, "I want a human agent"))
    queued = wechat_platform.post(webhook, wechat_platform.text_xml(openid, "I want a human agent now"))
    assert "in the queue" in wechat_platform.read_reply(queued)["Content"]
    handoff = stack.handoff_of(openid)
    assert handoff["channel"] == "wechat"
    stack.api("POST", f"/api/handoffs/{handoff['id']}/accept")
    stack.api("POST", f"/api/handoffs/{handoff['id']}/messages", json={"text": "Hi, Anna here. How can I help?"})
    sent = wait_for(
        lambda: [
            m["text"]["content"]
            for m in wechat_platform.sent
            if m["touser"] == openid and "Anna here" in m["text"]["content"]
        ],
        what="the agent's reply through the customer-service API",
    )
    assert sent == ["Anna (Lumo Shop agent): Hi, Anna here. How can I help?"]
    quiet = wechat_platform.post(webhook, wechat_platform.text_xml(openid, "It is about my order"))
    assert quiet.text == "success"
    wait_for(
        lambda: "It is about my order" in [m["text"] for m in stack.handoff_of(openid)["messages"]],
        what="the customer's message in the handoff",
    )
    # At most one access token fetched, and then reused.
    fetched = wechat_platform.token_requests[tokens_before:]
    assert len(fetched) <= 1
    assert all(request["appid"] == ["wx0123456789abcdef"] for request in wechat_platform.token_requests)
    assert TOKEN not in str(wechat_platform.token_requests)


def test_a_wechat_user_binds_their_account_and_is_known_from_then_on(webhook, wechat_platform, openid):
    def say(text: str) -> str:
        return wechat_platform.converse(webhook, openid, text)

    assert "guest" in say("what tier am I?").lower()
    assert "membership number" in say("bind my account")
    assert "last four digits" in say("N200")
    refused = say("1234")
    assert "don't match our records" in refused and "4 more tries" in refused
    say("bind my account")
    say("N200")
    assert "Done! Nora Park" in say("8000")
    assert "Member" in say("what membership level am I?")
    # A new conversation: the channel's signed identity finds the binding.
    say("/session_start")
    assert "Nora Park" in say("hello")


def test_binding_stops_after_five_wrong_tries(webhook, wechat_platform, openid):
    def say(text: str) -> str:
        return wechat_platform.converse(webhook, openid, text)

    for _ in range(5):
        say("bind my account")
        say("N200")
        say("9999")
    say("bind my account")
    say("N200")
    assert "Too many tries" in say("8000")
