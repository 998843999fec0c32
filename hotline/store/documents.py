"""Store functions for draft papers and deadline reminders (issue 25): the only SQL about them.

A draft's content (with the applicant's personal fields) and its files are sealed before they reach the database;
list functions return what is not personal (kind, dates, channel, counts). Purge deletes drafts whole.
"""
from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from hotline import clock
from hotline.documents import sealing
from hotline.documents.reminders import DAYS_BEFORE, reminder_days
from hotline.store.models import DocumentDraft, Reminder

DRAFT_KINDS = ("arbitration", "legal_aid")


def utcnow() -> dt.datetime:
    return clock.utcnow()


@dataclass(frozen=True)
class OpenDraft:
    id: int
    kind: str
    content: dict[str, Any]
    docx: bytes
    pdf: bytes | None


def save_draft(*, session: Session, kind: str, channel: str, content: dict[str, Any], docx: bytes,
               pdf: bytes | None, sender_hash: str | None = None, operator: str | None = None,
               deadline: dt.date | None = None, now: dt.datetime | None = None) -> DocumentDraft:
    if kind not in DRAFT_KINDS:
        raise ValueError(f"unknown draft kind {kind!r}")
    row = DocumentDraft(created_at=now or utcnow(), kind=kind, channel=channel, sender_hash=sender_hash,
                        operator=operator, deadline=deadline, sealed_content=sealing.seal_json(content),
                        sealed_docx=sealing.seal(docx), sealed_pdf=sealing.seal(pdf) if pdf else None, downloads=0)
    session.add(row)
    session.flush()
    return row


def open_draft(*, session: Session, draft_id: int, count_download: bool = False) -> OpenDraft | None:
    """The draft's content and files, unsealed; None when purged (or sealed under another key)."""
    row = session.get(DocumentDraft, draft_id)
    if row is None:
        return None
    content, docx = sealing.unseal_json(row.sealed_content), sealing.unseal(row.sealed_docx)
    if content is None or docx is None:
        return None
    if count_download:
        row.downloads += 1
    return OpenDraft(row.id, row.kind, content, docx, sealing.unseal(row.sealed_pdf))


def list_drafts(*, session: Session, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first, nothing personal: id, kind, made, channel, operator, deadline, has PDF, downloads."""
    rows = session.scalars(select(DocumentDraft).order_by(DocumentDraft.id.desc()).limit(limit))
    return [{"id": r.id, "kind": r.kind, "created_at": r.created_at.isoformat(timespec="seconds"),
             "channel": r.channel, "operator": r.operator,
             "deadline": r.deadline.isoformat() if r.deadline else None, "pdf": r.sealed_pdf is not None,
             "downloads": r.downloads} for r in rows]


def purge_drafts(*, session: Session, before: dt.date) -> int:
    """Delete drafts made before `before` (content, personal fields and files go together)."""
    result = session.execute(delete(DocumentDraft).where(DocumentDraft.created_at < dt.datetime.combine(
        before, dt.time.min)).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)


# --- reminders --------------------------------------------------------------------------------------------------

def schedule_reminders(*, session: Session, channel: str, sender_hash: str, deadline: dt.date, today: dt.date,
                       reply_address: str | None = None, before: Sequence[int] = DAYS_BEFORE,
                       now: dt.datetime | None = None) -> list[Reminder]:
    """One pending row per reminder day still ahead; asking twice for the same deadline adds nothing."""
    existing = {r.days_before for r in session.scalars(select(Reminder).where(
        Reminder.sender_hash == sender_hash, Reminder.deadline == deadline, Reminder.status == "pending"))}
    rows = []
    for days, due in reminder_days(deadline, today, tuple(before)):
        if days in existing:
            continue
        row = Reminder(created_at=now or utcnow(), channel=channel, sender_hash=sender_hash,
                       reply_address=sealing.seal_address(reply_address) if reply_address else None,
                       deadline=deadline, days_before=days, due_on=due, status="pending", attempts=0)
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def stop_reminders(*, session: Session, sender_hash: str) -> int:
    """「不用提醒了」: every pending reminder of this citizen stops; the sealed address goes."""
    result = session.execute(update(Reminder).where(Reminder.sender_hash == sender_hash,
                                                    Reminder.status.in_(("pending", "held")))
                             .values(status="stopped", reply_address=None)
                             .execution_options(synchronize_session="fetch"))
    return int(result.rowcount or 0)


def attach_address(*, session: Session, sender_hash: str, address: str) -> int:
    """The door knows the raw chat id the actions never see: seal it on this citizen's pending reminders."""
    result = session.execute(update(Reminder).where(Reminder.sender_hash == sender_hash,
                                                    Reminder.status == "pending",
                                                    Reminder.reply_address.is_(None))
                             .values(reply_address=sealing.seal_address(address))
                             .execution_options(synchronize_session="fetch"))
    return int(result.rowcount or 0)


def due_reminders(*, session: Session, today: dt.date) -> list[Reminder]:
    """Pending reminders whose day has come (a missed day is sent late, never after the deadline)."""
    return list(session.scalars(select(Reminder).where(
        Reminder.status == "pending", Reminder.due_on <= today, Reminder.deadline >= today).order_by(Reminder.id)))


def held_reminders(*, session: Session, sender_hash: str) -> list[Reminder]:
    """WeChat reminders that waited for the citizen to write (the platform lets us answer, not call)."""
    return list(session.scalars(select(Reminder).where(Reminder.sender_hash == sender_hash,
                                                       Reminder.status == "held").order_by(Reminder.id)))


def mark_reminder(*, session: Session, reminder: Reminder, status: str, now: dt.datetime | None = None) -> None:
    reminder.status = status
    reminder.attempts += 1
    if status == "sent":
        reminder.sent_at = now or utcnow()
        reminder.reply_address = None  # delivered: the address goes (the other day's row keeps its own)


def list_reminders(*, session: Session, limit: int = 200) -> list[dict[str, Any]]:
    rows = session.scalars(select(Reminder).order_by(Reminder.due_on, Reminder.id).limit(limit))
    return [{"id": r.id, "channel": r.channel, "deadline": r.deadline.isoformat(), "days_before": r.days_before,
             "due_on": r.due_on.isoformat(), "status": r.status,
             "sent_at": r.sent_at.isoformat(timespec="seconds") if r.sent_at else None} for r in rows]


def purge_reminders(*, session: Session, before: dt.date) -> int:
    """Reminders whose deadline passed before `before`, whatever their status, are deleted."""
    result = session.execute(delete(Reminder).where(Reminder.deadline < before)
                             .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)


FORGOTTEN = "（个人信息已略去：只保存在加密的草稿里）"


def forget_personal_answers(*, session: Session, conversation_id: str, questions: set[str],
                            lookback: int = 60) -> int:
    """The transcript keeps every line for the operators; the answers to the draft's personal questions (the citizen
    line right after one of `questions`) are replaced, so they live only in the sealed draft. How many lines."""
    from hotline.store.models import ChatMessage

    lines = list(session.scalars(select(ChatMessage).where(ChatMessage.conversation_id == conversation_id)
                                 .order_by(ChatMessage.seq.desc()).limit(lookback)))[::-1]
    return len(forget_personal_lines(lines, questions))


def forget_personal_lines(lines: Sequence[Any], questions: set[str]) -> list[str]:
    """Blank the citizen lines that answer one of `questions` (in order); the words they held."""
    said: list[str] = []
    for before, line in itertools.pairwise(lines):
        if line.author == "citizen" and before.author == "bot" and before.text.strip() in questions \
                and line.text != FORGOTTEN:
            said.append(line.text)
            line.text = FORGOTTEN
    return said


def scrub_tracker(*, url: str, conversation_id: str, said: Sequence[str], slots: Sequence[str]) -> int:
    """The same answers in Rasa's tracker store (SQLTrackerStore's `events`): the user events' text and the personal
    slots' values are blanked in this conversation's rows. How many rows changed; 0 without an events table."""
    import json

    from sqlalchemy import create_engine, inspect, text

    from hotline.retention import app_driver_url

    if not said and not slots:
        return 0
    engine = create_engine(app_driver_url(url))
    try:
        if not inspect(engine).has_table("events"):
            return 0
        changed = 0
        with engine.begin() as conn:
            rows = conn.execute(text("SELECT id, type_name, data FROM events WHERE sender_id = :s AND type_name IN "
                                     "('user', 'slot') ORDER BY id DESC LIMIT 400"), {"s": conversation_id}).all()
            for row_id, kind, raw in rows:
                data = json.loads(raw or "{}")
                if kind == "user" and data.get("text") in said:
                    data["text"] = FORGOTTEN
                    if isinstance(data.get("parse_data"), dict):
                        data["parse_data"]["text"] = FORGOTTEN
                        data["parse_data"]["entities"] = []
                elif kind == "slot" and data.get("name") in slots and data.get("value") not in (None, ""):
                    data["value"] = None
                else:
                    continue
                conn.execute(text("UPDATE events SET data = :d WHERE id = :i"),
                             {"d": json.dumps(data, ensure_ascii=False), "i": row_id})
                changed += 1
        return changed
    finally:
        engine.dispose()
