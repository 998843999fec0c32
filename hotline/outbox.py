"""A durable local outbox for the consultation log: when the database is down, nothing is lost or doubled.

The bot writes a consultation (CONTRACT §5) at the end of a flow. If the database does not answer then, the write
waits here, in a SQLite file under var/ (never in the database that is down), committed with fsync
(synchronous=FULL) before the action returns. It is written when the database is back: before the next consultation
(order kept), by a background thread of the process that queued it, or by `hotline outbox flush`.

Every entry is idempotent on its consultation's `source_id`: the create adds nothing when the row exists, and a
refinement sets values rather than adding to them, so an entry replayed after a crash (written, but not yet removed
from the outbox) changes nothing. Entries apply in the order they were queued, so a refinement never runs before
the create it refines. An entry the store rejects as invalid (it would fail the same way forever) is kept aside,
not dropped: `hotline outbox status` shows it.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from hotline import clock
from hotline.settings import get_settings

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id TEXT NOT NULL,
    queued_at REAL NOT NULL,
    entry TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    dead INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ix_pending_dead_seq ON pending (dead, seq);
"""


def default_path() -> Path:
    """HOTLINE_OUTBOX_PATH, else var/outbox.db (HOTLINE_VAR_DIR), read when called so tests can point it away."""
    if explicit := get_settings().outbox_path:
        return Path(explicit)
    return get_settings().var_dir / "outbox.db"


def is_transient(exc: BaseException) -> bool:
    """A failure that may pass when the database is back (connection refused, locked, no such file...)."""
    from hotline.store.errors import StoreError

    if isinstance(exc, StoreError):
        return False  # the row itself is invalid: retrying cannot help
    return isinstance(exc, (SQLAlchemyError, OSError, TimeoutError))


@dataclass(frozen=True)
class Pending:
    seq: int
    source_id: str
    entry: dict[str, Any]
    attempts: int
    last_error: str | None
    dead: bool
    queued_at: float


@dataclass(frozen=True)
class FlushResult:
    written: int
    remaining: int
    dead: int
    error: str | None  # why the flush stopped early (the database still down), or None


Writer = Callable[[dict[str, Any]], None]


class Outbox:
    """The outbox file. Every method opens its own connection: it is used from the action server's threads,
    several worker processes and the CLI at once, and SQLite's locking keeps them apart."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # fsync at every commit: a queued consultation survives a crash
            conn.executescript(_SCHEMA)
            yield conn
        finally:
            conn.close()

    def put(self, entry: dict[str, Any]) -> None:
        """Queue one write (durably: on disk when this returns)."""
        with self._db() as conn:
            conn.execute("INSERT INTO pending (source_id, queued_at, entry) VALUES (?, ?, ?)",
                         (entry["source_id"], time.time(), json.dumps(entry, ensure_ascii=False)))

    def depth(self) -> int:
        """How many writes wait (the ones set aside as invalid not counted)."""
        if not self.path.exists():
            return 0
        with self._db() as conn:
            return int(conn.execute("SELECT count(*) FROM pending WHERE dead = 0").fetchone()[0])

    def items(self, *, dead: bool | None = False) -> list[Pending]:
        if not self.path.exists():
            return []
        where = "" if dead is None else f"WHERE dead = {int(dead)}"
        with self._db() as conn:
            rows = conn.execute(f"SELECT seq, source_id, entry, attempts, last_error, dead, queued_at FROM pending {where} "
                                "ORDER BY seq").fetchall()
        return [Pending(r[0], r[1], json.loads(r[2]), r[3], r[4], bool(r[5]), r[6]) for r in rows]

    def flush(self, write: Writer | None = None) -> FlushResult:
        """Write what waits, oldest first; stop at the first transient failure (the database is still down)."""
        write = write or write_consultation
        written, error = 0, None
        # One flusher at a time per file: two would each write the same entry (harmless, idempotent) and waste work.
        with _flush_lock(self.path):
            for item in self.items():
                try:
                    write(item.entry)
                except Exception as exc:  # sorted below: transient → stop and retry later; invalid → set aside
                    reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]
                    with self._db() as conn:
                        conn.execute("UPDATE pending SET attempts = attempts + 1, last_error = ?, dead = ? "
                                     "WHERE seq = ?", (reason, 0 if is_transient(exc) else 1, item.seq))
                    if is_transient(exc):
                        error = reason
                        break
                    log.error("outbox: consultation entry %s set aside: %s", item.seq, type(exc).__name__)
                    continue
                with self._db() as conn:
                    conn.execute("DELETE FROM pending WHERE seq = ?", (item.seq,))
                written += 1
        return FlushResult(written=written, remaining=self.depth(), dead=len(self.items(dead=True)), error=error)


_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


@contextmanager
def _flush_lock(path: Path) -> Iterator[None]:
    with _locks_guard:
        lock = _locks.setdefault(path.resolve(), threading.Lock())
    with lock:
        yield


# --- the consultation log's entries --------------------------------------------------------------------------


def consultation_entry(*, source_id: str, refine: bool, fields: dict[str, Any],
                       occurred_at: datetime | None = None) -> dict[str, Any]:
    """One write of the consultation log as plain JSON data: the row's columns, and whether it refines a row.

    `occurred_at` is fixed now, so a consultation written an hour late still counts on the day it happened.
    """
    at = occurred_at or clock.now().astimezone(timezone.utc)
    return {"source_id": source_id, "refine": refine, "occurred_at": at.isoformat(), "fields": dict(fields)}


def write_consultation(entry: dict[str, Any], *, url: str | None = None) -> None:
    """Apply one entry in its own transaction: create the row unless its source_id exists, then refine it."""
    from hotline.consultation_record import consultation_record
    from hotline.store import consultations
    from hotline.store.db import session_scope

    record = consultation_record(source_id=entry["source_id"],
                                 occurred_at=datetime.fromisoformat(entry["occurred_at"]), **entry["fields"])
    with session_scope(url) as session:
        row = consultations.save_consultation(session=session, record=record)
        if entry.get("refine"):
            consultations.refine_consultation(row=row, record=record)


def deliver(entry: dict[str, Any], *, outbox: Outbox | None = None, write: Writer | None = None) -> bool:
    """Write one consultation entry now, or queue it durably when the database is down.

    True when it reached the database, False when it waits in the outbox. Earlier entries still waiting go
    first, so the order of a create and its refinement is kept. Raises only when the entry cannot be written
    and cannot be queued either (the disk itself fails), or when the store rejects it as invalid.
    """
    box = outbox or Outbox()
    write = write or write_consultation
    if box.depth():
        box.put(entry)
        result = box.flush(write)
        if result.remaining:
            start_background_flush(box, write)
        return not any(p.source_id == entry["source_id"] for p in box.items())
    try:
        write(entry)
        return True
    except Exception as exc:
        if not is_transient(exc):
            raise
        log.warning("consultation queued in the outbox: database unavailable (%s)", type(exc).__name__)
        box.put(entry)
        start_background_flush(box, write)
        return False


_flushers: dict[Path, threading.Thread] = {}


def retry_interval_s() -> float:
    return get_settings().outbox_retry_s


def start_background_flush(box: Outbox, write: Writer | None = None) -> None:
    """A daemon thread of this process retries the outbox until it is empty (one per outbox file)."""
    key = box.path.resolve()
    with _locks_guard:
        running = _flushers.get(key)
        if running is not None and running.is_alive():
            return
        thread = threading.Thread(target=_flush_until_empty, args=(box, write), name="outbox-flush", daemon=True)
        _flushers[key] = thread
    thread.start()


def _flush_until_empty(box: Outbox, write: Writer | None) -> None:
    while True:
        time.sleep(retry_interval_s())
        try:
            result = box.flush(write)
        except Exception:  # the outbox file itself failed; keep trying, never kill the process
            log.exception("outbox flush failed")
            continue
        if result.written:
            log.info("outbox: %d consultations written, %d waiting", result.written, result.remaining)
        if not result.remaining:
            return
