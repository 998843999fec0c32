"""Which Rasa process serves a conversation, and how many turns a process takes at once (bot/rasa_placement.py):
idle, every conversation at its hash home; in a crowd, no process beyond its share of the turns in flight; a
conversation never moves once placed; at most `limit` calls inside a process, the rest served in the order they came.
The same through the door, against slow fake Rasa processes, is in tests/test_faults_door.py."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from bot import rasa_placement
from bot.rasa_placement import home_order, in_flight, place

URLS = ("http://rasa-0:5005", "http://rasa-1:5005")


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    rasa_placement.forget()
    yield
    rasa_placement.forget()


def homed_at(url: str, n: int, urls: tuple[str, ...] = URLS, prefix: str = "web:") -> list[str]:
    """n conversation ids whose hash home is `url`."""
    return [c for c in (f"{prefix}{i}" for i in range(20 * n)) if home_order(c, urls)[0] == url][:n]


def test_an_idle_door_places_every_conversation_at_its_hash_home() -> None:
    for i in range(300):
        conversation = f"web:{i}"
        assert place(conversation, URLS) == home_order(conversation, URLS)
    assert {place(f"web:{i}", URLS)[0] for i in range(300)} == set(URLS)


async def test_a_crowd_homed_on_one_process_is_shared_within_the_slack() -> None:
    """32 conversations that all hash to rasa-0 arrive while each earlier one has a turn in flight: rasa-0 takes its
    share (plus the slack), the rest go to rasa-1 — rendezvous hashing alone would have sent all 32 to one core."""
    crowd = homed_at(URLS[0], 32)
    held = []
    for conversation in crowd:
        base = place(conversation, URLS)[0]
        hold = in_flight(base, 0, 1.0)
        await hold.__aenter__()
        held.append(hold)
    inside = rasa_placement.in_flight_now()
    assert sum(inside.values()) == 32
    assert max(inside.values()) <= 18 and min(inside.values()) >= 14, inside
    for hold in held:
        await hold.__aexit__(None, None, None)
    assert rasa_placement.in_flight_now() == {URLS[0]: 0, URLS[1]: 0}
    # Placed once, a conversation stays where it was placed, busy or idle.
    where = {c: place(c, URLS)[0] for c in crowd}
    assert {c: place(c, URLS)[0] for c in crowd} == where
    assert set(where.values()) == set(URLS)


def test_a_process_marked_down_is_tried_last_and_a_smaller_cluster_replaces() -> None:
    conversation = homed_at(URLS[0], 1)[0]
    assert place(conversation, URLS, down={URLS[0]}) == [URLS[1], URLS[0]]
    three = (*URLS, "http://rasa-2:5005")
    gone = homed_at(three[2], 1, three, prefix="web:gone-")[0]
    assert place(gone, three)[0] == three[2]
    assert place(gone, URLS)[0] in URLS  # its process left the cluster: placed again among the others


async def test_the_gate_lets_limit_in_and_serves_the_line_in_order() -> None:
    entered: list[int] = []
    most = 0
    inside = 0

    async def call(i: int) -> None:
        nonlocal inside, most
        async with in_flight(URLS[0], 2, 5.0):
            inside += 1
            most = max(most, inside)
            entered.append(i)
            await asyncio.sleep(0.01)
            inside -= 1

    tasks = []
    for i in range(10):
        tasks.append(asyncio.create_task(call(i)))
        await asyncio.sleep(0)  # arrive one after another
    await asyncio.gather(*tasks)
    assert most == 2
    assert entered == list(range(10))


async def test_a_wait_longer_than_the_time_out_is_a_pool_timeout_and_leaves_the_line() -> None:
    holder_in, holder_out = asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        async with in_flight(URLS[0], 1, 5.0):
            holder_in.set()
            await holder_out.wait()

    task = asyncio.create_task(holder())
    await holder_in.wait()
    with pytest.raises(httpx.PoolTimeout):
        async with in_flight(URLS[0], 1, 0.05):
            pass
    holder_out.set()
    await task
    async with in_flight(URLS[0], 1, 0.05) as waited:  # the timed-out wait took no place with it
        assert waited < 0.05
    assert rasa_placement.in_flight_now()[URLS[0]] == 0


async def test_a_cancelled_wait_leaves_the_line_and_the_place_goes_to_the_next() -> None:
    order: list[str] = []
    release = asyncio.Event()

    async def call(name: str) -> None:
        async with in_flight(URLS[0], 1, 5.0):
            order.append(name)
            if name == "first":
                await release.wait()

    first = asyncio.create_task(call("first"))
    await asyncio.sleep(0)
    second = asyncio.create_task(call("second"))
    third = asyncio.create_task(call("third"))
    await asyncio.sleep(0.01)
    second.cancel()
    release.set()
    await asyncio.gather(first, third)
    assert order == ["first", "third"]
    assert second.cancelled()
