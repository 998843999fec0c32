"""`GET /metrics` (bot/metrics.py): Prometheus text with turns, latencies, errors, refusals, the store's figures
and the outbox depth, and no personal data in it."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from bot.app import create_app
from hotline import outbox
from hotline.store import consultations
from hotline.store.db import make_engine
from hotline.store.models import Base, Handoff
from tests.fakes.rasa import FakeRasa

PHONE = "13977212345"


@pytest.fixture
def client(fake_rasa: FakeRasa, tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HOTLINE_OUTBOX_PATH", str(tmp_path / "outbox.db"))
    engine = make_engine()
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        consultations.log_consultation(session=s, service="online", channel="wechat", category="wage_arrears",
                                       outcome="answered", phone=PHONE, summary=f"电话{PHONE}")
        consultations.log_consultation(session=s, service="hotline_12348", channel="phone", outcome="answered")
        s.add(Handoff(created_at=datetime(2026, 12, 1), channel="web", sender_hash="a" * 64, status="waiting",
                      summary=f"电话{PHONE}"))
        s.commit()
    engine.dispose()
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = client.get("/metrics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(resp.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(m: dict, name: str, **labels: str) -> float:
    return m.get((name, tuple(sorted(labels.items()))), 0.0)


def test_turns_latency_and_refusals_are_counted(client: TestClient) -> None:
    before = samples(client)
    for text in ("你好", f"我的电话{PHONE}"):
        assert client.post("/api/chat", json={"sender": PHONE, "message": text}).status_code == 200
    client.post("/api/chat", content=b"{broken", headers={"content-type": "application/json"})
    client.post("/api/chat", content=b"\xff", headers={"content-type": "application/json"})
    after = samples(client)
    assert value(after, "hotline_turns_total", channel="web") - value(before, "hotline_turns_total", channel="web") == 2
    assert (value(after, "hotline_turn_duration_seconds_count", channel="web")
            - value(before, "hotline_turn_duration_seconds_count", channel="web")) == 2
    assert (value(after, "hotline_http_requests_total", route="/api/chat", method="POST", status="200")
            - value(before, "hotline_http_requests_total", route="/api/chat", method="POST", status="200")) == 2
    assert (value(after, "hotline_rejected_requests_total", reason="malformed")
            - value(before, "hotline_rejected_requests_total", reason="malformed")) == 1


def test_store_figures_and_outbox_depth(client: TestClient) -> None:
    m = samples(client)
    assert value(m, "hotline_database_up") == 1
    assert value(m, "hotline_consultations_logged_total", service="online", channel="wechat") == 1
    assert value(m, "hotline_consultations_logged_total", service="hotline_12348", channel="phone") == 1
    assert value(m, "hotline_handoffs", status="waiting") == 1
    assert value(m, "hotline_outbox_depth") == 0
    outbox.Outbox().put(outbox.consultation_entry(source_id="bot:x:1:1", refine=False, fields={}))
    assert value(samples(client), "hotline_outbox_depth") == 1


def test_no_personal_data_and_route_templates_only(client: TestClient) -> None:
    client.post("/api/chat", json={"sender": PHONE, "message": f"电话{PHONE}"})
    client.get(f"/api/chat/{PHONE}/messages", params={"since": 0})
    client.get(f"/api/advisors?q={PHONE}")
    client.get(f"/no/such/{PHONE}")
    text = client.get("/metrics").text
    assert PHONE not in text and "1397721" not in text
    routes = {dict(s.labels).get("route") for f in text_string_to_metric_families(text) for s in f.samples} - {None}
    assert "/api/chat/{sender}/messages" in routes and "other" in routes
    assert all(r == "other" or r.startswith("/") for r in routes)


def test_database_down_is_a_figure_not_an_error(client: TestClient, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from hotline.settings import get_settings
    from hotline.store import db

    away = tmp_path / "gone"
    away.mkdir()
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{away}")
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    assert value(samples(client), "hotline_database_up") == 0


def test_metrics_token_when_set(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_METRICS_TOKEN", "scrape-me")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    resp = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert resp.status_code == 200 and "hotline_http_requests_total" in resp.text
