"""`KeptRowsSQLTrackerStore`: Rasa's SQLTrackerStore with each conversation's rows kept per process (issue 13).
endpoints.yml names it (`type: hotline_rasa.tracker_store.KeptRowsSQLTrackerStore`, Rasa's custom tracker store).

Every turn stock Rasa reads the conversation's whole tracker back from SQL (rows → ORM objects → JSON → events),
counts its rows again before saving, and opens a new SQLite connection for each (NullPool). This store keeps the
rows it read or wrote, per conversation, and checks them against the database with one indexed `max(id), count(id)`
before using them: another process writing to the conversation (a fail-over), or a purge, changes either number and
the rows are read afresh. What a read returns is computed from the rows exactly as Rasa's query does (events since
the latest `session_started` by timestamp, in id order). SQLite gets one kept connection, WAL and synchronous=NORMAL,
not a new connection and a journal write per commit; a read's check and a save run on a plain sqlite3 connection of
their own, with no session around them (a save in one `BEGIN IMMEDIATE` transaction).

With HOTLINE_RASA_SPEEDUPS=0 it is Rasa's SQLTrackerStore exactly: every method is Rasa's own.

Rasa internals it relies on (checked when the store is made): `SQLTrackerStore.__init__` (sets `engine`,
`sessionmaker`), `session_scope`, `stream_events`, `SQLEvent.__table__`, `retrieve`/`retrieve_full_tracker` calling
`_retrieve`, and the meaning of `_event_query`/`_additional_events`, which `_latest_session` and `save` repeat.
"""
from __future__ import annotations

import collections
import json
import re
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from hotline_rasa.settings import RuntimeSettings
from hotline_rasa.speedups import Patch, missing_internals
from hotline_rasa.versions import check_rasa_version

_STORE = "rasa.core.tracker_store.SQLTrackerStore"
# The same bookkeeping as a speed-up patch, so the same check and the same test read it.
INTERNALS = Patch(
    "kept_sql_tracker_rows",
    replaces=(f"{_STORE}._retrieve", f"{_STORE}.save"),  # overridden here, in the subclass
    reads=(f"{_STORE}.__init__:engine", f"{_STORE}.__init__:sessionmaker", f"{_STORE}.session_scope",
           "rasa.core.tracker_store.TrackerStore.stream_events", f"{_STORE}.SQLEvent",
           f"{_STORE}.retrieve:_retrieve", f"{_STORE}.retrieve_full_tracker:_retrieve",
           f"{_STORE}._additional_events:_event_query"),
    install=lambda: None,
    why=__doc__ or "")

# Plain SQL: the ORM's query building cost more than the queries (reports/profile_rasa_gil.md of 4551f20).
_KEY_PLAIN = "SELECT max(id), count(id) FROM events WHERE sender_id = ?"  # for sqlite3 itself (_sqlite)
_KEY_SQL = sa.text(_KEY_PLAIN.replace("?", ":sender"))
_ROWS_PLAIN = "SELECT id, timestamp, type_name, data FROM events WHERE sender_id = ? ORDER BY id"
_ROWS_SQL = sa.text(_ROWS_PLAIN.replace("?", ":sender"))
# The columns Rasa's `save` fills, in the order `_new_rows` gives them.
_COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")
_INSERT_PLAIN = f"INSERT INTO events ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"

# (id, timestamp, type_name, data JSON, whether orjson may read the JSON: `_orjson_reads`, known once per row)
Row = tuple[int, "float | None", str, str, bool]


# 19 digits in a row: perhaps an integer past 64 bits, which orjson reads as a float where json keeps it exact.
_LONG_NUMBER = re.compile(r"[0-9]{19}")


def _orjson_reads(data: str) -> bool:
    """Whether orjson may read `data`: it holds no long number. The search costs three times orjson's read, so a kept
    row carries its answer, found when the row is read or written, not on every turn."""
    return _LONG_NUMBER.search(data) is None


def _event_data(data: str, orjson_reads: bool | None = None) -> Any:
    """A row's event JSON as json.loads reads it: by orjson (5 us a row against 8-10, every row of a conversation on
    every turn), and by json itself for what orjson reads otherwise — a long number — or refuses, which json reads
    (NaN, Infinity, 1e400) or refuses with its own error."""
    if orjson_reads if orjson_reads is not None else _orjson_reads(data):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)


@dataclass
class _Rows:
    """One conversation's stored events (`Row`) in id order."""
    rows: list[Row]
    chars: int

    def key(self) -> tuple[int | None, int]:
        return (self.rows[-1][0] if self.rows else None, len(self.rows))

    def latest_session(self) -> list[Row]:
        """Rasa's `_event_query(fetch_events_from_all_sessions=False)`: timestamp >= the latest session start."""
        starts = [r[1] for r in self.rows if r[2] == "session_started" and r[1] is not None]
        if not starts:
            return self.rows
        start = max(starts)
        return [r for r in self.rows if r[1] is not None and r[1] >= start]


class KeptRowsSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose process keeps each conversation's rows and checks them before use."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        settings = RuntimeSettings.from_env()
        self._kept: collections.OrderedDict[str, _Rows] | None = None  # None: Rasa's own methods throughout
        self._sqlite: sqlite3.Connection | None = None  # SQLite's file: checks and saves outside a session
        self._sqlite_lock = threading.Lock()
        self._kept_chars = 0
        self._cache_chars = settings.tracker_cache_chars
        super().__init__(*args, **kwargs)
        if not settings.speedups:
            return
        # Rasa turns an AttributeError or ImportError raised here into a silent InMemoryTrackerStore (a warning
        # only): every conversation would live in one process's memory. Refuse to start instead.
        try:
            check_rasa_version()
            moved = missing_internals(INTERNALS)
        except (AttributeError, ImportError) as e:
            raise RuntimeError(f"KeptRowsSQLTrackerStore cannot check Rasa's internals: {e}") from e
        if moved:
            raise RuntimeError(f"KeptRowsSQLTrackerStore: Rasa's SQLTrackerStore changed ({', '.join(moved)}); "
                               "run with HOTLINE_RASA_SPEEDUPS=0 or bring hotline_rasa/tracker_store.py up to date")
        self._kept = collections.OrderedDict()  # sender_id → _Rows, least recently used first
        if self.engine.dialect.name == "sqlite":
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=1, max_overflow=4,
                                           connect_args={"check_same_thread": False, "timeout": 15})

            @sa.event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")  # shared by every Rasa process; readers never block
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
            if url.database and url.database != ":memory:":
                # The check before each read, on a connection of its own in autocommit: a session and its
                # transaction cost 0.13 ms per check, the plain query about 0.02 (issue 28). Each check reads the
                # database as committed at that moment, as a new session would. Saves run there too, each in
                # one explicit transaction: the session, its ORM insert and its commit were 11% of a Rasa process.
                self._sqlite = sqlite3.connect(url.database, timeout=15, check_same_thread=False,
                                               isolation_level=None)
                _pragmas(self._sqlite, None)  # the engine's connections' pragmas: WAL, and no sync per commit

    @property
    def keeps_rows(self) -> bool:
        """Whether this store keeps rows (HOTLINE_RASA_SPEEDUPS not 0)."""
        return self._kept is not None

    def _remember(self, sender_id: str, entry: _Rows | None) -> None:
        assert self._kept is not None
        old = self._kept.pop(sender_id, None)
        if old is not None:
            self._kept_chars -= old.chars
        if entry is None:
            return
        self._kept[sender_id] = entry
        self._kept_chars += entry.chars
        while self._kept_chars > self._cache_chars and len(self._kept) > 1:
            _, dropped = self._kept.popitem(last=False)
            self._kept_chars -= dropped.chars

    def _stored(self, sender_id: str, key: tuple[Any, int], read: Callable[[], Any]) -> _Rows:
        """The conversation's rows: the kept ones when the database still has exactly those (`key`, its
        `max(id), count(id)`), else `read()` afresh."""
        assert self._kept is not None
        entry = self._kept.get(sender_id)
        if entry is not None and entry.key() == tuple(key):
            self._kept.move_to_end(sender_id)
            return entry
        rows: list[Row] = [(i, ts, kind, data, _orjson_reads(data or "")) for i, ts, kind, data in read()]
        entry = _Rows(rows, sum(len(r[3] or "") for r in rows))
        self._remember(sender_id, entry)
        return entry

    def _stored_in(self, session: Any, sender_id: str) -> _Rows:
        """`_stored` through a SQLAlchemy session."""
        key = session.execute(_KEY_SQL, {"sender": sender_id}).one()
        return self._stored(sender_id, key, lambda: session.execute(_ROWS_SQL, {"sender": sender_id}))

    def _current(self, sender_id: str) -> _Rows:
        """`_stored` in a session of its own; without one when the kept rows are still the database's (SQLite)."""
        assert self._kept is not None
        entry = self._kept.get(sender_id)
        if entry is not None and self._sqlite is not None:
            with self._sqlite_lock:
                # fetchall: the statement runs to its end, so no read transaction stays open between turns
                [key] = self._sqlite.execute(_KEY_PLAIN, (sender_id,)).fetchall()
            if entry.key() == key:
                self._kept.move_to_end(sender_id)
                return entry
        with self.session_scope() as session:
            return self._stored_in(session, sender_id)

    def may_hold(self, sender_id: str, needle: str) -> bool:
        """Whether a user event of the conversation may contain `needle` (a value's JSON text, as the rows hold it):
        False only when no stored user event does (resilience.py asks it for a turn id on every turn, instead of
        building and serialising the whole tracker). Always True with Rasa's own methods (HOTLINE_RASA_SPEEDUPS=0)."""
        if self._kept is None:
            return True
        entry = self._current(sender_id)
        return any(needle in r[3] for r in entry.rows if r[2] == "user")

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        if self._kept is None:
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        entry = self._current(sender_id)
        rows = entry.rows if fetch_events_from_all_sessions else entry.latest_session()
        if self.domain and rows:
            return DialogueStateTracker.from_dict(sender_id, [_event_data(r[3], r[4]) for r in rows], self.domain.slots)
        return None

    @staticmethod
    def _new_rows(tracker: DialogueStateTracker, entry: _Rows) -> list[tuple[Any, ...]]:
        """The rows of the tracker's events the database lacks, in `_COLUMNS` order: Rasa's `_additional_events`
        (the events past as many as the latest session holds) made into the rows Rasa's `save` writes."""
        rows = []
        for event in list(tracker.events)[len(entry.latest_session()):]:
            data = event.as_dict()
            rows.append((tracker.sender_id, event.type_name, data.get("timestamp"),
                         data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY), data.get("name"),
                         json.dumps(data)))
        return rows

    async def save(self, tracker: DialogueStateTracker) -> None:
        if self._kept is None:
            return await super().save(tracker)
        await self.stream_events(tracker)
        sender_id = tracker.sender_id
        if self._sqlite is not None:
            con = self._sqlite
            # The rows are made from the kept ones before the write lock is taken, and checked under it: the lock
            # is held for the check and the insert only, as the session held it for the insert (two Rasa
            # processes share the file, and SQLite's busy wait sleeps in steps of milliseconds).
            assert self._kept is not None
            kept = self._kept.get(sender_id)
            rows = self._new_rows(tracker, kept) if kept is not None else []
            with self._sqlite_lock:
                con.execute("BEGIN IMMEDIATE")
                try:
                    [key] = con.execute(_KEY_PLAIN, (sender_id,)).fetchall()
                    entry = self._stored(sender_id, key, lambda: con.execute(_ROWS_PLAIN, (sender_id,)).fetchall())
                    if entry is not kept:
                        rows = self._new_rows(tracker, entry)
                    if rows:
                        con.executemany(_INSERT_PLAIN, rows)
                        [(last, count)] = con.execute(_KEY_PLAIN, (sender_id,)).fetchall()
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
        else:
            with self.session_scope() as session:
                entry = self._stored_in(session, sender_id)
                rows = self._new_rows(tracker, entry)
                if rows:
                    session.execute(self.SQLEvent.__table__.insert(), [dict(zip(_COLUMNS, r, strict=True)) for r in rows])
                    last, count = session.execute(_KEY_SQL, {"sender": sender_id}).one()
                session.commit()
        if not rows:
            return
        if count != len(entry.rows) + len(rows):  # someone else wrote meanwhile: read afresh next time
            self._remember(sender_id, None)
            return
        # Only the last id and the count are ever compared (`_Rows.key`): the new rows need no ids of their own.
        added: list[Row] = [(0, r[2], r[1], r[5], _orjson_reads(r[5])) for r in rows]
        added[-1] = (last, *added[-1][1:])
        self._remember(sender_id, _Rows(entry.rows + added, entry.chars + sum(len(r[5]) for r in rows)))
