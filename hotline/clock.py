"""Liuzhou's clock: the one `now()` and `today()` behind every consultation date, deadline and law-in-force lookup.

The bureau's day is Liuzhou's (Asia/Shanghai, UTC+8): at 20:00 UTC on 31 December it is already 1 January there,
and a limitation period, a minimum-wage line or a draft's deadline is counted from that day, whichever server runs.
Timestamps are stored in UTC (`utcnow()`); days are Liuzhou's (`today()`). Tests freeze the one source with
`frozen(at)` instead of patching each module.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

LIUZHOU = ZoneInfo("Asia/Shanghai")


def _system() -> datetime:
    return datetime.now(timezone.utc)


_source: Callable[[], datetime] = _system


def now() -> datetime:
    """The present moment, aware, in Liuzhou's time."""
    return _source().astimezone(LIUZHOU)


def today() -> date:
    """Liuzhou's date."""
    return now().date()


def utcnow() -> datetime:
    """The present moment as the store keeps it: naive UTC."""
    return _source().astimezone(timezone.utc).replace(tzinfo=None)


def local(moment: datetime) -> datetime:
    """A moment in Liuzhou's time (a naive one is taken as UTC, as the store keeps it)."""
    return moment.replace(tzinfo=moment.tzinfo or timezone.utc).astimezone(LIUZHOU)


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Within the block the clock reads `at` (aware; naive is taken as UTC)."""
    global _source
    moment = at.replace(tzinfo=at.tzinfo or timezone.utc)
    previous, _source = _source, lambda: moment
    try:
        yield
    finally:
        _source = previous
