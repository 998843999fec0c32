"""What a citizen said while no action server answered, kept until one is back, then replayed as it was meant.

Rasa answers a turn whose custom action fails by dropping the action's events and carrying on, so the citizen's
answer would be lost and their next answer taken for the previous question. The door (bot/rasa_client.py) holds
such messages here instead, each with the question that was open when it was sent (`HeldTurn.question`), so the
replay applies it to that question and to no other (bot/rasa_client.py, `_replay`).

Where they are kept: with HOTLINE_REDIS_URL set, in Redis (a list per conversation, kept a day), so every web-app
process and machine sees the same ones; else in a SQLite file under var/ (`door.db`), so a web app that is killed and
restarted still has them.
"""
from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
import weakref
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

KEEP_S = 24 * 3600  # a message held longer than a day is stale: the citizen has long moved on or called 12348


@dataclass(frozen=True)
class HeldTurn:
    """One held message: its words, its turn id (Rasa applies a turn id once) and the question open when it was sent
    (`form:slot`, `bot:<utter name>`, or None when nothing was asked)."""

    text: str
    turn: str = ""
    question: str | None = None

    def dumps(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def loads(cls, raw: str | bytes) -> HeldTurn:
        raw = raw.decode() if isinstance(raw, bytes) else raw
        try:
            data = json.loads(raw)
        except ValueError:
            return cls(raw)  # a plain string, as held before questions were kept
        if not isinstance(data, dict):
            return cls(raw)
        return cls(str(data.get("text", "")), str(data.get("turn") or ""), data.get("question"))


class HeldStore(Protocol):
    async def hold(self, conversation: str, items: list[HeldTurn]) -> None: ...

    async def take(self, conversation: str) -> list[HeldTurn]: ...

    async def waiting(self) -> list[str]: ...


class MemoryHeld:
    """For tests that want no file at all."""

    def __init__(self) -> None:
        self._held: dict[str, list[HeldTurn]] = {}

    async def hold(self, conversation: str, items: list[HeldTurn]) -> None:
        if items:
            self._held.setdefault(conversation, []).extend(items)

    async def take(self, conversation: str) -> list[HeldTurn]:
        return self._held.pop(conversation, [])

    async def waiting(self) -> list[str]:
        return list(self._held)


class FileHeld:
    """A SQLite file of the web app's own (never the database, which may be the thing that is down)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS held (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                         "conversation TEXT NOT NULL, at REAL NOT NULL, item TEXT NOT NULL)")
            conn.execute("CREATE INDEX IF NOT EXISTS ix_held_conversation ON held (conversation, seq)")
            # The file has one web-app process (`make run`): which conversations wait is known here, so the usual
            # turn (nothing held) costs no query. Several processes share Redis instead.
            self._waiting = {r[0] for r in conn.execute("SELECT DISTINCT conversation FROM held")}

    def _db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # survives the process being killed; only a power cut loses it
        return conn

    async def hold(self, conversation: str, items: list[HeldTurn]) -> None:
        if not items:
            return
        now = time.time()
        self._waiting.add(conversation)
        with self._db() as conn:
            conn.executemany("INSERT INTO held (conversation, at, item) VALUES (?, ?, ?)",
                             [(conversation, now, i.dumps()) for i in items])

    async def take(self, conversation: str) -> list[HeldTurn]:
        if conversation not in self._waiting:
            return []
        self._waiting.discard(conversation)
        with self._db() as conn:
            conn.execute("BEGIN IMMEDIATE")
            rows = conn.execute("SELECT item, at FROM held WHERE conversation = ? ORDER BY seq",
                                (conversation,)).fetchall()
            conn.execute("DELETE FROM held WHERE conversation = ?", (conversation,))
            conn.execute("COMMIT")
        fresh = time.time() - KEEP_S
        return [HeldTurn.loads(item) for item, at in rows if at >= fresh]

    async def waiting(self) -> list[str]:
        with self._db() as conn:
            return [r[0] for r in conn.execute("SELECT DISTINCT conversation FROM held WHERE at >= ?",
                                                (time.time() - KEEP_S,))]


class RedisHeld:
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._url = url
        self._redis = redis.from_url(url)

    @staticmethod
    def _key(conversation: str) -> str:
        return f"hotline:held:{conversation}"

    async def hold(self, conversation: str, items: list[HeldTurn]) -> None:
        if items:
            async with self._redis.pipeline(transaction=True) as pipe:
                # Queued, not sent: a MULTI pipeline returns itself from each command until execute().
                pipe.rpush(self._key(conversation), *[i.dumps() for i in items])
                pipe.expire(self._key(conversation), KEEP_S)
                pipe.sadd("hotline:held", conversation)
                await pipe.execute()

    async def take(self, conversation: str) -> list[HeldTurn]:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lrange(self._key(conversation), 0, -1)
            pipe.delete(self._key(conversation))
            pipe.srem("hotline:held", conversation)
            texts, _, _ = await pipe.execute()
        return [HeldTurn.loads(t) for t in texts]

    async def waiting(self) -> list[str]:
        return [c.decode() if isinstance(c, bytes) else c for c in await self._redis.smembers("hotline:held")]


_store: HeldStore | None = None
_store_key: tuple[str | None, Path, int] | None = None


def held_store() -> HeldStore:
    """The store for this process: Redis when HOTLINE_REDIS_URL is set, else var/door.db."""
    global _store, _store_key
    from hotline.settings import get_settings

    settings = get_settings()
    url, var = settings.redis_url, settings.var_dir
    # The Redis client belongs to one event loop; tests run one loop per test.
    key = (url, var, id(asyncio.get_running_loop()) if url else 0)
    if _store is None or _store_key != key:
        _store, _store_key = (RedisHeld(url) if url else FileHeld(Path(var) / "door.db")), key
    return _store


def reset_memory() -> None:
    """Forget the store of this process (tests: the next call opens the one of the current settings)."""
    global _store, _store_key
    _store = _store_key = None


# Keyed by event loop too: an asyncio.Lock belongs to the loop that first awaited it, and a process may run more than
# one loop over its life (the Telegram bridge's, a test's): a lock still held in a finished loop must not block a new one.
_locks: weakref.WeakValueDictionary[tuple[int, str], asyncio.Lock] = weakref.WeakValueDictionary()


def conversation_lock(conversation: str) -> asyncio.Lock:
    """One turn at a time per conversation in this process: a replay and a new message never interleave."""
    key = (id(asyncio.get_running_loop()), conversation)
    lock = _locks.get(key)
    if lock is None:
        lock = asyncio.Lock()
        _locks[key] = lock
    return lock
