"""Readers for the facts asked only where they change the advice (issue 23): the day the job ended, the last day
the worker asked for the money, and who hired him on a building site. Registered in hotline.flows.answers.READERS
under the flows.yaml readers `date` and `hirer`; the reading itself is here (dates in hotline.flows.dates).

Slot values are plain data a tracker can hold: an ISO day (「2026-01-18」), "still" (the job goes on: the end-date
question is then moot), "none" (never asked for the money), "person" or "company"; hotline.wage_claim reads them.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from hotline.clock import today
from hotline.flows.dates import read_day

STILL_WORKING = "still"
NEVER_ASKED = "none"

# Who hired the worker: a person (包工头, 班组长, a 老乡 who took the job) or a company (a 分包单位, 劳务公司). The
# person words go first: 「包工头带我们进的公司工地」 names the 包工头 as the one who hired.
_PERSON = re.compile(r"包工头|工头|包头|班组长|带班|老乡|个人|私人|师傅|老板个人|大工|杂工头|^(个人|人)$")
_COMPANY = re.compile(r"公司|单位|劳务|分包|项目部|企业|集团|厂|^(公司|单位)$")


def _entity(entities: Iterable[Mapping[str, Any]], slot: str) -> Any:
    return next((e.get("value") for e in entities if e.get("entity") == slot and e.get("value")), None)


def read_date_slot(slot: str, text: str, entities: Iterable[Mapping[str, Any]] = (), intent: str | None = None,
                   on: dt.date | None = None) -> str | None:
    """An ISO day for end_date / last_demand_date; "still" for end_date when the job goes on, "none" for
    last_demand_date when the worker never asked; None when no day can be read."""
    if text in (STILL_WORKING, NEVER_ASKED):  # a value already read
        return str(text) if (text == STILL_WORKING) == (slot == "end_date") else None
    found = read_day(text, on or today())
    if found is None:
        return None
    if found.still_working:
        return STILL_WORKING if slot == "end_date" else None
    if found.never:
        return NEVER_ASKED if slot != "end_date" else None
    return found.day.isoformat() if found.day else None


def read_hirer(slot: str, text: str, entities: Iterable[Mapping[str, Any]] = (), intent: str | None = None) -> str | None:
    """"person" for a 包工头 or another individual, "company" for a company or unit; None when neither is said."""
    tapped = _entity(entities, slot)
    if tapped in ("person", "company"):
        return str(tapped)
    t = str(text or "").strip()
    if t in ("person", "company"):  # a value already read (stated unasked, then validated like any answer)
        return t
    if _PERSON.search(t):
        return "person"
    if _COMPANY.search(t):
        return "company"
    return None


# Words that name the hirer beyond doubt in any message (「包工头跑了」), read unasked like flows.yaml said_*.
_SAID_PERSON = re.compile(r"包工头|工头|包头|班组长")
_SAID_COMPANY = re.compile(r"劳务公司|分包公司|分包单位")


def said(text: str) -> dict[str, str]:
    """Facts of these slots a message states unasked: only who hired the worker, and only when named outright."""
    t = str(text or "")
    if _SAID_PERSON.search(t):
        return {"hired_by": "person"}
    if _SAID_COMPANY.search(t):
        return {"hired_by": "company"}
    return {}


_SHOWN = {("hired_by", "person"): "包工头个人", ("hired_by", "company"): "公司（分包、劳务公司等）",
          ("end_date", STILL_WORKING): "还在干", ("last_demand_date", NEVER_ASKED): "没要过"}


def display_value(slot: str, value: object) -> str | None:
    """How an operator or a summary shows these slots (「包工头个人」, 「2026年1月18日」); None for other slots."""
    if not isinstance(value, str):
        return None
    if (slot, value) in _SHOWN:
        return _SHOWN[(slot, value)]
    if slot in ("end_date", "last_demand_date"):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return None
        return f"{day.year}年{day.month}月{day.day}日"
    return None
