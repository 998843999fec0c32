"""Personal data at the edges: salted sender hashes and masking of phone and ID numbers."""
from __future__ import annotations

import hashlib
import hmac
import re

from hotline_nlu.phones import phones_in

_ID_CARD = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")


def hash_sender(sender_id: str, salt: str) -> str:
    """A salted HMAC-SHA256 of a chat id: stable per salt, never reversible to the raw id."""
    return hmac.new(salt.encode(), sender_id.encode(), hashlib.sha256).hexdigest()


def mask_phone(phone: str | None) -> str | None:
    """138****5678 for a mobile; the middle digits starred for any other number."""
    if not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_text(text: str | None) -> str | None:
    """Free text with every ID-card number and every phone number the readers would read (hotline_nlu.phones:
    mobile, landline, said in words) masked, for logs and exports."""
    if not text:
        return text
    text = _ID_CARD.sub(lambda m: m.group(1) + "********" + m.group(2), text)
    for phone in sorted(phones_in(text), key=lambda p: p.start, reverse=True):
        text = text[:phone.start] + phone.masked + text[phone.end:]
    return text
