"""Handoffs to a person: the operators' queue, taken and closed. The only SQL about the `handoffs` table."""
from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from hotline import codes
from hotline.store.errors import StoreError
from hotline.store.models import Handoff, utcnow

HANDOFF_STATUSES = ("waiting", "taken", "closed")


def open_handoff(
    *, session: Session, channel: str, sender_hash: str, category: str | None = None, summary: str | None = None
) -> Handoff:
    """Queue a citizen who asked for a person; a conversation with a handoff still waiting or taken keeps that one."""
    conversation = f"{channel}:{sender_hash}"
    existing = active_handoff(session=session, conversation_id=conversation)
    if existing is not None:
        if summary:
            existing.summary = summary
        session.flush()
        return existing
    handoff = Handoff(
        created_at=utcnow(),
        channel=_code(channel, codes.CHANNELS, "channel"),
        sender_hash=sender_hash,
        conversation_id=conversation,
        category=_code(category, codes.CATEGORIES, "category") if category else None,
        summary=summary or None,
        status="waiting",
        acknowledged=False,
    )
    session.add(handoff)
    session.flush()
    return handoff


def list_handoffs(*, session: Session, status: str | None = "waiting") -> list[Handoff]:
    """The queue, oldest first; status None lists every handoff."""
    query = select(Handoff).order_by(Handoff.created_at, Handoff.id)
    if status is not None:
        query = query.where(Handoff.status == status)
    return list(session.scalars(query))


def count_by_status(*, session: Session) -> list[tuple[str, int]]:
    """(status, handoffs) over every handoff: the metrics' gauge."""
    return [(status, int(n)) for status, n in session.execute(
        select(Handoff.status, func.count()).group_by(Handoff.status))]


def get_handoff(*, session: Session, handoff_id: int) -> Handoff | None:
    return session.get(Handoff, handoff_id)


_HANDOFFS = Handoff.__table__  # a Core statement on the table: no ORM compile state, 0.12 ms against 0.2 a turn
_ACTIVE_HANDOFF_ID = (select(_HANDOFFS.c.id)
                      .where(_HANDOFFS.c.conversation_id == bindparam("conversation"),
                             _HANDOFFS.c.status.in_(("waiting", "taken")))
                      .order_by(_HANDOFFS.c.id.desc())
                      .limit(1))


def active_handoff(*, session: Session, conversation_id: str) -> Handoff | None:
    """The conversation's handoff that is waiting for or talking with an operator, if any.

    Asked on every citizen turn, before and after Rasa, and nearly always answered "none": the id is looked up with
    a plain column query first and the row loaded only when there is one (the ORM query cost the web app more CPU
    than the database did: reports/profile_web_gil2.md of 4551f20).
    """
    found = session.execute(_ACTIVE_HANDOFF_ID, {"conversation": conversation_id}).scalar()
    return None if found is None else session.get(Handoff, found)


def set_handoff_status(
    *, session: Session, handoff_id: int, status: str, operator: str | None = None
) -> Handoff | None:
    """Mark a handoff taken or closed (by `operator`); None when there is no such handoff."""
    if status not in HANDOFF_STATUSES:
        raise StoreError(f"unknown handoff status {status!r}")
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        return None
    now = utcnow()
    if status == "taken" and handoff.taken_at is None:
        handoff.taken_at = now
    if status == "closed" and handoff.closed_at is None:
        handoff.closed_at = now
        handoff.reply_address = None  # delivery is over: the raw chat id goes
    handoff.status = status
    if operator:
        handoff.operator = operator
    session.flush()
    return handoff


def _code(value: str, table: dict[str, str], what: str) -> str:
    code = codes.code_for(value, table)
    if code is None:
        raise StoreError(f"unknown {what} {value!r}")
    return code
