"""Which Rasa process serves a conversation: its hash home, unless that process already has more than its share of the
turns in flight.

Rendezvous hashing alone (`home_order`) spreads conversations evenly only on average. Under a crowd of 32 it left one
process with two thirds of the turns — 592 against 256 in one bench run, p95 574 against 148 ms, the busy process
pinned at a full core while the other idled (scripts/bench_load.py --turns-out). So a conversation is placed when this
door first sees it: at its hash home when that process is within its share of the turns in flight, else at the next
process in its hash order that is ("consistent hashing with bounded loads", Mirrokni, Thorup & Zadimoghaddam, SODA
2018). It then stays there for its life in this door.

Moving a conversation off its hash home is safe because every process shares one tracker store (endpoints.yml) and
this door sends one turn of a conversation at a time (bot.held_turns.conversation_lock): it is never on two processes
at once. Idle or lightly loaded, the share is at least one turn, so every conversation is at its hash home, exactly as
before.
"""
from __future__ import annotations

import asyncio
import hashlib
import math
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager

import httpx

# How far over an even share of the turns in flight a process may be and still take a new conversation: 10 % (the
# bench's 32 in flight on 2 processes: at most 18 on one).
SLACK = 0.10
# Conversations remembered, least recently used forgotten first; a forgotten one is placed afresh (while idle, at its
# hash home) — safe for the same reason as any move.
KEPT = 20_000

_homes: OrderedDict[str, str] = OrderedDict()  # conversation → base URL of its process
_in_flight: dict[str, int] = {}  # base URL → calls waiting at its gate or sent, not yet answered


def home_order(conversation: str | None, urls: tuple[str, ...]) -> list[str]:
    """The processes by rendezvous hash for one conversation, best first: removing one process moves only its own
    conversations."""
    if conversation is None or len(urls) < 2:
        return list(urls)
    return sorted(urls, key=lambda u: hashlib.sha256(f"{u}|{conversation}".encode()).digest(), reverse=True)


def place(conversation: str | None, urls: tuple[str, ...], down: Collection[str] = ()) -> list[str]:
    """The processes to try for one conversation, best first: its placed process, then the rest in hash order; those
    marked down last (in that order). Places the conversation when it has no process yet, or its one is gone from
    `urls` (a smaller cluster)."""
    order = home_order(conversation, urls)
    if conversation is not None and len(urls) > 1:
        home = _homes.get(conversation)
        if home in order:
            _homes.move_to_end(conversation)
        else:
            home = _least_loaded([u for u in order if u not in down] or order)
            _homes[conversation] = home
            while len(_homes) > KEPT:
                _homes.popitem(last=False)
        order.remove(home)
        order.insert(0, home)
    return sorted(order, key=lambda u: u in down)


def _least_loaded(order: list[str]) -> str:
    """The first process in `order` that stays within its share of the turns in flight with one more."""
    loads = [_in_flight.get(u, 0) for u in order]
    share = math.ceil((1 + SLACK) * (sum(loads) + 1) / len(order))
    return next((u for u, n in zip(order, loads, strict=True) if n + 1 <= share),
                order[loads.index(min(loads))])


class Gate:
    """At most `limit` calls in a process at once; the others wait here, first come first served.

    Why: each Rasa process is one event loop. With 16 turns inside it, every await (the action server's answer) sends
    a turn to the back of a queue of 15 others, so the turns that wait most (a new conversation, the wage summary)
    took 2-3 times the median under load. Waiting in line at the door instead, every turn waits about as long, and
    a turn inside is served with little interleaving. Hand-over is direct (no barging, unlike asyncio.Semaphore
    before Python 3.11), so the line is strictly in order.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.busy = 0
        self.waiting: deque[asyncio.Future[None]] = deque()

    async def acquire(self, timeout: float) -> None:
        if self.busy < self.limit and not self.waiting:
            self.busy += 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append(turn)
        try:
            await asyncio.wait_for(turn, timeout)
        except BaseException:
            if turn.done() and not turn.cancelled():  # handed the place just as the wait ended: pass it on
                self.release()
            raise

    def release(self) -> None:
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():  # a wait that timed out or was cancelled has left the line
                turn.set_result(None)  # the place goes straight to it: `busy` stays
                return
        self.busy -= 1


_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Gate]] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def in_flight(base: str, limit: int, timeout: float) -> AsyncIterator[float]:
    """One call to `base`: counted as in flight while it waits at the process's gate (at most `limit` inside; 0: no
    gate) and while it runs; gives the seconds it waited. Waiting longer than `timeout` raises httpx.PoolTimeout:
    the process is busy, not down."""
    _in_flight[base] = _in_flight.get(base, 0) + 1
    try:
        if limit <= 0:
            yield 0.0
            return
        gates = _gates.setdefault(asyncio.get_running_loop(), {})
        gate = gates.get(base)
        if gate is None or gate.limit != limit:
            gate = gates[base] = Gate(limit)
        start = time.monotonic()
        try:
            await gate.acquire(timeout)
        except asyncio.TimeoutError as exc:
            raise httpx.PoolTimeout(f"{base}: {limit} calls in it for {timeout:.0f} s") from exc
        try:
            yield time.monotonic() - start
        finally:
            gate.release()
    finally:
        _in_flight[base] -= 1


def in_flight_now() -> dict[str, int]:
    """Calls in flight (waiting at the gate or sent) per process, as placement weighs them (tests read it)."""
    return dict(_in_flight)


def forget() -> None:
    """Forget every placement (tests; a new cluster)."""
    _homes.clear()
    _in_flight.clear()
