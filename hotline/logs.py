"""Structured logs (one JSON object a line) with no personal data, for the web app, the action server and the
bridges.

Our code never logs what a citizen typed (only channels, kinds, counts and exception types); this formatter is the
second line: every phone and ID-card number left in a message or a traceback is masked (hotline.privacy), tokens
in URLs (`?token=`, Telegram's `/bot<token>/`) are starred, and uvicorn's access lines lose the client address.

Switched on by HOTLINE_LOG_FORMAT=json (the processes call `configure_from_env`); HOTLINE_LOG_LEVEL sets the level.
"""
from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone
from typing import IO, Any

from hotline.privacy import mask_text
from hotline.settings import get_settings

_TOKEN_QUERY = re.compile(r"((?:token|secret|access_token|password)=)[^&\s\"']+", re.IGNORECASE)
_BOT_TOKEN = re.compile(r"/bot\d+:[A-Za-z0-9_-]+")
# Loggers that install handlers of their own: their records go to the root handler instead, in the same format.
_THIRD_PARTY = ("uvicorn", "uvicorn.error", "uvicorn.access", "rasa_sdk", "sanic.root", "sanic.error",
                "sanic.access", "sanic.server", "telegram", "httpx", "apscheduler")
# Fields a record may carry (logger.info(..., extra={...})) that are safe to show as they are.
_EXTRA_FIELDS = ("route", "method", "status", "channel", "duration_ms", "count", "depth")


def scrub(text: str) -> str:
    """Text with phone and ID-card numbers masked and secrets in URLs starred."""
    text = mask_text(text) or ""
    text = _TOKEN_QUERY.sub(r"\1***", text)
    return _BOT_TOKEN.sub("/bot***", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, service, logger, msg (scrubbed), exc (scrubbed), safe extras."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and record.args:
            record.args = ("-", *record.args[1:])  # the client's IP address is personal data too
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = str(record.msg)
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": scrub(message),
        }
        for key in _EXTRA_FIELDS:
            if key in record.__dict__:
                payload[key] = record.__dict__[key]
        if record.exc_info:
            payload["exc"] = scrub(self.formatException(record.exc_info))
        elif record.exc_text:
            payload["exc"] = scrub(record.exc_text)
        return json.dumps(payload, ensure_ascii=False, default=str)


class _OurHandler(logging.StreamHandler):  # type: ignore[type-arg]  # StreamHandler[TextIO] fails at run time on 3.10
    """Marks the handler this module installed, so configuring twice replaces it instead of doubling lines."""


def configure(service: str, *, level: str | int | None = None, stream: IO[str] | None = None) -> None:
    """Send every log record of this process, ours and the frameworks', to one JSON handler on stderr."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        # Ours from before, and plain stream handlers (basicConfig, coloredlogs); a test's capture handler stays.
        if isinstance(handler, _OurHandler) or type(handler) is logging.StreamHandler \
                or type(handler).__module__.startswith("coloredlogs"):
            root.removeHandler(handler)
    handler = _OurHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root.addHandler(handler)
    root.setLevel(level or get_settings().log_level)
    for name in _THIRD_PARTY:
        logger = logging.getLogger(name)
        logger.handlers = [h for h in logger.handlers if not isinstance(h, logging.StreamHandler)
                           or type(h).__name__ == "LogCaptureHandler"]
        logger.propagate = True
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry URLs with tokens


def configure_from_env(service: str) -> bool:
    """`configure(service)` when HOTLINE_LOG_FORMAT=json; True when it did."""
    if get_settings().log_format != "json":
        return False
    configure(service)
    return True
