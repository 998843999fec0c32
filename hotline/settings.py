"""One typed Settings object that reads the environment (CONTRACT §1)."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HOTLINE_VAR_DIR", PROJECT_ROOT / "var"))


def _secret(name: str, filename: str) -> str:
    """An env secret, else one generated once and kept in var/ so restarts keep the same hashes."""
    if value := os.environ.get(name):
        return value
    path = VAR_DIR / filename
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    path.write_text(value)
    path.chmod(0o600)
    return value


def _rasa_urls() -> tuple[str, ...]:
    """RASA_URLS (comma list: several Rasa processes, a conversation always on the same one), else RASA_URL."""
    urls = [u.strip().rstrip("/") for u in os.environ.get("RASA_URLS", "").split(",") if u.strip()]
    return tuple(urls) or (os.environ.get("RASA_URL", "http://localhost:5005").rstrip("/"),)


def _actions_urls() -> tuple[str, ...]:
    urls = [u.strip() for u in os.environ.get("HOTLINE_ACTIONS_URLS", "").split(",") if u.strip()]
    first = os.environ.get("HOTLINE_ACTIONS_URL") or None
    return tuple(dict.fromkeys([first, *urls] if first else urls))


@dataclass(frozen=True)
class Settings:
    database_url: str = field(
        default_factory=lambda: os.environ.get("HOTLINE_DATABASE_URL", f"sqlite:///{VAR_DIR / 'hotline.db'}")
    )
    rasa_url: str = field(default_factory=lambda: os.environ.get("RASA_URL", "http://localhost:5005").rstrip("/"))
    rasa_urls: tuple[str, ...] = field(default_factory=_rasa_urls)
    rasa_timeout_s: float = field(default_factory=lambda: float(os.environ.get("HOTLINE_RASA_TIMEOUT", "20")))
    telegram_bot_token: str | None = field(default_factory=lambda: os.environ.get("TELEGRAM_BOT_TOKEN"))
    telegram_webhook_url: str | None = field(default_factory=lambda: os.environ.get("TELEGRAM_WEBHOOK_URL"))
    telegram_secret_token: str | None = field(default_factory=lambda: os.environ.get("TELEGRAM_SECRET_TOKEN"))
    wechat_token: str | None = field(default_factory=lambda: os.environ.get("WECHAT_TOKEN"))
    wechat_app_id: str | None = field(default_factory=lambda: os.environ.get("WECHAT_APP_ID"))
    wechat_app_secret: str | None = field(default_factory=lambda: os.environ.get("WECHAT_APP_SECRET"))
    wechat_aes_key: str | None = field(default_factory=lambda: os.environ.get("WECHAT_AES_KEY"))
    # Base URL of the WeChat API; tests point it at a local fake.
    wechat_api_base: str = field(
        default_factory=lambda: os.environ.get("WECHAT_API_BASE", "https://api.weixin.qq.com").rstrip("/")
    )
    sender_salt: str = field(default_factory=lambda: _secret("HOTLINE_SENDER_SALT", "sender_salt"))
    secret_key: str = field(default_factory=lambda: _secret("HOTLINE_SECRET_KEY", "secret_key"))
    # Closed doors (CONTRACT §1): the token of Rasa's HTTP API (`?token=`) and the secret Rasa shows the action server.
    rasa_token: str = field(default_factory=lambda: _secret("HOTLINE_RASA_TOKEN", "rasa_token"))
    actions_token: str = field(default_factory=lambda: _secret("HOTLINE_ACTIONS_TOKEN", "actions_token"))
    # Where the action server is (its webhook); the web app checks its health to hold turns while it is down.
    actions_url: str | None = field(default_factory=lambda: os.environ.get("HOTLINE_ACTIONS_URL") or None)
    # Every action-server worker (HOTLINE_ACTIONS_URLS, comma list; `make run` starts two): Rasa fails over between
    # them (scripts/rasa_resilience.py) and the door holds a turn only when none answers.
    actions_urls: tuple[str, ...] = field(default_factory=lambda: _actions_urls())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
