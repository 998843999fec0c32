"""What is kept, and for how long: the purge of everything a citizen typed, past the retention period.

`hotline purge` clears, for what is older than the cut-off day:
- the consultation log's personal columns (the counts stay);
- the web chat / channel transcripts (`chat_messages`): deleted;
- the handoffs' summaries, reply addresses and call-back numbers: cleared;
- Rasa's own tracker store (SQLTrackerStore's `events` table, HOTLINE_TRACKER_STORE_URL — a separate database
  that holds every word citizens typed and every slot the bot filled): those events deleted.

The default cut-off is today minus HOTLINE_RETENTION_DAYS (180). This module says when; hotline.store.purge runs the
deletes.
"""
from __future__ import annotations

from datetime import date, timedelta

from hotline import clock
from hotline.settings import DEFAULT_RETENTION_DAYS as DEFAULT_RETENTION_DAYS  # cli_store quotes it
from hotline.settings import get_settings


def retention_days() -> int:
    return get_settings().retention_days


def default_cutoff(today: date | None = None) -> date:
    """The first day that is kept: today (Liuzhou's) minus the retention period."""
    return (today or clock.today()) - timedelta(days=retention_days())


def tracker_store_url() -> str | None:
    """HOTLINE_TRACKER_STORE_URL (as endpoints.yml gives it to Rasa), else var/rasa_tracker.db when it exists."""
    url = get_settings().tracker_store_url
    if not url:
        local = get_settings().var_dir / "rasa_tracker.db"
        return f"sqlite:///{local}" if local.exists() else None
    return url


def app_driver_url(url: str) -> str:
    """Rasa's environment speaks psycopg2 (`postgresql://`); this one has psycopg 3."""
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
