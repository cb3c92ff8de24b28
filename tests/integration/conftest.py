"""The real Rasa server, action server and console, started once for these tests.

They run on free ports against a database of their own, with the model that
``make test`` trained. The tests of the modules in ON_POSTGRESQL run twice: on
SQLite, the default, and on a throwaway PostgreSQL cluster (bot/cli/local_servers.py)
holding both the business database and Rasa's tracker store.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from bot.cli.local_servers import PostgresCluster
from bot.cli.processes import Process, on_free_ports, start_all, stop_all
from bot.db.migrate import upgrade
from bot.db.models import Order
from bot.db.session import sessions_for
from bot.service.agents import add_agent
from bot.service.customers import recompute_tiers
from bot.settings import ROOT, Settings, load_settings
from bot.tokens import sign_token
from knowledge.index import current_build
from tests.factories import add_customer
from tests.integration import wechat_platform as wechat
from tests.integration.wechat_platform import WeChatPlatform

SECRET = "integration-identity-secret-0123456789"
PASSWORD = "correct-horse-battery"

# The modules whose tests the database shapes: tickets, handoffs and the delivery of agents'
# messages, handoff expiry, WeChat's record of messages taken, the console's pages. The rest
# (answers, security at the edges, the browser widget) run on SQLite alone, which keeps the
# second run to a few minutes.
ON_POSTGRESQL = frozenset(
    {
        "test_complaints",
        "test_console_browser",
        "test_console_tickets",
        "test_handoff",
        "test_out_of_hours",
        "test_wechat",
    }
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses the stack runs on SQLite; those of ON_POSTGRESQL on PostgreSQL too."""
    if "stack" not in metafunc.fixturenames:
        return
    module = metafunc.module.__name__.rpartition(".")[2]
    databases = ["sqlite", "postgresql"] if module in ON_POSTGRESQL else ["sqlite"]
    # Session-scoped, so pytest runs every test of one database before starting the stack on the other.
    metafunc.parametrize("stack", databases, indirect=True, scope="session")


@dataclass
class Stack:
    settings: Settings
    wechat: WeChatPlatform
    processes: list[Process] = field(default_factory=list)
    agent_tokens: dict[str, str] = field(default_factory=dict)

    @property
    def console_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.console_port}"

    def api(self, method: str, path: str, agent: str | None = "anna", **kwargs: Any) -> httpx.Response:
        """A call to the agents' API as ``agent`` (None: with no credentials)."""
        headers = kwargs.pop("headers", {})
        if agent:
            headers["Authorization"] = f"Bearer {self.agent_tokens[agent]}"
        return httpx.request(method, self.console_url + path, headers=headers, timeout=60, **kwargs)

    def handoff_of(self, sender: str) -> dict:
        """The open handoff of ``sender`` as the queue shows it to agents."""
        queue = self.api("GET", "/api/handoffs").json()
        [handoff] = [h for h in queue if h["id"] in self._handoff_ids(sender)]
        return self.api("GET", f"/api/handoffs/{handoff['id']}").json()

    def _handoff_ids(self, sender: str) -> set[int]:
        from bot.db.models import Handoff

        with sessions_for(self.settings.database_url)() as session:
            return set(session.scalars(select(Handoff.id).where(Handoff.sender_id == sender)))

    def _said(self, sender: str, by: str) -> list[str]:
        response = httpx.get(
            f"{self.settings.rasa_url}/conversations/{sender}/tracker",
            params={"token": self.settings.rasa_token},
            timeout=30,
        )
        response.raise_for_status()
        return [e["text"] for e in response.json()["events"] if e["event"] == by and e.get("text")]

    def tracker_texts(self, sender: str) -> list[str]:
        """Everything the bot said to ``sender``, in order, as stored in Rasa's tracker."""
        return self._said(sender, "bot")

    def user_texts(self, sender: str) -> list[str]:
        """Everything ``sender`` said that Rasa took, in order."""
        return self._said(sender, "user")

    def rasa(self) -> Process:
        return next(p for p in self.processes if p.name == "Rasa server")

    @property
    def rest_url(self) -> str:
        return f"{self.settings.rasa_url}/webhooks/rest/webhook"

    def rest(self, **kwargs: Any) -> httpx.Response:
        """A POST to the REST channel, with its token."""
        headers = {"Authorization": f"Bearer {self.settings.rest_token}", **kwargs.pop("headers", {})}
        return httpx.post(self.rest_url, headers=headers, **{"timeout": 60, **kwargs})

    def send(self, sender: str, text: str, metadata: dict | None = None) -> list[dict]:
        """The bot's messages to ``sender``: texts, with buttons where it offers them."""
        body = {"sender": sender, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        response = self.rest(json=body)
        response.raise_for_status()
        return response.json()

    def say(self, sender: str, text: str, metadata: dict | None = None) -> list[str]:
        """What the bot answers ``sender``, as the texts a customer would read."""
        return [m["text"] for m in self.send(sender, text, metadata) if "text" in m]

    def token(self, customer_id: str, ttl: int = 3600) -> str:
        return sign_token(SECRET, customer_id, ttl)


@pytest.fixture
def sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def _seed(url: str, tiers_file: Path) -> dict[str, str]:
    from bot.service.tiers import load_tiers

    upgrade(url)
    with sessions_for(url).begin() as session:
        add_customer(session, "G100", name="Grace Lin", language="en", orders=9, spend=9000, days_ago=3)
        add_customer(session, "G200", name="李娜", language="zh", orders=9, spend=9000, days_ago=3)
        add_customer(session, "N100", name="Tom Baker", language="en", orders=1, spend=120, days_ago=30)
        add_customer(session, "V100", name="Victoria Chen", language="en", orders=16, spend=40000, days_ago=2)
        add_customer(
            session, "N200", name="Nora Park", language="en", phone="13800138000", orders=1, spend=100, days_ago=40
        )
        # Placed 9 days ago and still on its way: 4 days past the 5-day delivery promise.
        session.add(
            Order(
                id="N200-LATE",
                customer_id="N200",
                placed_at=date.today() - timedelta(days=9),
                amount=Decimal("259.00"),
                status="shipped",
                items="Desk lamp x1",
                shipment_status="in_transit",
                carrier="SF Express",
                tracking_number="SF1234567890123",
                shipped_at=date.today() - timedelta(days=8),
            )
        )
        recompute_tiers(session, tiers=load_tiers(tiers_file), today=date.today())
        tokens = {}
        for username, name, role in (("anna", "Anna", "agent"), ("ben", "Ben", "agent"), ("sam", "Sam", "supervisor")):
            _, tokens[username] = add_agent(session, username=username, display_name=name, role=role, password=PASSWORD)
    return tokens


@pytest.fixture(scope="session")
def wechat_platform(stack: Stack) -> WeChatPlatform:
    """The stand-in WeChat platform the stack's Rasa server talks to; each stack has its own, so a
    test counts only what its stack's server asked (its access tokens, say)."""
    return stack.wechat


def _databases(request: pytest.FixtureRequest, var_dir: Path) -> dict[str, str]:
    """The stack's two stores on ``request.param``: SQLite files in ``var_dir`` (the default), or PostgreSQL."""
    if request.param == "sqlite":
        return {}
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    # Named after the folder, which is new each time the stack starts.
    suffix = var_dir.name.lower()
    return {
        "DATABASE_URL": cluster.create_database(f"bot_{suffix}"),
        "TRACKER_STORE_URL": cluster.create_database(f"tracker_{suffix}"),
    }


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var_dir = tmp_path_factory.mktemp("var")
    wechat_platform = WeChatPlatform()
    settings = load_settings(
        {
            **_databases(request, var_dir),
            "BOT_VAR_DIR": str(var_dir),
            "IDENTITY_SECRET": SECRET,
            "RASA_TOKEN": "integration-rasa-token-0123456789abcdef",
            "CONSOLE_SECRET": "integration-console-secret-0123456789",
            "ACTION_TOKEN": "integration-action-token-0123456789ab",
            # Demo mode opens the demo shop with the chat widget; every secret is still set.
            "BOT_DEMO": "1",
            **on_free_ports(),
            # The knowledge base `make test` built from data/knowledge, read-only here.
            "KB_DIR": str(ROOT / "var" / "kb"),
            # Agents always at work, unless a test says otherwise; handoffs expire only when a test ages them.
            "SERVICE_HOURS": "00:00-24:00",
            "HANDOFF_TIMEOUT_MINUTES": "30",
            "DELIVERY_INTERVAL_SECONDS": "0.5",
            **wechat.channel_settings(wechat_platform.url),
        }
    )
    if not settings.model_path.exists():
        pytest.fail(f"no trained model at {settings.model_path}: run `make test`, which trains it")
    if current_build(settings.kb_dir) is None:
        pytest.fail(f"no knowledge base in {settings.kb_dir}: run `make test`, which builds it")
    tokens = _seed(settings.database_url, settings.tiers_file)
    try:
        started = start_all(settings, var_dir / "logs")
        yield Stack(settings, wechat_platform, processes=started, agent_tokens=tokens)
        stop_all(started)
    finally:
        wechat_platform.close()


@pytest.fixture
def webhook(stack) -> str:
    """The WeChat channel's webhook."""
    return f"{stack.settings.rasa_url}/webhooks/wechat/webhook"


@pytest.fixture
def openid() -> str:
    """A WeChat user of the official account, new to it."""
    return f"o{uuid.uuid4().hex[:27]}"


def wait_for(check: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
    """Polls ``check`` until it returns something truthy; fails the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


# The widget shows each bot message after a short typing delay, one after another.
expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("no chromium on PATH: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()
