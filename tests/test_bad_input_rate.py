"""The per-sender rate limit on the public doors (bot/limits.py): in memory, and in Redis shared by several workers."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot import limits
from bot.app import create_app
from hotline.store.db import make_engine
from hotline.store.models import Base
from tests.fakes.rasa import FakeRasa
from tests.stack import free_port

TOKEN = "wx-rate-token"


@pytest.fixture
def tables() -> None:
    engine = make_engine()
    Base.metadata.create_all(engine)
    engine.dispose()


@pytest.fixture
def tight(monkeypatch: pytest.MonkeyPatch, tables: None, fake_rasa: FakeRasa) -> None:
    """Buckets of 3 that refill once a minute: a test's few calls never see a refill."""
    for name in ("SENDER", "IP", "LOGIN", "POLL"):
        monkeypatch.setenv(f"HOTLINE_RATE_{name}", "3/1")


def test_memory_bucket_refills_at_its_rate() -> None:
    now = [100.0]
    buckets = limits.MemoryBuckets(clock=lambda: now[0])
    rate = limits.Rate(burst=2, per_minute=60)
    import asyncio

    async def takes() -> list[float]:
        return [await buckets.take("k", rate) for _ in range(3)]

    assert asyncio.run(takes()) == [0.0, 0.0, 1.0]  # the third waits one second for its token
    now[0] += 1.0
    assert asyncio.run(buckets.take("k", rate)) == 0.0


def test_web_chat_sender_gets_429_in_chinese_others_do_not(tight: None, fake_rasa: FakeRasa) -> None:
    with TestClient(create_app()) as client:
        statuses = [client.post("/api/chat", json={"sender": "s-1", "message": f"第{i}句"}).status_code
                    for i in range(3)]
        assert statuses == [200, 200, 200]
        resp = client.post("/api/chat", json={"sender": "s-1", "message": "还有"})
        assert resp.status_code == 429
        assert resp.json() == {"detail": "Too many requests", "message": limits.TOO_FAST}
        assert int(resp.headers["retry-after"]) >= 1
    assert len(fake_rasa.webhook_calls) == 3  # the refused turn never reached the bot


def test_ip_bucket_catches_a_sender_that_keeps_changing(tight: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(create_app()) as client:
        statuses = [client.post("/api/chat", json={"sender": f"rotating-{i}", "message": "你好"}).status_code
                    for i in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_the_machine_itself_is_not_counted_per_ip_but_each_sender_still_is(tight: None) -> None:
    """Behind the proxy the citizen's address is counted; a loopback caller (a proxy that does not forward, a load
    test on the box) would otherwise put one cap on every citizen together."""
    app = create_app()

    async def from_loopback(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            scope = {**scope, "client": ("127.0.0.1", 50123)}
        await app(scope, receive, send)

    with TestClient(from_loopback) as client:
        rotating = [client.post("/api/chat", json={"sender": f"crowd-{i}", "message": "你好"}).status_code
                    for i in range(6)]
        one = [client.post("/api/chat", json={"sender": "same-one", "message": f"第{i}句"}).status_code
               for i in range(4)]
    assert rotating == [200] * 6
    assert one == [200, 200, 200, 429]


def test_login_and_public_lookups_are_limited_per_ip(tight: None) -> None:
    with TestClient(create_app()) as client:
        logins = [client.post("/api/login", json={"username": f"u{i}", "password": "x"}).status_code
                  for i in range(4)]
        assert logins == [401, 401, 401, 429]
        lookups = [client.get("/api/advisors", params={"q": "东台"}).status_code for _ in range(4)]
        assert lookups[-1] == 429 and all(s == 200 for s in lookups[:3])


def test_switched_off(tight: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_RATE_LIMIT", "off")
    with TestClient(create_app()) as client:
        assert all(client.post("/api/chat", json={"sender": "s", "message": "hi"}).status_code == 200
                   for _ in range(6))


def test_wechat_user_sending_too_fast_gets_a_polite_reply(tight: None, monkeypatch: pytest.MonkeyPatch,
                                                          fake_rasa: FakeRasa) -> None:
    from hotline.settings import get_settings

    monkeypatch.setenv("WECHAT_TOKEN", TOKEN)
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        contents = []
        for msg_id in range(4):
            ts, nonce = str(int(time.time())), f"n{msg_id}"
            sig = hashlib.sha1("".join(sorted([TOKEN, ts, nonce])).encode()).hexdigest()
            xml = (f"<xml><ToUserName>gh</ToUserName><FromUserName>oFast</FromUserName><CreateTime>{ts}</CreateTime>"
                   f"<MsgType>text</MsgType><Content>第{msg_id}句</Content><MsgId>{7000 + msg_id}</MsgId></xml>")
            resp = client.post("/wechat", params={"signature": sig, "timestamp": ts, "nonce": nonce},
                               content=xml.encode())
            assert resp.status_code == 200
            contents.append(ET.fromstring(resp.text).findtext("Content"))
    assert contents[-1] == limits.TOO_FAST and limits.TOO_FAST not in contents[:3]
    assert len(fake_rasa.webhook_calls) == 3


# --- Redis: several workers share one bucket -------------------------------------------------------------------

@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = shutil.which("redis-server")
    if not server:
        pytest.skip("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_two_workers_share_the_bucket_in_redis(tight: None, redis_url: str, monkeypatch: pytest.MonkeyPatch,
                                               fake_rasa: FakeRasa) -> None:
    monkeypatch.setenv("HOTLINE_REDIS_URL", redis_url)
    with TestClient(create_app()) as worker1, TestClient(create_app()) as worker2:
        first = [worker1.post("/api/chat", json={"sender": "shared", "message": "一"}).status_code for _ in range(2)]
        second = [worker2.post("/api/chat", json={"sender": "shared", "message": "二"}).status_code
                  for _ in range(2)]
    assert first == [200, 200] and second == [200, 429]
    import redis

    keys = [k.decode() for k in redis.Redis.from_url(redis_url).keys("hotline:rl:*")]
    assert keys and all("shared" not in k for k in keys)  # only hashes of senders and IPs are kept


def test_redis_down_lets_requests_through() -> None:
    """A limiter must not take the hotline down with it: with Redis unreachable every request may pass."""
    import asyncio

    buckets = limits.RedisBuckets(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    lim = limits.Limiter(buckets, {"sender": limits.Rate(burst=1, per_minute=1)})

    async def turns() -> list[bool]:
        return [await lim.allow("web", "s") for _ in range(3)]

    assert asyncio.run(turns()) == [True, True, True]
