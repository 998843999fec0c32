"""Faults on the real stack: two Rasa processes sharing one tracker store (SQLite here; PostgreSQL + Redis in
tests/test_cluster.py) and the secret-checked action server, driven through the web app's door
(bot/rasa_client.forward_to_rasa) as every channel is. Each fault's conversation must end with the same facts and
the same single consultation row as a conversation that suffered nothing.

The stack is started once for the module (each Rasa process loads the model)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from actions.server import TOKEN_HEADER
from bot import held_turns, rasa_client
from bot.rasa_client import HELD_TEXT, rasa_sender, rasa_urls_for
from tests.stack import Cluster, prepared_database, running_cluster
from tests.walk import OPENING, Walk, answer_for, facts_of, rows_of

pytestmark = pytest.mark.rasa


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    tmp: Path = tmp_path_factory.mktemp("faults")
    url = f"sqlite:///{tmp / 'faults.db'}"
    prepared_database(url)
    # Rasa retries an action for 2 s here, not 6: the test waits out every retry.
    with running_cluster(tmp, url, rasa_processes=2, extra_env={"HOTLINE_ACTIONS_RETRY_S": "2"}) as c:
        yield c


@pytest.fixture(autouse=True)
def door(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    """The web app's settings for this stack: both Rasa processes, their token, the action server's address."""
    monkeypatch.setenv("RASA_URLS", ",".join(cluster.stack.rasa_urls))
    monkeypatch.setenv("HOTLINE_RASA_TOKEN", cluster.rasa_token)
    monkeypatch.setenv("HOTLINE_ACTIONS_URL", cluster.stack.actions_url)
    monkeypatch.setenv("HOTLINE_RASA_TIMEOUT", "60")  # a loaded 2-core machine; the time-out is not the point here
    monkeypatch.setenv("HOTLINE_ACTIONS_WAIT_S", "1")
    monkeypatch.delenv("HOTLINE_REDIS_URL", raising=False)
    from hotline.settings import get_settings

    get_settings.cache_clear()
    held_turns.reset_memory()


def walk(cluster: Cluster, raw_sender: str) -> Walk:
    return Walk(cluster.stack, raw_sender, rasa_sender(raw_sender, "web"))


_control: dict[int, tuple[Walk, dict]] = {}


async def control(cluster: Cluster) -> tuple[Walk, dict]:
    """The same wage claim with nothing going wrong: what every faulted walk must end with (walked once)."""
    if id(cluster) not in _control:
        w = walk(cluster, "control-citizen")
        await w.say(OPENING)
        await w.to_the_end()
        [row] = rows_of(cluster.stack.database_url, w.conversation.split(":", 1)[1])
        _control[id(cluster)] = (w, facts_of(row))
    return _control[id(cluster)]


# --- closed doors ------------------------------------------------------------------------------------------


def test_an_unauthenticated_tracker_read_is_refused(cluster: Cluster) -> None:
    for base in cluster.stack.rasa_urls:
        url = f"{base}/conversations/web:{'a' * 64}/tracker"
        assert httpx.get(url, timeout=30).status_code == 401
        assert httpx.get(url, params={"token": "guess"}, timeout=30).status_code == 401
        assert httpx.get(url, params={"token": cluster.rasa_token}, timeout=30).status_code == 200
        # Writing into a conversation is refused as well.
        resp = httpx.post(f"{url}/events", json={"event": "slot", "name": "amount", "value": 1}, timeout=30)
        assert resp.status_code == 401


def test_the_real_action_server_refuses_a_call_without_the_secret(cluster: Cluster) -> None:
    call = {"next_action": "action_goodbye", "sender_id": "web:x", "tracker": {"sender_id": "web:x", "events": []},
            "domain": {}, "version": "3.6.21"}
    assert httpx.post(cluster.stack.actions_url, json=call, timeout=30).status_code == 403
    assert httpx.post(cluster.stack.actions_url, json=call, headers={TOKEN_HEADER: "guess"},
                      timeout=30).status_code == 403


# --- the action server killed mid-conversation -------------------------------------------------------------


async def test_action_server_killed_mid_conversation_loses_nothing_and_logs_once(
        cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    good, expected = await control(cluster)
    w = walk(cluster, "citizen-whose-actions-died")
    await w.say(OPENING)
    await w.answer_next()
    assert len(w.asked) == 1 and len(good.asked) >= 4

    monkeypatch.setattr(rasa_client, "RESUME_FOR_S", 0.0)  # resumed by the citizen's next message here, not by itself
    cluster.kill_actions()
    try:
        # Dying *during* a turn: the door's check before the turn still saw it alive, so Rasa runs the turn; its
        # action call fails, Rasa retries it for HOTLINE_ACTIONS_RETRY_S and then abandons the turn unsaved
        # (rasa_runtime/hotline_rasa/resilience.py): the door holds the answer with the question it was said to.
        real_alive = rasa_client.actions_alive
        checks = iter([True])
        monkeypatch.setattr(rasa_client, "actions_alive", lambda **kw: _first_then(checks, real_alive, **kw))
        slot = w.requested_slot()
        assert slot == good.asked[1]
        replies = await w.say(answer_for(slot))
        assert [r.text for r in replies] == [HELD_TEXT]
        assert w.requested_slot() == slot  # not misfiled: the same question is still open
        assert w.slots().get(slot) is None  # and the answer is not half-applied
        monkeypatch.setattr(rasa_client, "actions_alive", real_alive)
        # Still down: the citizen, who has seen no new question, says something more; held too.
        replies = await w.say(answer_for(good.asked[2]))
        assert [r.text for r in replies] == [HELD_TEXT]
        assert w.requested_slot() == slot
    finally:
        cluster.start_actions()

    # Back: the held answer goes to the question it was said to; what the citizen said after it, to a question they
    # never saw, is not taken for the answer to the next one. The bot says so and asks the next question.
    replies = await w.say(answer_for(good.asked[2]))
    assert replies[0].text.startswith(rasa_client.RESUMED_TEXT)
    assert w.slots()[good.asked[1]] == good.slots()[good.asked[1]]
    assert w.requested_slot() == good.asked[2]
    await w.to_the_end()
    [row] = rows_of(cluster.stack.database_url, w.conversation.split(":", 1)[1])  # exactly once
    assert facts_of(row) == expected


async def _first_then(checks: Iterator[bool], real: object, **kwargs: object) -> bool:
    for value in checks:
        return value
    return await real(**kwargs)  # type: ignore[operator]


# --- a Rasa process killed while another serves -------------------------------------------------------------


async def test_a_killed_rasa_process_hands_its_conversations_to_the_other(cluster: Cluster) -> None:
    _, expected = await control(cluster)
    w = walk(cluster, "citizen-whose-rasa-died")
    home = rasa_urls_for(w.conversation, tuple(cluster.stack.rasa_urls))[0]
    other = next(u for u in cluster.stack.rasa_urls if u != home)
    await w.say(OPENING)
    await w.answer_next()
    await w.answer_next()
    asked_before = w.requested_slot()

    cluster.kill_rasa(cluster.stack.rasa_urls.index(home))
    # The other process has the conversation (one tracker store) and carries on where it stopped.
    assert w.stack.tracker(w.conversation, other)["slots"]["requested_slot"] == asked_before
    await w.to_the_end()
    assert all(r.text != rasa_client.FALLBACK_TEXT for r in w.replies)
    [row] = rows_of(cluster.stack.database_url, w.conversation.split(":", 1)[1])
    assert facts_of(row) == expected
