"""Two Rasa replicas behind one WeChat account, sharing Redis (Debian's redis-server,
started here): a message WeChat retries on the other replica is handled once, and the
access token one replica fetched serves the other."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from bot.cli.processes import free_port, processes, stop_all
from tests.integration.conftest import wait_for
from tests.integration.wechat_platform import APP_ID

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("no redis-server: `make test` installs Debian's redis-server package")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 20
    while (
        subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip() != "PONG"
    ):
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("redis-server did not start")
        time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="module")
def replicas(stack, redis_url, tmp_path_factory) -> Iterator[list[str]]:
    """Two more Rasa servers on the stack's stores and action server, with Redis."""
    started = []
    for n in range(2):
        port = free_port()
        settings = stack.settings.model_copy(
            update={"rasa_port": port, "redis_url": redis_url, "rasa_url": f"http://{stack.settings.host}:{port}"}
        )
        [rasa] = [p for p in processes(settings, tmp_path_factory.mktemp(f"replica{n}")) if p.name == "Rasa server"]
        rasa.start()
        started.append((rasa, settings.rasa_url))
    try:
        for rasa, _ in started:
            rasa.wait_healthy(240)
        yield [f"{url}/webhooks/wechat/webhook" for _, url in started]
    finally:
        stop_all([rasa for rasa, _ in started])


def redis_keys(redis_url: str, pattern: str) -> list[str]:
    port = redis_url.rsplit(":", 1)[1].split("/")[0]
    return subprocess.run(
        ["redis-cli", "-p", port, "--scan", "--pattern", pattern], capture_output=True, text=True
    ).stdout.split()


def test_a_message_retried_on_another_replica_is_answered_again_not_run_twice(
    stack, replicas, wechat_platform, redis_url
):
    openid = "o-replica-retry"
    xml = wechat_platform.text_xml(openid, "how long does it take to get my refund back?", msg_id=99001122334455)
    first = wechat_platform.read_reply(wechat_platform.post(replicas[0], xml))["Content"]
    assert "1–3 working days" in first
    # WeChat retries only what it got no answer to: the answer went missing on its way.
    again = wechat_platform.post(replicas[1], xml)
    assert wechat_platform.read_reply(again)["Content"] == first
    assert stack.user_texts(openid).count("how long does it take to get my refund back?") == 1
    assert redis_keys(redis_url, "wechat:seen:*99001122334455")


def test_the_access_token_is_fetched_once_for_all_replicas(replicas, wechat_platform):
    fetched = len(wechat_platform.token_requests)
    for n, webhook in enumerate(replicas):
        openid = f"o-replica-token-{n}"
        # An unknown question gets two answers, which go through the customer-service API.
        assert (
            wechat_platform.post(webhook, wechat_platform.text_xml(openid, "do you deliver to antarctica")).text
            == "success"
        )
        wait_for(
            lambda openid=openid: any(m["touser"] == openid for m in wechat_platform.sent),
            what=f"replica {n}'s messages",
        )
    assert len(wechat_platform.token_requests) - fetched == 1


def redis_cli(redis_url: str, *command: str) -> str:
    port = redis_url.rsplit(":", 1)[1].split("/")[0]
    return subprocess.run(["redis-cli", "-p", port, *command], capture_output=True, text=True).stdout.strip()


def test_a_retry_takes_over_a_message_whose_replica_died_claiming_it(stack, replicas, wechat_platform, redis_url):
    openid, msg_id = "o-replica-died", 99001122334466
    question = "how long does it take to get my refund back?"
    # What a replica killed in the middle of the turn leaves: its claim, which nobody renews.
    redis_cli(redis_url, "SET", f"wechat:seen:{APP_ID}:{msg_id}", "1", "EX", "5")
    retried = wechat_platform.post(replicas[1], wechat_platform.text_xml(openid, question, msg_id=msg_id))
    assert "1–3 working days" in wechat_platform.read_reply(retried)["Content"]
    assert stack.user_texts(openid) == [question]


def test_a_retry_leaves_a_message_to_the_live_replica_answering_it(stack, replicas, wechat_platform, redis_url):
    openid, msg_id = "o-replica-busy", 99001122334488
    key = f"wechat:seen:{APP_ID}:{msg_id}"
    # A replica still answering renews its claim every second.
    renewing = threading.Event()
    redis_cli(redis_url, "SET", key, "1", "EX", "5")

    def renew() -> None:
        while not renewing.wait(0.5):
            redis_cli(redis_url, "SET", key, "1", "EX", "5")

    renewer = threading.Thread(target=renew)
    renewer.start()
    try:
        xml = wechat_platform.text_xml(openid, "how long does it take to get my refund back?", msg_id=msg_id)
        assert wechat_platform.post(replicas[1], xml).text == "success"
    finally:
        renewing.set()
        renewer.join()
    assert stack.user_texts(openid) == []
