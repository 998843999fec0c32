"""Whether the bureau's operators are at their desks: office hours as data (office_hours.yml), a pure check."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from hotline.settings import get_settings

DATA = Path(__file__).resolve().parent / "office_hours.yml"
# Another file of the same shape (a bureau's own hours; tests that need "always open" or "always closed").
FILE_ENV = "HOTLINE_OFFICE_HOURS_FILE"


@dataclass(frozen=True)
class OfficeHours:
    tz: ZoneInfo
    weekdays: frozenset[int]
    periods: tuple[tuple[time, time], ...]
    closed_dates: frozenset[date]
    open_dates: frozenset[date]
    label: str

    def is_open(self, at: datetime) -> bool:
        """True when `at` (aware, or naive UTC) falls in a working period on a working day."""
        local = (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(self.tz)
        day = local.date()
        working = (local.isoweekday() in self.weekdays or day in self.open_dates) and day not in self.closed_dates
        return working and any(start <= local.time() < end for start, end in self.periods)


def _time(text: str) -> time:
    hours, minutes = str(text).split(":")
    return time(int(hours), int(minutes))


def office_hours() -> OfficeHours:
    """The hours in force: read again when the file changes (the bureau edits them; no restart needed)."""
    path = get_settings().office_hours_file or DATA
    return _load(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int) -> OfficeHours:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return OfficeHours(
        tz=ZoneInfo(data["timezone"]),
        weekdays=frozenset(int(d) for d in data["weekdays"]),
        periods=tuple((_time(a), _time(b)) for a, b in data["periods"]),
        closed_dates=frozenset(date.fromisoformat(str(d)) for d in data.get("closed_dates") or []),
        open_dates=frozenset(date.fromisoformat(str(d)) for d in data.get("open_dates") or []),
        label=str(data["label"]),
    )
