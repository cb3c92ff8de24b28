import ipaddress
import socket
import subprocess
import sys

import pytest

from bot.settings import ROOT, ConfigError, load_settings

SECRETS = {
    "IDENTITY_SECRET": "i" * 32,
    "RASA_TOKEN": "r" * 32,
    "CONSOLE_SECRET": "c" * 32,
    "ACTION_TOKEN": "a" * 32,
}
DEMO_VALUES = {
    name: value for name, value in load_settings({"BOT_DEMO": "1"}).to_env().items() if name in {*SECRETS, "REST_TOKEN"}
}


def test_secrets_must_be_set_outside_demo_mode():
    with pytest.raises(ConfigError, match="IDENTITY_SECRET"):
        load_settings({})
    with pytest.raises(ConfigError, match="RASA_TOKEN"):
        load_settings({"IDENTITY_SECRET": "x" * 32, "RASA_TOKEN": "changethis"})
    with pytest.raises(ConfigError, match="CONSOLE_SECRET"):
        load_settings({"IDENTITY_SECRET": "x" * 32, "RASA_TOKEN": "y" * 32})
    with pytest.raises(ConfigError, match="ACTION_TOKEN"):
        load_settings({"IDENTITY_SECRET": "x" * 32, "RASA_TOKEN": "y" * 32, "CONSOLE_SECRET": "z" * 32})


def test_demo_mode_has_working_defaults():
    settings = load_settings({"BOT_DEMO": "1"})
    assert settings.identity_secret and settings.rasa_token
    assert settings.database_url.startswith("sqlite:///") and settings.rasa_port == 5005


def test_urls_follow_the_ports():
    settings = load_settings({"BOT_DEMO": "1", "RASA_PORT": "6000", "ACTION_PORT": "6001"})
    assert settings.rasa_url == "http://localhost:6000"
    assert settings.action_server_url == "http://localhost:6001/webhook"


def test_a_malformed_number_names_its_variable():
    with pytest.raises(ConfigError, match="RASA_PORT must be a whole number"):
        load_settings({"BOT_DEMO": "1", "RASA_PORT": "five"})
    with pytest.raises(ConfigError, match="KB_ANSWER_THRESHOLD must be a number, not 'high'"):
        load_settings({"BOT_DEMO": "1", "KB_ANSWER_THRESHOLD": "high"})


def test_settings_read_the_mapping_given_and_nothing_else(monkeypatch):
    monkeypatch.setenv("RASA_PORT", "6000")
    assert load_settings({"BOT_DEMO": "1"}).rasa_port == 5005
    monkeypatch.setenv("BOT_DEMO", "1")
    assert load_settings().rasa_port == 6000


def test_an_empty_variable_counts_as_unset_but_a_prefix_may_be_empty():
    settings = load_settings({"BOT_DEMO": "1", "BOT_HOST": "", "RASA_PORT": " ", "KB_QUERY_PREFIX": ""})
    assert (settings.host, settings.rasa_port, settings.kb_query_prefix) == ("localhost", 5005, "")


def test_settings_survive_the_trip_through_the_environment():
    settings = load_settings({"BOT_DEMO": "1", "RASA_PORT": "6000", "KB_ANSWER_THRESHOLD": "0.75"})
    assert load_settings(settings.to_env()) == settings


def test_the_rest_channel_is_off_until_its_token_is_set():
    assert load_settings(SECRETS).rest_token == ""
    assert load_settings({**SECRETS, "REST_TOKEN": "t" * 32}).rest_token == "t" * 32
    assert load_settings({"BOT_DEMO": "1"}).rest_token


@pytest.mark.parametrize("name", [*SECRETS, "REST_TOKEN"])
@pytest.mark.parametrize("value", ["changeme", "s" * 31, "published demo value"])
def test_outside_demo_mode_a_known_or_short_secret_is_refused_by_name(name, value):
    value = DEMO_VALUES[name] if value == "published demo value" else value
    with pytest.raises(ConfigError, match=name):
        load_settings({**SECRETS, name: value})


def test_no_demo_value_is_accepted_under_another_name():
    with pytest.raises(ConfigError, match="IDENTITY_SECRET"):
        load_settings({**SECRETS, "IDENTITY_SECRET": DEMO_VALUES["RASA_TOKEN"]})


def test_demo_mode_accepts_any_secret_it_is_given():
    assert load_settings({"BOT_DEMO": "1", "IDENTITY_SECRET": "short"}).identity_secret == "short"


def test_settings_for_a_command_that_needs_no_secret_neither_ask_for_nor_hold_one():
    settings = load_settings({"IDENTITY_SECRET": "short", "DATABASE_URL": "sqlite:///x.db"}, secrets=False)
    assert settings.database_url == "sqlite:///x.db"
    assert {
        settings.identity_secret,
        settings.rasa_token,
        settings.console_secret,
        settings.rest_token,
        settings.action_token,
    } == {""}


@pytest.mark.parametrize("env", [{}, {"BOT_HOST": ""}])
def test_demo_mode_binds_to_loopback_unless_told_otherwise(env):
    host = load_settings({"BOT_DEMO": "1", **env}).host
    addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    assert addresses and all(ipaddress.ip_address(address).is_loopback for address in addresses)
    assert load_settings({"BOT_DEMO": "1", "BOT_HOST": "0.0.0.0"}).host == "0.0.0.0"


def test_the_readme_shows_the_settings_as_declared():
    """The README's configuration table is exactly what ``python -m bot.settings`` prints."""
    printed = subprocess.run(
        [sys.executable, "-m", "bot.settings"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("| variable | default | meaning |")
    end = next(n for n in range(start, len(lines)) if not lines[n].startswith("|"))
    assert "\n".join(lines[start:end]) == printed


def make_variable(name: str) -> str:
    return subprocess.run(
        ["make", "--no-print-directory", "-s", f"--eval=print-{name}: ; @echo $({name})", f"print-{name}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_make_builds_the_files_the_settings_default_to():
    settings = load_settings({}, secrets=False)
    assert ROOT / make_variable("MODEL") == settings.model_path
    assert str(ROOT / make_variable("EMBEDDING_MODEL")) == settings.kb_model
    assert ROOT / make_variable("KB") == settings.kb_dir / "current"
    assert ROOT / make_variable("WEBCHAT") == settings.webchat_js
