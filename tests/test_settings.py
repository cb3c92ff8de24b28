import pytest

from bot.settings import ConfigError, load_settings


def test_secrets_must_be_set_outside_demo_mode():
    with pytest.raises(ConfigError, match="IDENTITY_SECRET"):
        load_settings({})
    with pytest.raises(ConfigError, match="RASA_TOKEN"):
        load_settings({"IDENTITY_SECRET": "x" * 32, "RASA_TOKEN": "changethis"})
    with pytest.raises(ConfigError, match="CONSOLE_SECRET"):
        load_settings({"IDENTITY_SECRET": "x" * 32, "RASA_TOKEN": "y" * 32})


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


def test_settings_survive_the_trip_through_the_environment():
    settings = load_settings({"BOT_DEMO": "1", "RASA_PORT": "6000", "KB_ANSWER_THRESHOLD": "0.75"})
    assert load_settings(settings.to_env()) == settings


def test_the_rest_channel_is_off_until_its_token_is_set():
    secrets = {"IDENTITY_SECRET": "x" * 32, "RASA_TOKEN": "y" * 32, "CONSOLE_SECRET": "z" * 32}
    assert load_settings(secrets).rest_token == ""
    assert load_settings({**secrets, "REST_TOKEN": "changeme"}).rest_token == ""
    assert load_settings({**secrets, "REST_TOKEN": "r" * 32}).rest_token == "r" * 32
    assert load_settings({"BOT_DEMO": "1"}).rest_token
