"""The scaled topology of ``bot scale``, started once for these tests: PostgreSQL, Redis, two
replicas of every process and HAProxy in front (bot/cli/scale.py, deploy/haproxy.cfg).

Customers reach it through HAProxy's front alone: by REST, and by socket.io over WebSocket
and over long-polling (whose requests must stay on one replica). A Rasa server killed with
-9 costs no customer a reply, and comes back. A knowledge-base build reaches every action
server without a restart.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import socketio

from bot.cli.processes import on_free_ports
from bot.cli.scale import Topology, scaled
from bot.settings import ROOT, load_settings
from knowledge.index import current_build
from tests.integration.conftest import SECRET, wait_for
from tests.integration.socket_customer import SocketCustomer

pytestmark = pytest.mark.slow


def _shared_kb(kb_dir: Path) -> Path:
    """A knowledge-base folder of the topology's own, starting with the build `make test` made."""
    built = current_build(ROOT / "var" / "kb")
    if built is None:
        pytest.fail("no knowledge base in var/kb: run `make test`, which builds it")
    shutil.copytree(built, kb_dir / "builds" / built.name)
    (kb_dir / "current").symlink_to(Path("builds") / built.name)
    return kb_dir


@pytest.fixture(scope="module")
def topology() -> Iterator[Topology]:
    # Not under pytest's own temporary folder: PostgreSQL runs as the postgres user when the
    # tests run as root, and pytest's folders are open to their owner alone.
    workdir = Path(tempfile.mkdtemp(prefix="bot-scale-"))
    workdir.chmod(0o755)
    settings = load_settings(
        {
            "BOT_DEMO": "1",
            "IDENTITY_SECRET": SECRET,
            "RASA_TOKEN": "scale-rasa-token-0123456789abcdef0123",
            "CONSOLE_SECRET": "scale-console-secret-0123456789abcdef",
            "ACTION_TOKEN": "scale-action-token-0123456789abcdef01",
            "REST_TOKEN": "scale-rest-token-0123456789abcdef0123",
            **on_free_ports(),
            "BOT_VAR_DIR": str(workdir),
            "KB_DIR": str(_shared_kb(workdir / "kb")),
            "SERVICE_HOURS": "00:00-24:00",
        }
    )
    try:
        with scaled(settings, workdir / "scale", replicas=2) as started:
            yield started
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def rest(topology: Topology, sender: str, text: str) -> list[str]:
    """The bot's answer to ``sender`` through HAProxy's public front."""
    response = httpx.post(
        f"{topology.rasa_url}/webhooks/rest/webhook",
        headers={"Authorization": f"Bearer {topology.settings.rest_token}"},
        json={"sender": sender, "message": text},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return [m["text"] for m in response.json() if "text" in m]


def server_states(topology: Topology) -> dict[str, str]:
    """Each server of HAProxy's Rasa backend, as its statistics page shows it: UP or DOWN."""
    page = httpx.get(f"{topology.stats_url};csv", timeout=10).text.lstrip("# ")
    rows = csv.DictReader(io.StringIO(page))
    return {
        row["svname"]: row["status"]
        for row in rows
        if row["pxname"] == "rasa" and row["svname"] not in {"FRONTEND", "BACKEND"}
    }


def test_a_customer_is_answered_through_the_front(topology):
    assert any(
        "return" in text.lower() for text in rest(topology, f"scale-{uuid.uuid4().hex[:8]}", "how do I return an item")
    )


def test_the_console_front_answers(topology):
    assert httpx.get(f"{topology.console_url}/health", timeout=10).status_code == 200


def test_a_rasa_server_killed_with_minus_9_costs_no_customer_a_reply_and_comes_back(topology):
    killed = topology.replicas["Rasa server"][0]
    topology.kill(killed)
    # At once, before HAProxy's checks notice: each refused connection is retried on the other server.
    for n in range(6):
        assert rest(topology, f"scale-failover-{n}-{uuid.uuid4().hex[:6]}", "hello"), n
    wait_for(lambda: server_states(topology)["rasa1"] == "DOWN", 15, "HAProxy to see rasa1 down")

    topology.restart(killed)
    assert wait_for(lambda: set(server_states(topology).values()) == {"UP"}, 15, "HAProxy to take rasa1 back")
    # The restarted server answers on its own port, as HAProxy sends it customers again.
    assert httpx.get(f"http://127.0.0.1:{killed.port}/", timeout=10).status_code == 200


def test_a_widget_customer_over_websocket_is_answered_through_the_front(topology):
    customer = SocketCustomer(topology.rasa_url, {})
    try:
        customer.say("hello")
        wait_for(lambda: customer.received, 30, "a reply on the socket")
    finally:
        customer.close()


def test_a_widget_customer_over_long_polling_stays_on_one_replica(topology):
    """Each long-polling exchange is a new request; HAProxy's cookie keeps them on one replica,
    without which the other replica would refuse a session it does not know."""
    received: list[dict] = []
    confirmed: list[str] = []
    client = socketio.Client()
    client.on("bot_uttered", received.append)
    client.on("session_confirm", confirmed.append)
    client.connect(topology.rasa_url, transports=["polling"])
    try:
        client.emit("session_request", {"session_id": None})
        session_id = wait_for(lambda: confirmed and confirmed[-1], 15, "session_confirm")
        client.emit("user_uttered", {"message": "hello", "session_id": session_id, "customData": {}})
        wait_for(lambda: received, 30, "a reply over long-polling")
        assert "SERVERID" in client.eio.http.cookies
    finally:
        client.disconnect()


OWL_ANSWER = "Yes, the Hoot teapot comes in slate, moss and sand, at 189 yuan."


def _ask_action_server(topology: Topology, port: int | None, question: str) -> dict:
    """The FAQ action's answer from one action server, called as a Rasa server calls it."""
    call = {
        "next_action": "action_answer_faq",
        "sender_id": f"scale-kb-{uuid.uuid4().hex[:8]}",
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": "scale-kb",
            "slots": {"language": "en"},
            "latest_message": {"text": question, "intent": {"name": "faq", "confidence": 1.0}, "entities": []},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": None,
        },
    }
    response = httpx.post(
        f"http://127.0.0.1:{port}/webhook",
        json=call,
        headers={"Authorization": f"Bearer {topology.settings.action_token}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_knowledge_base_build_reaches_every_action_server_without_a_restart(topology, tmp_path):
    servers = topology.replicas["action server"]
    pids = [server.running.pid for server in servers]
    question = "do you sell owl shaped teapots?"
    for server in servers:
        assert OWL_ANSWER not in str(_ask_action_server(topology, server.port, question))
    source = tmp_path / "teapots.yml"
    source.write_text(
        "entries:\n"
        "  - id: owl-teapot\n"
        "    en:\n"
        "      question: Do you sell an owl-shaped teapot?\n"
        "      variants: [owl teapot, teapot shaped like an owl]\n"
        f"      answer: {OWL_ANSWER}\n",
        encoding="utf-8",
    )
    build = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "bot"), "kb", "build", str(source)],
        env={**os.environ, **topology.settings.to_env(), "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    for server in servers:
        assert OWL_ANSWER in str(_ask_action_server(topology, server.port, question)), server.name
    # The same processes: none was restarted.
    assert [server.running.pid for server in servers] == pids
    assert all(server.running.poll() is None for server in servers)
