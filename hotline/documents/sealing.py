"""Encryption at rest for what a draft holds (Fernet, AES-128-CBC + HMAC), and the short-lived signed download token.

Keys derive from the one secret key (HOTLINE_SECRET_KEY, else var/secret_key) with a context word, so a key for
drafts opens nothing else. The reply-address context is the one bot/delivery.py seals handoffs with: a reminder's
sealed chat id opens with either.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from hotline.settings import get_settings

DRAFTS = "document-draft:"
REPLY_ADDRESS = "reply-address:"
FORMATS = ("pdf", "docx")


def _fernet(context: str) -> Fernet:
    key = hashlib.sha256((context + get_settings().secret_key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(data: bytes, context: str = DRAFTS) -> bytes:
    return _fernet(context).encrypt(data)


def unseal(sealed: bytes | None, context: str = DRAFTS) -> bytes | None:
    """The plain bytes, or None when nothing is there or the key changed since (lost, never guessed)."""
    if not sealed:
        return None
    try:
        return _fernet(context).decrypt(sealed)
    except InvalidToken:
        return None


def seal_json(value: Any) -> bytes:
    return seal(json.dumps(value, ensure_ascii=False).encode())


def unseal_json(sealed: bytes | None) -> Any:
    data = unseal(sealed)
    return json.loads(data) if data is not None else None


def seal_address(address: str) -> str:
    return seal(address.encode(), REPLY_ADDRESS).decode()


def unseal_address(sealed: str | None) -> str | None:
    data = unseal(sealed.encode() if sealed else None, REPLY_ADDRESS)
    return data.decode() if data is not None else None


# --- download tokens ------------------------------------------------------------------------------------------

class BadToken(ValueError):
    """Base: the token does not open a draft."""


class ForgedToken(BadToken):
    """Not signed with our key (or altered): 403."""


class ExpiredToken(BadToken):
    """Signed by us but past its time: 410."""


@dataclass(frozen=True)
class Grant:
    draft_id: int
    fmt: str  # pdf | docx
    expires_at: int  # epoch seconds


def _sign(body: str) -> str:
    key = hashlib.sha256(("document-link:" + get_settings().secret_key).encode()).digest()
    return base64.urlsafe_b64encode(hmac.new(key, body.encode(), hashlib.sha256).digest()[:18]).decode()


def make_token(draft_id: int, fmt: str, *, ttl_s: int, now: float | None = None) -> str:
    """`{id}.{fmt}.{expiry}.{mac}`: a number, a format and a time — no personal data in the URL."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    expires = int((now if now is not None else time.time()) + ttl_s)
    body = f"{draft_id}.{fmt}.{expires}"
    return f"{body}.{_sign(body)}"


def open_token(token: str, *, now: float | None = None) -> Grant:
    """The grant a token carries; ForgedToken when the signature fails, ExpiredToken when its time is past."""
    parts = token.split(".")
    if len(parts) != 4:
        raise ForgedToken("malformed")
    body, mac = ".".join(parts[:3]), parts[3]
    if not hmac.compare_digest(_sign(body), mac):
        raise ForgedToken("bad signature")
    draft_id, fmt, expires = parts[:3]
    if not draft_id.isdigit() or fmt not in FORMATS or not expires.isdigit():
        raise ForgedToken("malformed")
    if int(expires) < (now if now is not None else time.time()):
        raise ExpiredToken("expired")
    return Grant(int(draft_id), fmt, int(expires))
