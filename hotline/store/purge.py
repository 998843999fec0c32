"""The purge past the retention period (hotline.retention says when): what a citizen typed goes, every count stays.
The only SQL that clears personal data from the consultation log, the transcripts, the handoffs and Rasa's tracker
store (drafts and reminders: hotline.store.documents.purge_drafts)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from sqlalchemy import Engine, create_engine, delete, inspect, text, update
from sqlalchemy.orm import Session

from hotline.retention import app_driver_url
from hotline.store.models import ChatMessage, Consultation, Handoff


def purge_consultations(*, session: Session, before: date) -> int:
    """Clear the personal data of consultations dated before `before`; returns how many rows were purged.

    Summary, phone and sender hash go; every column the statistics count (service, category, persons, street,
    outcome, amount, …) and the legal basis stay, so the annual figures do not change.
    """
    result = session.execute(
        update(Consultation)
        .where(Consultation.occurred_at < datetime.combine(before, time.min), Consultation.purged.is_(False))
        .values(summary=None, phone=None, sender_hash=None, purged=True)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min)


@dataclass(frozen=True)
class TranscriptPurge:
    messages_deleted: int
    handoffs_cleared: int


def purge_transcripts(*, session: Session, before: date) -> TranscriptPurge:
    """Delete transcript lines and clear handoffs' personal fields dated before `before`."""
    cut = _midnight(before)
    messages = session.execute(delete(ChatMessage).where(ChatMessage.at < cut)
                               .execution_options(synchronize_session=False))
    handoffs = session.execute(
        update(Handoff)
        .where(Handoff.created_at < cut)
        .where((Handoff.summary.is_not(None)) | (Handoff.reply_address.is_not(None))
               | (Handoff.callback_phone.is_not(None)))
        .values(summary=None, reply_address=None, callback_phone=None)
        .execution_options(synchronize_session=False))
    return TranscriptPurge(int(messages.rowcount or 0), int(handoffs.rowcount or 0))


def purge_tracker_store(*, url: str, before: date, engine: Engine | None = None) -> int | None:
    """Delete Rasa's tracker events older than `before`; how many, or None when there is no events table yet."""
    own = engine is None
    engine = engine or create_engine(app_driver_url(url))
    try:
        if not inspect(engine).has_table("events"):
            return None
        cut = _midnight(before).replace(tzinfo=timezone.utc).timestamp()  # Rasa stores epoch seconds
        with engine.begin() as conn:
            result = conn.execute(text("DELETE FROM events WHERE timestamp < :cut OR timestamp IS NULL"), {"cut": cut})
        return int(result.rowcount or 0)
    finally:
        if own:
            engine.dispose()
