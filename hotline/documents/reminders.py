"""When the deadline reminders fall — pure. 30 and 7 days before the arbitration period's last day (第二十七条)."""
from __future__ import annotations

import datetime as dt

DAYS_BEFORE: tuple[int, ...] = (30, 7)


def reminder_days(deadline: dt.date, today: dt.date,
                  before: tuple[int, ...] = DAYS_BEFORE) -> list[tuple[int, dt.date]]:
    """(days before, due day) for each reminder still ahead of `today` (a day already past is skipped: the citizen
    was told the date when agreeing)."""
    out = []
    for days in sorted(set(before), reverse=True):
        due = deadline - dt.timedelta(days=days)
        if due >= today:
            out.append((days, due))
    return out
