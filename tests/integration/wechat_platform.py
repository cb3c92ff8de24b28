"""A stand-in for the WeChat platform, built with wechatpy: it signs and encrypts messages
exactly as WeChat does, posts them to the bot, and serves the API the bot calls back
(access token, customer-service messages) on loopback, recording every call."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import httpx
import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

TOKEN = "integration-wechat-token"
APP_ID = "wx0123456789abcdef"
APP_SECRET = "integration-wechat-app-secret"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat issues them


def channel_settings(api_url: str) -> dict[str, str]:
    """The settings that point the WeChat channel at a stand-in platform serving ``api_url``."""
    return {
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APP_ID": APP_ID,
        "WECHAT_APP_SECRET": APP_SECRET,
        "WECHAT_AES_KEY": AES_KEY,
        "WECHAT_API_URL": api_url,
    }


class WeChatPlatform:
    def __init__(self) -> None:
        self.token_requests: list[dict] = []
        self.sent: list[dict] = []
        platform = self

        class Api(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                if url.path == "/cgi-bin/token":
                    platform.token_requests.append(parse_qs(url.query))
                    self._json({"access_token": "stand-in-access-token", "expires_in": 7200})
                else:
                    self._json({"errcode": 404}, 404)

            def do_POST(self) -> None:
                url = urlparse(self.path)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if url.path == "/cgi-bin/message/custom/send" and parse_qs(url.query).get("access_token") == [
                    "stand-in-access-token"
                ]:
                    platform.sent.append(body)
                    self._json({"errcode": 0, "errmsg": "ok"})
                else:
                    self._json({"errcode": 40001, "errmsg": "invalid credential"})

            def _json(self, data: dict, status: int = 200) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)

    def close(self) -> None:
        self.server.shutdown()

    @staticmethod
    def signed_query(token: str = TOKEN) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
        signer = WeChatSigner()
        signer.add_data(token, timestamp, nonce)
        return {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce}

    @staticmethod
    def text_xml(openid: str, content: str, msg_id: int | None = None) -> str:
        return (
            f"<xml><ToUserName><![CDATA[gh_lumoshop]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id or uuid.uuid4().int % 10**18}</MsgId></xml>"
        )

    @staticmethod
    def event_xml(openid: str, event: str) -> str:
        return (
            f"<xml><ToUserName><![CDATA[gh_lumoshop]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[{event}]]></Event></xml>"
        )

    @staticmethod
    def image_xml(openid: str) -> str:
        return (
            f"<xml><ToUserName><![CDATA[gh_lumoshop]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
            f"<PicUrl><![CDATA[http://127.0.0.1/p.jpg]]></PicUrl><MediaId><![CDATA[m1]]></MediaId>"
            f"<MsgId>{uuid.uuid4().int % 10**18}</MsgId></xml>"
        )

    def post(self, webhook: str, xml: str, mode: str = "plain", query: dict | None = None) -> httpx.Response:
        """Posts ``xml`` as WeChat would in ``mode``: plain, compatible or safe (AES)."""
        query = query or self.signed_query()
        body = xml
        if mode in ("safe", "compatible"):
            encrypted = xmltodict.parse(self.crypto.encrypt_message(xml, query["nonce"], query["timestamp"]))["xml"]
            query = {**query, "encrypt_type": "aes", "msg_signature": encrypted["MsgSignature"]}
            envelope = f"<Encrypt><![CDATA[{encrypted['Encrypt']}]]></Encrypt>"
            body = (
                xml.replace("</xml>", envelope + "</xml>")
                if mode == "compatible"
                else (f"<xml><ToUserName><![CDATA[gh_lumoshop]]></ToUserName>{envelope}</xml>")
            )
        return httpx.post(webhook, params=query, content=body.encode(), timeout=30)

    def read_reply(self, response: httpx.Response, mode: str = "plain") -> dict:
        """The passive reply as the WeChat app would show it, decrypted in safe modes."""
        xml = response.text
        if mode in ("safe", "compatible"):
            outer = xmltodict.parse(xml)["xml"]
            xml = self.crypto.decrypt_message(xml, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
        return xmltodict.parse(xml)["xml"]

    def converse(self, webhook: str, openid: str, text: str, timeout: float = 30) -> str:
        """What the WeChat user reads after sending ``text``: the passive reply, or the
        customer-service messages that follow a bare ``success``."""
        before = len([m for m in self.sent if m["touser"] == openid])
        response = self.post(webhook, self.text_xml(openid, text))
        if response.text != "success":
            return self.read_reply(response)["Content"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mine = [m["text"]["content"] for m in self.sent if m["touser"] == openid]
            if len(mine) > before:
                time.sleep(0.5)  # the rest of the turn's messages follow at once
                return "\n".join([m["text"]["content"] for m in self.sent if m["touser"] == openid][before:])
            time.sleep(0.1)
        return ""
