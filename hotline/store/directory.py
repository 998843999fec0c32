"""The advisor roster (一村（社区）一法律顾问) as stored: loading it, reading it, the fuzzy lookup over it.
The only SQL about the `advisors` table; parsing and matching are the pure hotline.directory."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from hotline.directory import AdvisorEntry, lookup
from hotline.store.errors import StoreError
from hotline.store.models import Advisor


class SampleOverRealRoster(StoreError):
    """Sample advisors must never replace or join the bureau's real roster."""


def import_directory(*, session: Session, entries: Sequence[AdvisorEntry]) -> int:
    """Upsert the roster on (street, community); returns how many entries were written.

    Invented advisors must never be shown next to real ones: loading a real roster (no entry marked sample)
    removes every sample row, and loading a sample roster over a real one raises SampleOverRealRoster.
    """
    if any(e.sample for e in entries):
        if session.scalar(select(Advisor.id).where(Advisor.sample.is_(False)).limit(1)) is not None:
            raise SampleOverRealRoster("the directory holds the bureau's roster; sample data was not loaded over it")
    elif entries:
        session.execute(delete(Advisor).where(Advisor.sample.is_(True)))
    existing = {(a.street, a.community): a for a in session.scalars(select(Advisor))}
    for entry in entries:
        row = existing.get((entry.street, entry.community))
        if row is None:
            row = Advisor(street=entry.street, community=entry.community)
            session.add(row)
            existing[(entry.street, entry.community)] = row
        row.kind = entry.kind
        row.aliases = "|".join(entry.aliases) or None
        row.advisor = entry.advisor
        row.advisor_firm = entry.advisor_firm
        row.advisor_phone = entry.advisor_phone
        row.justice_office = entry.justice_office
        row.office_address = entry.office_address
        row.office_phone = entry.office_phone
        row.office_hours = entry.office_hours
        row.sample = entry.sample
    session.flush()
    return len(entries)


# Read by every action run that places a street or community: the table's columns as plain rows, not ORM objects
# (0.3 ms of the action server's turn was loading 21 Advisor objects; issue 28).
_ADVISORS = cast(Table, Advisor.__table__)
_ROSTER = select(*(c for c in _ADVISORS.c if c.name != "id")).order_by(_ADVISORS.c.id)


def directory_entries(*, session: Session) -> list[AdvisorEntry]:
    """The whole roster, in the order it was loaded."""
    return [_entry(a) for a in session.execute(_ROSTER)]


def find_advisors(*, session: Session, query: str, limit: int = 5) -> list[AdvisorEntry]:
    """Fuzzy lookup on street, community or alias (hotline.directory.lookup over the stored roster)."""
    return lookup(directory_entries(session=session), query, limit)


def _entry(a: Any) -> AdvisorEntry:  # a row of _ROSTER
    return AdvisorEntry(
        street=a.street,
        community=a.community,
        kind=a.kind,
        aliases=tuple(x for x in (a.aliases or "").split("|") if x),
        advisor=a.advisor,
        advisor_firm=a.advisor_firm,
        advisor_phone=a.advisor_phone,
        justice_office=a.justice_office,
        office_address=a.office_address,
        office_phone=a.office_phone,
        office_hours=a.office_hours,
        sample=bool(a.sample),
    )
