"""What a citizen said while the action server was down, kept until it is back, then replayed in order.

Rasa answers a turn whose custom action fails by dropping the action's events and carrying on, so the citizen's
answer would be lost and their next answer taken for the previous question. The door (bot/rasa_client.py) holds
such messages here instead. In one web-app process they live in memory; with HOTLINE_REDIS_URL set they live in
Redis (a list per conversation, kept a day), so every web-app process and machine sees the same ones.
"""
from __future__ import annotations

import asyncio
import logging
import os
import weakref
from typing import Protocol

log = logging.getLogger(__name__)

KEEP_S = 24 * 3600  # a message held longer than a day is stale: the citizen has long moved on or called 12348


class HeldStore(Protocol):
    async def hold(self, conversation: str, texts: list[str]) -> None: ...

    async def take(self, conversation: str) -> list[str]: ...


class MemoryHeld:
    def __init__(self) -> None:
        self._held: dict[str, list[str]] = {}

    async def hold(self, conversation: str, texts: list[str]) -> None:
        self._held.setdefault(conversation, []).extend(texts)

    async def take(self, conversation: str) -> list[str]:
        return self._held.pop(conversation, [])


class RedisHeld:
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._url = url
        self._redis = redis.from_url(url)

    @staticmethod
    def _key(conversation: str) -> str:
        return f"hotline:held:{conversation}"

    async def hold(self, conversation: str, texts: list[str]) -> None:
        if texts:
            async with self._redis.pipeline(transaction=True) as pipe:
                await pipe.rpush(self._key(conversation), *texts).expire(self._key(conversation), KEEP_S).execute()

    async def take(self, conversation: str) -> list[str]:
        async with self._redis.pipeline(transaction=True) as pipe:
            texts, _ = await pipe.lrange(self._key(conversation), 0, -1).delete(self._key(conversation)).execute()
        return [t.decode() for t in texts]


_store: HeldStore | None = None
_store_key: tuple[str | None, int] | None = None


def held_store() -> HeldStore:
    """The store for this process: Redis when HOTLINE_REDIS_URL is set, else memory (one per event loop)."""
    global _store, _store_key
    url = os.environ.get("HOTLINE_REDIS_URL") or None
    # The Redis client belongs to one event loop; tests run one loop per test.
    key = (url, id(asyncio.get_running_loop()) if url else 0)
    if _store is None or _store_key != key:
        _store, _store_key = (RedisHeld(url) if url else MemoryHeld()), key
    return _store


def reset_memory() -> None:
    """Forget every held message of the in-memory store (tests)."""
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
