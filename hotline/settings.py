"""One typed Settings object that reads the environment (CONTRACT §1); no other module of the app reads it.

Each field names its variable (`metadata["env"]`), and README's Configuration table has one row per field
(tests/test_settings.py checks both). An empty variable counts as unset. `get_settings()` is read at call time and
cached per environment: a test that sets a variable gets the new value without clearing anything.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TypeVar

PROJECT_ROOT = Path(__file__).resolve().parent.parent

T = TypeVar("T")

# Defaults other modules quote by name (help texts, docstrings).
DEFAULT_RETENTION_DAYS = 180
DEFAULT_DRAFT_DAYS = 30
DEFAULT_HANDOFF_IDLE_HOURS = 24.0
DEFAULT_RASA_WAIT_S = 10.0
DEFAULT_ACTIONS_WAIT_S = 6.0


def _raw(name: str) -> str | None:
    return os.environ.get(name) or None


def _var_dir() -> Path:
    return Path(_raw("HOTLINE_VAR_DIR") or PROJECT_ROOT / "var")


def env(name: str, default: T, parse: Callable[[str], T] | None = None) -> T:
    """A field read from variable `name` (parsed by `parse`), else `default`."""
    return derived(name, lambda: default, parse)


def derived(name: str, default: Callable[[], T], parse: Callable[[str], T] | None = None) -> T:
    """A field read from variable `name`, else computed from others (a file in the var directory)."""

    def read() -> T:
        raw = _raw(name)
        if raw is None:
            return default()
        return parse(raw) if parse else raw  # type: ignore[return-value]  # no parse: the field is a str

    return field(default_factory=read, metadata={"env": (name,)})


def _url(raw: str) -> str:
    return raw.rstrip("/")


def _urls(raw: str) -> tuple[str, ...]:
    return tuple(u.strip().rstrip("/") for u in raw.split(",") if u.strip())


def _on(raw: str) -> bool:
    return raw.lower() not in ("0", "off", "false", "no")


def _secret(name: str, filename: str) -> str:
    """An env secret, else one generated once and kept in var/ so restarts keep the same hashes."""
    if value := _raw(name):
        return value
    path = _var_dir() / filename
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    path.write_text(value)
    path.chmod(0o600)
    return value


def secret(name: str, filename: str) -> str:
    return field(default_factory=lambda: _secret(name, filename), metadata={"env": (name,)})


def _rasa_urls() -> tuple[str, ...]:
    """RASA_URLS (comma list: several Rasa processes, a conversation always on the same one), else RASA_URL."""
    return _urls(_raw("RASA_URLS") or "") or ((_raw("RASA_URL") or "http://localhost:5005").rstrip("/"),)


def _actions_urls() -> tuple[str, ...]:
    urls = [u.strip() for u in (_raw("HOTLINE_ACTIONS_URLS") or "").split(",") if u.strip()]
    first = _raw("HOTLINE_ACTIONS_URL")
    return tuple(dict.fromkeys([first, *urls] if first else urls))


@dataclass(frozen=True)
class Settings:
    # Where var/ is: generated secrets, SQLite files, the outbox, the door's journal. HOTLINE_VAR_DIR.
    var_dir: Path = env("HOTLINE_VAR_DIR", PROJECT_ROOT / "var", Path)  # noqa: RUF009 - a field factory
    # The consultation log. HOTLINE_DATABASE_URL.
    database_url: str = derived("HOTLINE_DATABASE_URL", lambda: f"sqlite:///{_var_dir() / 'hotline.db'}")
    # Rasa's conversations (the purge clears them too); None: var/rasa_tracker.db. HOTLINE_TRACKER_STORE_URL.
    tracker_store_url: str | None = env("HOTLINE_TRACKER_STORE_URL", None)
    # Rasa's HTTP API. RASA_URL.
    rasa_url: str = env("RASA_URL", "http://localhost:5005", _url)
    # Every Rasa process (comma list), else RASA_URL alone. RASA_URLS.
    rasa_urls: tuple[str, ...] = field(default_factory=_rasa_urls, metadata={"env": ("RASA_URLS",)})
    # Seconds the doors wait for one Rasa call. HOTLINE_RASA_TIMEOUT.
    rasa_timeout_s: float = env("HOTLINE_RASA_TIMEOUT", 20.0, float)
    # How long a turn asks again for a Rasa process that refused (never beyond the time-out). HOTLINE_RASA_WAIT_S.
    rasa_wait_s: float = env("HOTLINE_RASA_WAIT_S", DEFAULT_RASA_WAIT_S, float)
    # Calls inside one Rasa process at once; the door queues the rest in order (bot/rasa_placement.py). 0: no limit.
    # HOTLINE_RASA_CONCURRENCY.
    rasa_concurrency: int = env("HOTLINE_RASA_CONCURRENCY", 4, int)
    telegram_bot_token: str | None = env("TELEGRAM_BOT_TOKEN", None)  # TELEGRAM_BOT_TOKEN
    telegram_webhook_url: str | None = env("TELEGRAM_WEBHOOK_URL", None)  # TELEGRAM_WEBHOOK_URL
    telegram_secret_token: str | None = env("TELEGRAM_SECRET_TOKEN", None)  # TELEGRAM_SECRET_TOKEN
    telegram_webhook_port: int = env("TELEGRAM_WEBHOOK_PORT", 8443, int)  # TELEGRAM_WEBHOOK_PORT
    # The Bot API (reminders, operators' replies); tests point it at a fake. TELEGRAM_API_BASE.
    telegram_api_base: str = env("TELEGRAM_API_BASE", "https://api.telegram.org", _url)
    wechat_token: str | None = env("WECHAT_TOKEN", None)  # WECHAT_TOKEN
    wechat_app_id: str | None = env("WECHAT_APP_ID", None)  # WECHAT_APP_ID
    wechat_app_secret: str | None = env("WECHAT_APP_SECRET", None)  # WECHAT_APP_SECRET
    wechat_aes_key: str | None = env("WECHAT_AES_KEY", None)  # WECHAT_AES_KEY
    # Base URL of the WeChat API; tests point it at a local fake. WECHAT_API_BASE.
    wechat_api_base: str = env("WECHAT_API_BASE", "https://api.weixin.qq.com", _url)
    sender_salt: str = secret("HOTLINE_SENDER_SALT", "sender_salt")  # HOTLINE_SENDER_SALT
    secret_key: str = secret("HOTLINE_SECRET_KEY", "secret_key")  # HOTLINE_SECRET_KEY
    # Closed doors (CONTRACT §1): the token of Rasa's HTTP API (`?token=`) and the secret Rasa shows the action server.
    rasa_token: str = secret("HOTLINE_RASA_TOKEN", "rasa_token")  # HOTLINE_RASA_TOKEN
    actions_token: str = secret("HOTLINE_ACTIONS_TOKEN", "actions_token")  # HOTLINE_ACTIONS_TOKEN
    # Where the action server is (its webhook); the web app checks its health to hold turns while it is down.
    # HOTLINE_ACTIONS_URL.
    actions_url: str | None = env("HOTLINE_ACTIONS_URL", None)
    # Every action-server worker (HOTLINE_ACTIONS_URLS, comma list; `make run` starts two): Rasa fails over between
    # them (rasa_runtime/hotline_rasa/resilience.py) and the door holds a turn only when none answers.
    actions_urls: tuple[str, ...] = field(default_factory=_actions_urls, metadata={"env": ("HOTLINE_ACTIONS_URLS",)})
    # How long the door asks again for an action server before it holds a message. HOTLINE_ACTIONS_WAIT_S.
    actions_wait_s: float = env("HOTLINE_ACTIONS_WAIT_S", DEFAULT_ACTIONS_WAIT_S, float)
    actions_port: int = env("HOTLINE_ACTIONS_PORT", 5055, int)  # the action server's port. HOTLINE_ACTIONS_PORT
    actions_host: str = env("HOTLINE_ACTIONS_HOST", "127.0.0.1")  # the address it binds. HOTLINE_ACTIONS_HOST
    # Actions that raise on purpose, `action@sender-prefix` comma list (fault tests only). HOTLINE_FAULT_ACTIONS.
    fault_actions: str = env("HOTLINE_FAULT_ACTIONS", "")
    # Rate-limit buckets, held messages and the door's journal shared by web workers. HOTLINE_REDIS_URL.
    redis_url: str | None = env("HOTLINE_REDIS_URL", None)
    max_body_bytes: int = env("HOTLINE_MAX_BODY_BYTES", 256 * 1024, int)  # 413 beyond. HOTLINE_MAX_BODY_BYTES
    rate_limit: bool = env("HOTLINE_RATE_LIMIT", True, _on)  # `off`/`0` turns limits off. HOTLINE_RATE_LIMIT
    # `burst/per_minute` overrides of one bucket (bot/limits.py has the defaults). HOTLINE_RATE_<SCOPE>.
    rate_sender: str | None = env("HOTLINE_RATE_SENDER", None)
    rate_ip: str | None = env("HOTLINE_RATE_IP", None)
    rate_login: str | None = env("HOTLINE_RATE_LOGIN", None)
    rate_poll: str | None = env("HOTLINE_RATE_POLL", None)
    # A handoff idle this long ends when the citizen writes again. HOTLINE_HANDOFF_IDLE_HOURS.
    handoff_idle_hours: float = env("HOTLINE_HANDOFF_IDLE_HOURS", DEFAULT_HANDOFF_IDLE_HOURS, float)
    # The operators' hours; None: hotline/office_hours.yml. HOTLINE_OFFICE_HOURS_FILE.
    office_hours_file: Path | None = env("HOTLINE_OFFICE_HOURS_FILE", None, Path)  # noqa: RUF009 - as above
    # The supervisor's state file (run.sh sets it); None: var/supervisor.json. HOTLINE_SUPERVISOR_STATE.
    supervisor_state: Path | None = env("HOTLINE_SUPERVISOR_STATE", None, Path)  # noqa: RUF009 - as above
    # Consultations waiting while the database is down; None: var/outbox.db. HOTLINE_OUTBOX_PATH.
    outbox_path: Path | None = env("HOTLINE_OUTBOX_PATH", None, Path)  # noqa: RUF009 - as above
    outbox_retry_s: float = env("HOTLINE_OUTBOX_RETRY_S", 30.0, float)  # HOTLINE_OUTBOX_RETRY_S
    # `hotline purge` without --before clears what is older. HOTLINE_RETENTION_DAYS.
    retention_days: int = env("HOTLINE_RETENTION_DAYS", DEFAULT_RETENTION_DAYS, int)
    draft_days: int = env("HOTLINE_DRAFT_DAYS", DEFAULT_DRAFT_DAYS, int)  # a draft is kept. HOTLINE_DRAFT_DAYS
    # Seconds a document's download link works. HOTLINE_DOCUMENT_LINK_TTL.
    document_link_ttl_s: int = env("HOTLINE_DOCUMENT_LINK_TTL", 24 * 3600, int)
    # The drafts' font: every Debian with fonts-noto-cjk has it; Word on Windows falls back to 宋体 by the eastAsia
    # name. HOTLINE_DOCUMENT_FONT.
    document_font: str = env("HOTLINE_DOCUMENT_FONT", "Noto Serif CJK SC")
    # The address WeChat and Telegram links start with. HOTLINE_PUBLIC_URL.
    public_url: str = env("HOTLINE_PUBLIC_URL", "http://localhost:8000", _url)
    log_level: str = env("HOTLINE_LOG_LEVEL", "INFO", str.upper)  # HOTLINE_LOG_LEVEL
    log_format: str = env("HOTLINE_LOG_FORMAT", "text", str.lower)  # `json`: structured logs. HOTLINE_LOG_FORMAT
    # A bearer token /metrics then requires. HOTLINE_METRICS_TOKEN.
    metrics_token: str | None = env("HOTLINE_METRICS_TOKEN", None)
    # The directory that sums metrics over web workers. PROMETHEUS_MULTIPROC_DIR.
    prometheus_multiproc_dir: str | None = env("PROMETHEUS_MULTIPROC_DIR", None)


def variables() -> dict[str, tuple[str, ...]]:
    """Each field's variables (RASA_URLS also reads RASA_URL; HOTLINE_ACTIONS_URLS, HOTLINE_ACTIONS_URL)."""
    return {f.name: f.metadata["env"] for f in fields(Settings)}


# Every variable a field reads, also those it falls back on: a change to any of them makes a new Settings.
_WATCHED = tuple(dict.fromkeys([*(n for names in variables().values() for n in names), "RASA_URL",
                                "HOTLINE_ACTIONS_URL", "HOTLINE_VAR_DIR"]))
# os.environ.get costs a key encoding and, for an unset variable, a caught KeyError: some 50 µs for these names
# each call. The mapping behind os.environ, looked up with its own encoded keys, gives the same answer in a few µs.
_ENCODED = tuple(getattr(os.environ, "encodekey", lambda name: name)(name) for name in _WATCHED)
_cached: tuple[tuple[object, ...], Settings] | None = None


def _snapshot() -> tuple[object, ...]:
    data = getattr(os.environ, "_data", None)
    if isinstance(data, dict):
        return tuple(map(data.get, _ENCODED))
    return tuple(os.environ.get(name) for name in _WATCHED)  # os.environ replaced by a plain mapping


def get_settings() -> Settings:
    """The settings of the environment as it is now (built again only when a variable it reads changed)."""
    global _cached
    key = _snapshot()
    if _cached is None or _cached[0] != key:
        _cached = (key, Settings())
    return _cached[1]


def _cache_clear() -> None:
    global _cached
    _cached = None


# Older tests and scripts clear it as they did when it was an lru_cache.
get_settings.cache_clear = _cache_clear  # type: ignore[attr-defined]
