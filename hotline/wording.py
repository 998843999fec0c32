"""The domain's responses (domain/*.yml), read once for everyone who words a sentence outside Rasa.

`domain/*.yml` is the one home of every citizen-facing sentence. Rasa reads it for the bot; the doors (the handoff
notes, the reminders), the copilot and the topic answers read it here: one reader, one rule for which variation is
the plain one (no `channel`, no `condition`).
"""
from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DOMAIN_DIR = Path(__file__).resolve().parent.parent / "domain"

Variation = dict[str, Any]


@lru_cache(maxsize=4)
def responses(domain_dir: Path = DOMAIN_DIR) -> dict[str, list[Variation]]:
    """Every response of the domain files, by name."""
    merged: dict[str, list[Variation]] = {}
    for path in sorted(domain_dir.glob("*.yml")):
        merged.update((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {})
    return merged


def plain(name: str, domain_dir: Path = DOMAIN_DIR) -> Variation | None:
    """The variation every channel gets (no `channel`, no `condition`); None when the domain has no such response."""
    variations = responses(domain_dir).get(name) or []
    return next((v for v in variations if not v.get("channel") and not v.get("condition")), None)


def text(name: str, **values: Any) -> str:
    """The plain variation's text with its {placeholders} filled; KeyError when the response or a value is missing
    (a sentence is never sent half-filled)."""
    found = plain(name)
    if found is None or not found.get("text"):
        raise KeyError(f"no response {name} with a text in the domain")
    return str(found["text"]).format(**values)


def placeholders(name: str) -> tuple[str, ...]:
    """The {names} a response's variations fill, in order of first use."""
    seen: dict[str, None] = {}
    for variation in responses().get(name) or []:
        for _, field, _, _ in string.Formatter().parse(str(variation.get("text") or "")):
            if field:
                seen.setdefault(field, None)
    return tuple(seen)


def door(name: str, **values: Any) -> str:
    """A sentence a door says without Rasa (domain/doors.yml), with the 12348 line (utter_hotline_12348) and the
    office hours in force (hotline/office_hours.yml, read again when it changes) filled in, and any `values` the
    sentence names (a limit the door enforces)."""
    from hotline.office_hours import office_hours

    return text(name, hotline=text("utter_hotline_12348"), hours=office_hours().label, **values)
