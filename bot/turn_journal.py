"""The turn each conversation has in flight at the door, kept where a killed web app finds it again.

Every turn goes to Rasa with an id (scripts/rasa_resilience.py applies an id once). A channel that sends its own
message id (the web chat's `message_id`, WeChat's MsgId) makes a resend recognisable anyway. A citizen whose
answer got no reply because the web app died mid-turn sends the same words again, without any id: the journal
says that the conversation's last turn, with those words, was never answered, so the resend goes with the same
id, and Rasa answers it without applying it twice. Words once answered are a new turn when sent again
(「是的」 to the next yes/no question).

SQLite under var/ (`door.db`, like the held turns) for the one web-app process of `make run`; Redis
(HOTLINE_REDIS_URL) when several share the conversations.
"""
from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Protocol

# A resend comes within seconds; after this long the same words are a new turn.
RETRY_WINDOW_S = 300.0


class Journal(Protocol):
    async def begin(self, conversation: str, text: str, turn: str) -> None: ...

    async def answered(self, conversation: str) -> None: ...

    async def unanswered(self, conversation: str, text: str) -> str | None: ...


class FileJournal:
    """One web-app process's journal (`make run` has one; several share Redis): what is in flight is mirrored in
    memory, so asking costs no query, and the file, on one kept connection, is written before each turn goes to Rasa
    and when it is answered (three connections a turn cost the door ~1 ms of CPU, issue 28). A restarted process
    reads the file back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # Used only from the event loop's thread, between awaits; the flag lets a process that runs several loops
        # (tests) keep the one file open.
        self._conn = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # Outlives the process (the OS has it); a power cut only loses a dedup.
        self._conn.execute("PRAGMA synchronous=OFF")
        self._conn.execute("CREATE TABLE IF NOT EXISTS inflight (conversation TEXT PRIMARY KEY, text TEXT NOT NULL, "
                           "turn TEXT NOT NULL, at REAL NOT NULL)")
        self._inflight: dict[str, tuple[str, str, float]] = {
            str(c): (str(t), str(turn), float(at))
            for c, t, turn, at in self._conn.execute("SELECT conversation, text, turn, at FROM inflight")}

    async def begin(self, conversation: str, text: str, turn: str) -> None:
        at = time.time()
        self._conn.execute("INSERT OR REPLACE INTO inflight VALUES (?, ?, ?, ?)", (conversation, text, turn, at))
        self._inflight[conversation] = (text, turn, at)

    async def answered(self, conversation: str) -> None:
        if self._inflight.pop(conversation, None) is not None:
            self._conn.execute("DELETE FROM inflight WHERE conversation = ?", (conversation,))

    async def unanswered(self, conversation: str, text: str) -> str | None:
        row = self._inflight.get(conversation)
        if row and row[0] == text and time.time() - row[2] < RETRY_WINDOW_S:
            return row[1]
        return None


class RedisJournal:
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(url)

    @staticmethod
    def _key(conversation: str) -> str:
        return f"hotline:inflight:{conversation}"

    async def begin(self, conversation: str, text: str, turn: str) -> None:
        await self._redis.set(self._key(conversation), json.dumps({"text": text, "turn": turn}, ensure_ascii=False),
                              ex=int(RETRY_WINDOW_S))

    async def answered(self, conversation: str) -> None:
        await self._redis.delete(self._key(conversation))

    async def unanswered(self, conversation: str, text: str) -> str | None:
        raw = await self._redis.get(self._key(conversation))
        if not raw:
            return None
        data = json.loads(raw)
        return str(data["turn"]) if data.get("text") == text else None


_journal: Journal | None = None
_journal_key: tuple[str | None, Path, int] | None = None


def journal() -> Journal:
    global _journal, _journal_key
    import asyncio

    from hotline.settings import get_settings

    settings = get_settings()
    url, var = settings.redis_url, settings.var_dir
    key = (url, var, id(asyncio.get_running_loop()) if url else 0)
    if _journal is None or _journal_key != key:
        _journal, _journal_key = (RedisJournal(url) if url else FileJournal(Path(var) / "door.db")), key
    return _journal
