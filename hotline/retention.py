"""What is kept, and for how long: the purge of everything a citizen typed, past the retention period.

`hotline purge` clears, for what is older than the cut-off day:
- the consultation log's personal columns (hotline.store.repository.purge_before; the counts stay);
- the web chat / channel transcripts (`chat_messages`): deleted;
- the handoffs' summaries, reply addresses and call-back numbers: cleared;
- Rasa's own tracker store (SQLTrackerStore's `events` table, HOTLINE_TRACKER_STORE_URL — a separate database
  that holds every word citizens typed and every slot the bot filled): those events deleted.

The default cut-off is today minus HOTLINE_RETENTION_DAYS (180).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from sqlalchemy import Engine, create_engine, delete, inspect, text, update
from sqlalchemy.orm import Session

DEFAULT_RETENTION_DAYS = 180


def retention_days() -> int:
    return int(os.environ.get("HOTLINE_RETENTION_DAYS", str(DEFAULT_RETENTION_DAYS)))


def default_cutoff(today: date | None = None) -> date:
    """The first day that is kept: today (UTC) minus the retention period."""
    return (today or datetime.now(timezone.utc).date()) - timedelta(days=retention_days())


def tracker_store_url() -> str | None:
    """HOTLINE_TRACKER_STORE_URL (as endpoints.yml gives it to Rasa), else var/rasa_tracker.db when it exists."""
    url = os.environ.get("HOTLINE_TRACKER_STORE_URL")
    if not url:
        from hotline.settings import PROJECT_ROOT

        local = Path(os.environ.get("HOTLINE_VAR_DIR", PROJECT_ROOT / "var")) / "rasa_tracker.db"
        return f"sqlite:///{local}" if local.exists() else None
    return url


def app_driver_url(url: str) -> str:
    """Rasa's environment speaks psycopg2 (`postgresql://`); this one has psycopg 3."""
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min)


@dataclass(frozen=True)
class TranscriptPurge:
    messages_deleted: int
    handoffs_cleared: int


def purge_transcripts(*, session: Session, before: date) -> TranscriptPurge:
    """Delete transcript lines and clear handoffs' personal fields dated before `before`."""
    from hotline.store.models import ChatMessage, Handoff

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
