"""The production profile on real servers: two Rasa processes sharing a PostgreSQL tracker store and a Redis lock
store, the consultation log on PostgreSQL. A conversation whose turns land on either process completes and is
logged exactly once.

Needs HOTLINE_TEST_POSTGRES_URL (a role that may create databases) and HOTLINE_TEST_REDIS_URL; `.ci/run` starts
both. The two Rasa processes are started once for the module."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import create_engine, text

from bot import held_turns
from bot.rasa_client import rasa_sender
from hotline.privacy import hash_sender
from tests.stack import Cluster, prepared_database, running_cluster
from tests.walk import OPENING, Walk, answer_for, facts_of, rows_of

PG_URL = os.environ.get("HOTLINE_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("HOTLINE_TEST_REDIS_URL")

pytestmark = [
    pytest.mark.rasa, pytest.mark.postgres,
    pytest.mark.skipif(not (PG_URL and REDIS_URL), reason="needs HOTLINE_TEST_POSTGRES_URL and HOTLINE_TEST_REDIS_URL"),
]


@pytest.fixture(scope="module")
def databases() -> Iterator[tuple[str, str]]:
    """Two fresh PostgreSQL databases: the consultation log (psycopg 3, the app) and Rasa's trackers (psycopg2)."""
    assert PG_URL
    names = ["c_log_" + uuid.uuid4().hex[:8], "c_trk_" + uuid.uuid4().hex[:8]]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{names[0]}", base.replace("postgresql+psycopg://", "postgresql://") + f"/{names[1]}"
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, databases: tuple[str, str]) -> Iterator[Cluster]:
    log_url, tracker_url = databases
    tmp: Path = tmp_path_factory.mktemp("cluster")
    prepared_database(log_url)
    assert REDIS_URL
    redis = urlsplit(REDIS_URL)
    with running_cluster(tmp, log_url, rasa_processes=2, tracker_store_url=tracker_url, lock_store="redis",
                         redis=(redis.hostname or "127.0.0.1", redis.port or 6379)) as c:
        yield c


def tracker_events_in_postgres(tracker_url: str, conversation: str) -> int:
    engine = create_engine(tracker_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM events WHERE sender_id = :s"),
                                {"s": conversation}).scalar_one()
    finally:
        engine.dispose()


def test_turns_on_either_process_complete_one_conversation_logged_once(
        cluster: Cluster, databases: tuple[str, str]) -> None:
    stack = cluster.stack
    conversation = "web:" + hash_sender("alternating-citizen", "cluster-salt")
    sent_to: list[int] = []

    def say(i: int, message: str) -> None:
        resp = httpx.post(f"{stack.rasa_urls[i]}/webhooks/rest/webhook",
                          json={"sender": conversation, "message": message}, timeout=120)
        resp.raise_for_status()
        sent_to.append(i)

    say(0, OPENING)
    for turn in range(1, 26):
        # Each turn reads the state from one process and answers through the other.
        slot = stack.tracker(conversation, stack.rasa_urls[turn % 2])["slots"].get("requested_slot")
        if slot is None:
            break
        say((turn + 1) % 2, answer_for(slot))
    else:
        raise AssertionError("the form never finished")
    assert set(sent_to) == {0, 1}
    [row] = rows_of(stack.database_url, conversation.split(":", 1)[1])
    assert row["category"] == "wage_arrears" and row["persons"] == 12 and float(row["amount"]) == 35000
    # The conversation is in PostgreSQL, where either process (or a new one) finds it.
    assert tracker_events_in_postgres(databases[1], conversation) > 10


async def test_through_the_door_two_citizens_each_logged_once(
        cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_URLS", ",".join(cluster.stack.rasa_urls))
    monkeypatch.setenv("HOTLINE_RASA_TOKEN", cluster.rasa_token)
    monkeypatch.setenv("HOTLINE_ACTIONS_URL", cluster.stack.actions_url)
    monkeypatch.setenv("HOTLINE_RASA_TIMEOUT", "60")
    assert REDIS_URL
    monkeypatch.setenv("HOTLINE_REDIS_URL", REDIS_URL)  # held turns in Redis, as with several web-app processes
    from hotline.settings import get_settings

    get_settings.cache_clear()
    held_turns.reset_memory()
    walks = [Walk(cluster.stack, f"door-citizen-{n}", rasa_sender(f"door-citizen-{n}", "web")) for n in range(2)]
    for w in walks:
        await w.say(OPENING)
    for _ in range(25):  # interleaved, as citizens are
        if all([await w.answer_next() is None for w in walks]):
            break
    facts = [facts_of(r) for w in walks for r in rows_of(cluster.stack.database_url, w.conversation.split(":")[1])]
    assert len(facts) == 2 and facts[0] == facts[1]
