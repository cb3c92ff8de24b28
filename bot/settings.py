"""Every setting of the product, read from the environment in this one place.

Defaults serve one machine with no extra servers. Secrets have working defaults
only in demo mode (``BOT_DEMO=1``, which ``make run`` sets); elsewhere a missing,
published or short secret stops the process with a message naming the variable.
Commands that use no secret load the settings without them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.service.escalation import ServiceHours, ServiceHoursError

__all__ = ["ROOT", "ConfigError", "Settings", "load_settings"]

ROOT = Path(__file__).resolve().parent.parent

logger = logging.getLogger(__name__)

_DEMO_SECRETS = {
    "IDENTITY_SECRET": "demo-identity-secret-not-for-production",
    "RASA_TOKEN": "demo-rasa-token-not-for-production",
    "CONSOLE_SECRET": "demo-console-secret-not-for-production",
    "REST_TOKEN": "demo-rest-token-not-for-production",
    "ACTION_TOKEN": "demo-action-token-not-for-production",
}
_PLACEHOLDERS = {"", "changethis", "changeme", "secret"}
# Outside demo mode; secrets.token_urlsafe(32) gives 43 characters.
MIN_SECRET_LENGTH = 32


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    demo_mode: bool
    database_url: str
    tracker_store_url: str
    identity_secret: str
    rasa_token: str
    console_secret: str
    rest_token: str  # empty: the REST channel is off
    action_token: str  # the Rasa server's bearer token at the action server
    tiers_file: Path
    host: str
    rasa_port: int
    action_port: int
    console_port: int
    rasa_url: str
    public_rasa_url: str
    webchat_js: Path
    action_server_url: str
    token_ttl_seconds: int
    var_dir: Path
    model_path: Path
    kb_sources: tuple[Path, ...]
    kb_dir: Path
    kb_model: str
    kb_query_prefix: str
    kb_passage_prefix: str
    kb_hnsw_above: int
    kb_answer_threshold: float
    kb_suggest_threshold: float
    service_hours: str
    service_days: str
    service_timezone: str
    handoff_timeout_minutes: float
    handoff_minutes_each: float
    delivery_interval_seconds: float
    console_session_minutes: int
    escalation_webhook_url: str
    redis_url: str
    wechat_token: str
    wechat_app_id: str
    wechat_app_secret: str
    wechat_aes_key: str
    wechat_api_url: str
    wechat_reply_seconds: float

    @property
    def hours(self) -> ServiceHours:
        return ServiceHours.parse(self.service_hours, self.service_days, self.service_timezone)

    def to_env(self) -> dict[str, str]:
        """These settings as the variables that load them, for the processes we start."""
        return {
            "BOT_DEMO": "1" if self.demo_mode else "0",
            "DATABASE_URL": self.database_url,
            "TRACKER_STORE_URL": self.tracker_store_url,
            "IDENTITY_SECRET": self.identity_secret,
            "RASA_TOKEN": self.rasa_token,
            "CONSOLE_SECRET": self.console_secret,
            "REST_TOKEN": self.rest_token,
            "ACTION_TOKEN": self.action_token,
            "TIERS_FILE": str(self.tiers_file),
            "BOT_HOST": self.host,
            "RASA_PORT": str(self.rasa_port),
            "ACTION_PORT": str(self.action_port),
            "CONSOLE_PORT": str(self.console_port),
            "RASA_URL": self.rasa_url,
            "PUBLIC_RASA_URL": self.public_rasa_url,
            "WEBCHAT_JS": str(self.webchat_js),
            "ACTION_SERVER_URL": self.action_server_url,
            "TOKEN_TTL_SECONDS": str(self.token_ttl_seconds),
            "BOT_VAR_DIR": str(self.var_dir),
            "RASA_MODEL": str(self.model_path),
            "KB_SOURCES": os.pathsep.join(map(str, self.kb_sources)),
            "KB_DIR": str(self.kb_dir),
            "KB_MODEL": self.kb_model,
            "KB_QUERY_PREFIX": self.kb_query_prefix,
            "KB_PASSAGE_PREFIX": self.kb_passage_prefix,
            "KB_HNSW_ABOVE": str(self.kb_hnsw_above),
            "KB_ANSWER_THRESHOLD": str(self.kb_answer_threshold),
            "KB_SUGGEST_THRESHOLD": str(self.kb_suggest_threshold),
            "SERVICE_HOURS": self.service_hours,
            "SERVICE_DAYS": self.service_days,
            "SERVICE_TIMEZONE": self.service_timezone,
            "HANDOFF_TIMEOUT_MINUTES": str(self.handoff_timeout_minutes),
            "HANDOFF_MINUTES_EACH": str(self.handoff_minutes_each),
            "DELIVERY_INTERVAL_SECONDS": str(self.delivery_interval_seconds),
            "CONSOLE_SESSION_MINUTES": str(self.console_session_minutes),
            "ESCALATION_WEBHOOK_URL": self.escalation_webhook_url,
            "REDIS_URL": self.redis_url,
            "WECHAT_TOKEN": self.wechat_token,
            "WECHAT_APP_ID": self.wechat_app_id,
            "WECHAT_APP_SECRET": self.wechat_app_secret,
            "WECHAT_AES_KEY": self.wechat_aes_key,
            "WECHAT_API_URL": self.wechat_api_url,
            "WECHAT_REPLY_SECONDS": str(self.wechat_reply_seconds),
        }


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None


def _secret(env: Mapping[str, str], name: str, demo_mode: bool, *, optional: bool = False) -> str:
    """The secret ``name``; an ``optional`` one left unset is empty, which turns its feature off."""
    value = env.get(name, "").strip()
    if demo_mode:
        if value.lower() not in _PLACEHOLDERS:
            return value
        logger.warning("%s is not set: using the demo value (BOT_DEMO=1)", name)
        return _DEMO_SECRETS[name]
    if optional and not value:
        return ""
    if value.lower() in _PLACEHOLDERS:
        raise ConfigError(f"{name} must be set to a secret of your own (or set BOT_DEMO=1 for a demo)")
    # The demo values are published with the code, and a short secret can be guessed.
    if value in _DEMO_SECRETS.values():
        raise ConfigError(f"{name} is a published demo value: set a secret of your own")
    if len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(f"{name} is too short: use a random secret of at least {MIN_SECRET_LENGTH} characters")
    return value


def load_settings(env: Mapping[str, str] | None = None, *, secrets: bool = True) -> Settings:
    """Read the settings from ``env`` (the process environment by default).

    ``secrets=False`` is for commands that use no secret: the secret variables are
    neither read nor checked, and the secret settings are empty.
    """
    env = os.environ if env is None else env
    demo_mode = _flag(env.get("BOT_DEMO", ""))

    def secret(name: str, *, optional: bool = False) -> str:
        return _secret(env, name, demo_mode, optional=optional) if secrets else ""

    var_dir = Path(env.get("BOT_VAR_DIR") or ROOT / "var").resolve()
    # Loopback unless told otherwise: in demo mode anyone who can connect knows the secrets.
    host = env.get("BOT_HOST") or "localhost"
    rasa_port = _int(env, "RASA_PORT", 5005)
    action_port = _int(env, "ACTION_PORT", 5055)
    console_port = _int(env, "CONSOLE_PORT", 8000)
    rasa_url = env.get("RASA_URL") or f"http://{host}:{rasa_port}"
    settings = Settings(
        demo_mode=demo_mode,
        database_url=env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'bot.db'}",
        tracker_store_url=env.get("TRACKER_STORE_URL") or f"sqlite:///{var_dir / 'tracker.db'}",
        identity_secret=secret("IDENTITY_SECRET"),
        rasa_token=secret("RASA_TOKEN"),
        console_secret=secret("CONSOLE_SECRET"),
        rest_token=secret("REST_TOKEN", optional=True),
        action_token=secret("ACTION_TOKEN"),
        tiers_file=Path(env.get("TIERS_FILE") or ROOT / "tiers.yml"),
        host=host,
        rasa_port=rasa_port,
        action_port=action_port,
        console_port=console_port,
        rasa_url=rasa_url,
        public_rasa_url=env.get("PUBLIC_RASA_URL") or rasa_url,
        webchat_js=Path(env.get("WEBCHAT_JS") or ROOT / "var" / "web" / "rasa-webchat-1.0.1.js"),
        action_server_url=env.get("ACTION_SERVER_URL") or f"http://{host}:{action_port}/webhook",
        token_ttl_seconds=_int(env, "TOKEN_TTL_SECONDS", 24 * 3600),
        var_dir=var_dir,
        model_path=Path(env.get("RASA_MODEL") or ROOT / "models" / "bot.tar.gz"),
        kb_sources=tuple(Path(p) for p in (env.get("KB_SOURCES") or str(ROOT / "data" / "knowledge")).split(os.pathsep)),
        kb_dir=Path(env.get("KB_DIR") or var_dir / "kb"),
        kb_model=env.get("KB_MODEL") or str(ROOT / "models" / "embeddings" / "multilingual-e5-small"),
        kb_query_prefix=env.get("KB_QUERY_PREFIX", "query: "),
        kb_passage_prefix=env.get("KB_PASSAGE_PREFIX", "passage: "),
        kb_hnsw_above=_int(env, "KB_HNSW_ABOVE", 50_000),
        kb_answer_threshold=_float(env, "KB_ANSWER_THRESHOLD", 0.5),
        kb_suggest_threshold=_float(env, "KB_SUGGEST_THRESHOLD", 0.2),
        service_hours=env.get("SERVICE_HOURS") or "09:00-21:00",
        service_days=env.get("SERVICE_DAYS") or "mon-sun",
        service_timezone=env.get("SERVICE_TIMEZONE") or "Asia/Shanghai",
        handoff_timeout_minutes=_float(env, "HANDOFF_TIMEOUT_MINUTES", 10),
        handoff_minutes_each=_float(env, "HANDOFF_MINUTES_EACH", 4),
        delivery_interval_seconds=_float(env, "DELIVERY_INTERVAL_SECONDS", 2),
        console_session_minutes=_int(env, "CONSOLE_SESSION_MINUTES", 8 * 60),
        escalation_webhook_url=env.get("ESCALATION_WEBHOOK_URL", "").strip(),
        redis_url=env.get("REDIS_URL", "").strip(),
        # WeChat is off until an account's token is set: these come from its admin page.
        wechat_token=env.get("WECHAT_TOKEN", "").strip(),
        wechat_app_id=env.get("WECHAT_APP_ID", "").strip(),
        wechat_app_secret=env.get("WECHAT_APP_SECRET", "").strip(),
        wechat_aes_key=env.get("WECHAT_AES_KEY", "").strip(),
        wechat_api_url=(env.get("WECHAT_API_URL") or "https://api.weixin.qq.com").rstrip("/"),
        # WeChat waits 5 seconds for a reply in the same response, then retries.
        wechat_reply_seconds=_float(env, "WECHAT_REPLY_SECONDS", 4.0),
    )
    try:
        settings.hours
    except ServiceHoursError as error:
        raise ConfigError(str(error)) from None
    return settings
