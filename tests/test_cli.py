"""The ``bot`` command as an operator runs it."""

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.cli.processes import free_port
from bot.settings import ROOT
from bot.tokens import verify_token
from tests.knowledge.conftest import KB, QUERIES
from tests.test_crm_import import CUSTOMERS, ORDERS, counts, write

IDENTITY_SECRET = "cli-identity-secret-of-at-least-32-characters"


@pytest.fixture
def env(tmp_path: Path, db_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": db_url,
        "IDENTITY_SECRET": IDENTITY_SECRET,
        "RASA_TOKEN": "cli-rasa-token-of-32-characters-or-more",
        "CONSOLE_SECRET": "cli-console-secret-of-32-characters-or-more",
        "ACTION_TOKEN": "cli-action-token-of-32-characters-or-more",
        "PATH": "/usr/bin:/bin",
    }


def bot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_import_then_show_and_recompute(tmp_path, env, db_url):
    result = bot(env, "customers", "import", *map(str, write(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert "imported 2 customers and 3 orders" in result.stdout

    shown = bot(env, "customers", "show", "C1")
    assert "王芳" in shown.stdout and "O2" in shown.stdout and "tier normal" in shown.stdout

    recomputed = bot(env, "tiers", "recompute")
    assert "0 moved up, 0 moved down, 2 unchanged" in recomputed.stdout


def test_an_import_with_a_broken_line_names_it_and_changes_nothing(tmp_path, env, db_url):
    customers, orders = write(tmp_path, CUSTOMERS, ORDERS + "O9,C1,yesterday,10.00,paid,x\n")
    result = bot(env, "customers", "import", str(customers), str(orders))
    assert result.returncode == 1
    assert f"{orders}:5: placed_at 'yesterday' is not a date" in result.stderr
    assert "nothing was imported" in result.stderr
    assert counts(db_url) == (0, 0)


def test_token_signs_for_a_known_customer_only(tmp_path, env):
    bot(env, "customers", "import", *map(str, write(tmp_path)))
    token = bot(env, "token", "C2", "--ttl", "60").stdout.strip()
    assert verify_token(IDENTITY_SECRET, token) == "C2"
    unknown = bot(env, "token", "C404")
    assert unknown.returncode == 1 and "no customer 'C404'" in unknown.stderr


def test_a_missing_secret_is_a_clear_error(env):
    result = bot({**env, "IDENTITY_SECRET": ""}, "token", "C1")
    assert result.returncode == 1 and "IDENTITY_SECRET must be set" in result.stderr


def test_a_short_secret_is_refused_by_name(env):
    result = bot({**env, "IDENTITY_SECRET": "cli-secret"}, "token", "C1")
    assert result.returncode == 1 and "IDENTITY_SECRET is too short" in result.stderr


def test_run_refuses_to_start_without_its_secrets(db_url):
    result = bot({"DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"}, "run")
    assert result.returncode == 1 and "IDENTITY_SECRET must be set" in result.stderr


def test_serve_runs_one_process_in_the_foreground_with_its_log_on_stdout(env, tmp_path):
    port = free_port()
    serve_env = {**env, "ACTION_PORT": str(port), "BOT_HOST": "127.0.0.1", "KB_DIR": str(tmp_path / "kb")}
    served = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "actions"],
        cwd=ROOT,
        env=serve_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _answers(f"http://127.0.0.1:{port}/health"):
            assert served.poll() is None and time.monotonic() < deadline, "the action server did not answer"
            time.sleep(0.3)
    finally:
        served.terminate()
        log, _ = served.communicate(timeout=30)
    assert "no knowledge base built" in log


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_serve_refuses_an_unknown_process_and_a_missing_secret(env):
    unknown = bot(env, "serve", "nginx")
    assert unknown.returncode == 2 and "invalid choice: 'nginx'" in unknown.stderr
    no_secret = bot({**env, "ACTION_TOKEN": ""}, "serve", "actions")
    assert no_secret.returncode == 1 and "ACTION_TOKEN must be set" in no_secret.stderr


def test_commands_that_need_no_secret_run_without_any(tmp_path, db_url):
    no_secrets = {"DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"}
    assert bot(no_secrets, "db", "init").returncode == 0
    imported = bot(no_secrets, "customers", "import", *map(str, write(tmp_path)))
    assert imported.returncode == 0, imported.stderr
    assert counts(db_url) == (2, 3)


@pytest.mark.model
def test_kb_eval_needs_no_secret(db_url):
    no_secrets = {"DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"}
    evaluated = bot(no_secrets, "kb", "eval", "--kb", str(KB / "shop.yml"), "--queries", str(QUERIES), "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert '"top1"' in evaluated.stdout


def test_agents_add_prints_a_working_token_and_refuses_a_duplicate(env, db_url):
    from bot.db.session import sessions_for
    from bot.service.agents import agent_for_token

    result = bot(env, "agents", "add", "anna", "--name", "Anna", "--password", "long-enough")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    with sessions_for(db_url)() as session:
        assert agent_for_token(session, token).display_name == "Anna"
    again = bot(env, "agents", "add", "anna", "--password", "long-enough")
    assert again.returncode == 1 and "already exists" in again.stderr
    short = bot(env, "agents", "add", "ben", "--password", "short")
    assert short.returncode == 1 and "at least 8 characters" in short.stderr


def test_agents_password_ends_the_sessions_and_remove_ends_all_access(env, db_url):
    from datetime import timedelta

    from sqlalchemy import select

    from bot.db.models import Agent
    from bot.db.session import sessions_for
    from bot.service.agents import agent_for_token, open_session, session_agent, verify_password

    def anna(session):
        return session.scalar(select(Agent).where(Agent.username == "anna"))

    token = bot(env, "agents", "add", "anna", "--password", "long-enough").stdout.strip().splitlines()[-1]
    with sessions_for(db_url).begin() as session:
        before = open_session(session, anna(session), timedelta(hours=1))

    changed = bot(env, "agents", "password", "anna", "--password", "another-long-one")
    assert changed.returncode == 0, changed.stderr
    with sessions_for(db_url).begin() as session:
        assert verify_password(anna(session), "another-long-one") and session_agent(session, before) is None
        after = open_session(session, anna(session), timedelta(hours=1))
    short = bot(env, "agents", "password", "anna", "--password", "short")
    assert short.returncode == 1 and "at least 8 characters" in short.stderr

    assert bot(env, "agents", "remove", "anna").returncode == 0
    with sessions_for(db_url)() as session:
        assert session_agent(session, after) is None and agent_for_token(session, token) is None
    again = bot(env, "agents", "remove", "anna")
    assert again.returncode == 1 and "no agent 'anna'" in again.stderr
