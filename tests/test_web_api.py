"""The JSON API of CONTRACT §7 over a real database (SQLite; PostgreSQL too when configured) and a fake Rasa."""
from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot import copilot
from bot.app import create_app
from bot.rasa_client import FALLBACK_TEXT
from hotline.directory import parse_roster
from hotline.privacy import hash_sender
from hotline.settings import PROJECT_ROOT
from hotline.store import directory, handoffs, operators
from hotline.store.models import Consultation
from tests.fakes.rasa import FakeRasa


@pytest.fixture
def seeded(engine: Engine) -> dict[str, str]:
    """The sample roster and one operator; returns the operator's login."""
    with Session(engine) as s:
        directory.import_directory(session=s, entries=parse_roster(
            (PROJECT_ROOT / "data" / "directory_sample.csv").read_text(encoding="utf-8")))
        password = operators.create_operator(session=s, username="op.li")
        handoffs.open_handoff(session=s, channel="wechat", sender_hash="a" * 64, category="wage_arrears",
                              summary="工地欠薪，电话13977212345")
        s.commit()
    return {"username": "op.li", "password": password}


@pytest.fixture
def client(seeded: dict[str, str], fake_rasa: FakeRasa) -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def auth(client: TestClient, seeded: dict[str, str]) -> dict[str, str]:
    token = client.post("/api/login", json=seeded).json()["token"]
    client.cookies.clear()  # an API client: the bearer token only (login also sets the console's cookies)
    return {"Authorization": f"Bearer {token}"}


def assert_polite_error(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["message"]  # a Chinese sentence for whoever shows it
    return body


# --- citizen side -----------------------------------------------------------------------------------------

def test_chat_forwards_with_hashed_sender(client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.reply = lambda s, m: [{"text": "请问欠了多少钱？", "buttons": [{"title": "不清楚", "payload": "/deny"}]}]
    resp = client.post("/api/chat", json={"sender": "browser-uuid-1", "message": " 工钱没给 "})
    assert resp.json() == {"messages": [{"text": "请问欠了多少钱？", "buttons": [{"title": "不清楚", "payload": "/deny"}]}],
                           "conversation_id": "web:" + hash_sender("browser-uuid-1", "test-salt"),  # CONTRACT §7
                           "handoff": None}  # no person has the conversation
    assert fake_rasa.webhook_calls == [{"sender": "web:" + hash_sender("browser-uuid-1", "test-salt"),
                                        "message": "工钱没给"}]


def test_chat_rasa_down_is_polite(client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.mode = "error"
    assert client.post("/api/chat", json={"sender": "u", "message": "你好"}).json()["messages"][0]["text"] == FALLBACK_TEXT


@pytest.mark.parametrize("body", [{}, {"sender": "u"}, {"sender": "u", "message": ""}, {"sender": "", "message": "x"},
                                  {"sender": "u", "message": "x" * 2001}, [1, 2]])
def test_chat_malformed_is_422(client: TestClient, body: Any) -> None:
    assert_polite_error(client.post("/api/chat", json=body), 422)


def test_malformed_json_is_422(client: TestClient) -> None:
    resp = client.post("/api/chat", content=b"{not json", headers={"Content-Type": "application/json"})
    assert_polite_error(resp, 422)


def test_eligibility_migrant_worker_wage_claim(client: TestClient) -> None:
    resp = client.post("/api/eligibility", json={"matter": "wage_arrears", "migrant_worker": True,
                                                 "monthly_income_per_capita": None, "has_valuable_assets": None,
                                                 "groups": [], "criminal": None})
    assert resp.status_code == 200
    body = resp.json()
    assert body["verdict"] == "eligible" and body["means_test"] == "waived"
    assert "《法律援助法》第四十二条第三项" in body["basis"]
    assert body["materials"] and body["next_steps"] and "threshold" in body


def test_eligibility_means_test_uses_dated_threshold(client: TestClient) -> None:
    body = client.post("/api/eligibility", json={"matter": "contract_debt", "monthly_income_per_capita": 5000,
                                                 "has_valuable_assets": False, "groups": []}).json()
    assert body["means_test"] == "failed" and body["threshold"]["value"] > 0 and body["threshold"]["effective"]


@pytest.mark.parametrize(("body", "needle"), [
    ({}, "matter"),
    ({"matter": "telepathy"}, "telepathy"),
    ({"matter": "wage_arrears", "groups": "minor"}, "groups"),
    ({"matter": "wage_arrears", "groups": ["astronaut"]}, "astronaut"),
    ([], "object"),
    ("wage_arrears", "object"),
])
def test_eligibility_bad_body_is_422_with_clear_message(client: TestClient, body: Any, needle: str) -> None:
    err = assert_polite_error(client.post("/api/eligibility", json=body), 422)
    assert needle in err["detail"]


def test_advisors_by_community_alias(client: TestClient) -> None:
    resp = client.get("/api/advisors", params={"q": "东台"})
    assert resp.status_code == 200
    first = resp.json()[0]
    assert (first["street"], first["community"], first["advisor"]) == ("公园街道", "东台社区", "莫家宁")
    assert set(first) >= {"street", "community", "advisor", "advisor_phone", "justice_office", "office_address",
                          "office_phone", "office_hours", "sample"}
    assert first["sample"] is True


def test_advisors_by_former_street_name(client: TestClient) -> None:
    found = client.get("/api/advisors", params={"q": "水上"}).json()
    assert found and all(a["street"] == "沿江街道" for a in found)
    assert found[0]["community"] == "水上社区"


def test_advisors_without_query_is_422(client: TestClient) -> None:
    assert_polite_error(client.get("/api/advisors"), 422)
    assert_polite_error(client.get("/api/advisors", params={"q": ""}), 422)


def test_healthz_up(client: TestClient) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert {k: v for k, v in resp.json().items() if k != "processes"} == {
        "status": "ok", "web": "ok", "database": "ok", "rasa": "ok"}
    assert resp.json()["processes"] == {"rasa_marked_down": []}  # no supervisor here, no Rasa process skipped


def test_healthz_rasa_down(client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.mode = "down"
    resp = client.get("/healthz")
    assert resp.status_code == 503 and resp.json()["rasa"] == "error" and resp.json()["database"] == "ok"


def test_healthz_database_down(client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from hotline.settings import get_settings

    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{blocker}/sub/x.db")  # parent is a file: cannot open
    get_settings.cache_clear()
    resp = client.get("/healthz")
    assert resp.status_code == 503 and resp.json()["database"] == "error" and resp.json()["rasa"] == "ok"


def test_unknown_route_is_json_404(client: TestClient) -> None:
    assert_polite_error(client.get("/api/nothing-here"), 404)


def test_unexpected_error_is_polite_and_logged_masked(client: TestClient, monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    def boom(**_: Any) -> list[Any]:
        raise RuntimeError("lookup failed for caller 13977212345")

    monkeypatch.setattr(directory, "find_advisors", boom)
    with caplog.at_level(logging.ERROR):
        resp = client.get("/api/advisors", params={"q": "东台"})
    assert_polite_error(resp, 500)
    assert "12348" in resp.json()["message"]
    assert "139****2345" in caplog.text and "13977212345" not in caplog.text


# --- operators ----------------------------------------------------------------------------------------------

def test_login_and_401(client: TestClient, seeded: dict[str, str], auth: dict[str, str]) -> None:
    assert_polite_error(client.post("/api/login", json={**seeded, "password": "wrong"}), 401)
    assert_polite_error(client.post("/api/login", json={"username": "nobody", "password": "x"}), 401)
    assert_polite_error(client.post("/api/login", json={"username": "op.li"}), 422)
    for path in ("/api/handoffs",):
        assert_polite_error(client.get(path), 401)
        assert_polite_error(client.get(path, headers={"Authorization": "Bearer forged"}), 401)
        assert_polite_error(client.get(path, headers={"Authorization": "Basic abc"}), 401)
        assert client.get(path, headers=auth).status_code == 200
    assert_polite_error(client.post("/api/copilot/analyze", json={"text": "x", "conversation_id": "c"}), 401)
    assert_polite_error(client.post("/api/consultations", json={}), 401)


def test_console_cookie_also_authenticates(client: TestClient, auth: dict[str, str]) -> None:
    token = auth["Authorization"].split()[1]
    client.cookies.set("hotline_session", token)
    # A console session with the one-time password must change it first (tests/test_accounts.py goes on).
    resp = client.get("/api/handoffs")
    assert resp.status_code == 403 and resp.json()["detail"] == "Password change required"
    assert client.get("/api/me").json()["must_change_password"] is True


def test_handoff_queue_masks_summary(client: TestClient, auth: dict[str, str]) -> None:
    [item] = client.get("/api/handoffs", headers=auth).json()
    assert item["channel"] == "wechat" and item["category"] == "wage_arrears" and item["status"] == "waiting"
    assert "13977212345" not in item["summary"] and "139****2345" in item["summary"]
    assert item["conversation_id"] == "wechat:" + "a" * 64  # CONTRACT §7 names it
    assert "a" * 64 not in str({k: v for k, v in item.items() if k != "conversation_id"})


def test_log_phone_consultation(client: TestClient, auth: dict[str, str], engine: Engine) -> None:
    resp = client.post("/api/consultations", headers=auth, json={
        "category": "wage_arrears", "migrant_worker": True, "persons": 12, "street": "公园街道",
        "community": "东台社区", "amount": 20000, "eligibility": "eligible",
        "summary": "12名工友被欠薪两万多，来电人13977212345", "phone": "139-7721-2345"})
    assert resp.status_code == 201, resp.text
    row = resp.json()
    assert (row["service"], row["channel"], row["operator"], row["outcome"]) == ("hotline_12348", "phone", "op.li",
                                                                                   "answered")
    assert row["persons"] == 12 and row["amount"] == 20000 and row["phone"] == "139****2345"
    with Session(engine) as s:
        stored = s.scalars(select(Consultation)).all()
    assert len(stored) == 1 and stored[0].operator == "op.li" and stored[0].category == "wage_arrears"


@pytest.mark.parametrize("body", [{"category": "telepathy"}, {"outcome": "mediated"}, {"persons": 0},
                                  {"amount": -5}, {"eligibility": "maybe"}])
def test_log_consultation_bad_body_is_422(client: TestClient, auth: dict[str, str], body: dict[str, Any]) -> None:
    assert_polite_error(client.post("/api/consultations", headers=auth, json=body), 422)


@pytest.mark.parametrize("body", [{}, {"summary": "   "}, {"call_id": "call-1", "outcome": "answered"},
                                  {"persons": 3, "migrant_worker": True}])
def test_an_empty_call_is_not_logged(client: TestClient, auth: dict[str, str], engine: Engine,
                                     body: dict[str, Any]) -> None:
    """A click on 登记 with nothing recorded (no words, category or fact) is refused: it would count as a call."""
    assert_polite_error(client.post("/api/consultations", headers=auth, json=body), 422)
    with Session(engine) as s:
        assert s.scalars(select(Consultation)).all() == []


# --- copilot ------------------------------------------------------------------------------------------------

PARSES: dict[str, dict[str, Any]] = {
    "包工头跑了，欠我们12个工友两万多": {"intent": {"name": "wage_arrears", "confidence": 0.91}, "entities": [
        {"entity": "people_count", "value": 12}, {"entity": "amount", "value": 20000}]},
    "是恒通建筑公司，欠了三个月，已经不干了，没签合同": {"intent": {"name": "inform", "confidence": 0.8}, "entities": [
        {"entity": "employer", "value": "恒通建筑公司"}, {"entity": "months_owed", "value": "3"}]},
    "有欠条和微信聊天记录，在东台": {"intent": {"name": "inform", "confidence": 0.77}, "entities": [
        {"entity": "community", "value": "东台社区"}]},
    "我们社区的法律顾问是谁": {"intent": {"name": "find_advisor", "confidence": 0.88}, "entities": []},
}


@pytest.fixture
def nlu(fake_rasa: FakeRasa) -> FakeRasa:
    fake_rasa.parse_result = lambda text: {"text": text, **PARSES[text]}
    return fake_rasa


def analyze(client: TestClient, auth: dict[str, str], text: str, conversation_id: str = "call-1",
            facts: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"text": text, "conversation_id": conversation_id, **({"facts": facts} if facts is not None else {})}
    resp = client.post("/api/copilot/analyze", headers=auth, json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_copilot_accumulates_a_wage_claim(client: TestClient, auth: dict[str, str], nlu: FakeRasa) -> None:
    first = analyze(client, auth, "包工头跑了，欠我们12个工友两万多")
    assert first["intent"] == {"name": "wage_arrears", "confidence": 0.91, "label": "讨要工资"}
    assert (first["category"], first["category_label"], first["flow"]) == ("wage_arrears", "欠薪", "wage_claim")
    assert first["slots"]["amount"] == 20000 and first["slots"]["people_count"] == 12
    assert first["slots"]["construction"] is True  # 包工头: said, so not asked
    assert first["slots"]["hired_by"] == "person"  # issue 23: who hired them (条例第三十六条), said, so not asked
    assert first["missing"][0] == "employer" and "amount" not in first["missing"]
    # The bot's own question (its operator variation in the domain), with the same next ones after it.
    assert first["questions"][0] == copilot.question("employer", {}) and "哪家公司" in first["suggested_reply"]
    # Migrant status is asked, never assumed: no legal-aid verdict until it is known.
    assert "migrant_worker" in first["missing"] and first["eligibility"] is None and first["advisor"] is None
    assert {"slot": "amount", "label": "欠款金额", "value": 20000, "display": "20000元"} in first["facts"]

    # The operator heard 「是农民工」 and ticks it: a correction overrides what the NLU heard.
    second = analyze(client, auth, "是恒通建筑公司，欠了三个月，已经不干了，没签合同", facts={"migrant_worker": True})
    assert second["intent"]["name"] == "inform" and second["category"] == "wage_arrears"
    for key, value in {"employer": "恒通建筑公司", "months_owed": 3, "employment_ended": True, "has_contract": False,
                       "amount": 20000, "migrant_worker": True}.items():
        assert second["slots"][key] == value
    # issue 23: the job has ended and there is no contract, so the end day and the months worked are asked
    assert second["missing"] == ["end_date", "months_worked", "evidence", "street"]
    assert second["eligibility"]["verdict"] == "eligible"
    assert second["eligibility"]["verdict_label"] == "可以申请法律援助"
    # The points the citizen's answer leads with come first (issue 21), then the routes in order.
    routes = [x for x in second["wage_steps"] if x[:1].isdigit()]
    assert routes[0] == "1. 整理证据，先和老板协商"
    assert second["wage_steps"][0].startswith("★") and "二倍工资" in "".join(second["wage_steps"])

    third = analyze(client, auth, "有欠条和微信聊天记录，在东台", facts={"end_date": "2026-10-20", "months_worked": 8})
    assert third["slots"]["evidence"] == ["欠条", "微信聊天记录"]
    assert third["advisor"]["advisor"] == "莫家宁" and third["slots"]["street"] == "公园街道"
    assert third["missing"] == [] and third["questions"] == [] and third["office"] is None
    assert "莫家宁" in third["suggested_reply"] and "法律援助" in third["suggested_reply"]

    other = analyze(client, auth, "我们社区的法律顾问是谁", conversation_id="call-2")
    assert other["slots"] == {} and other["missing"] == ["community", "street"] and other["eligibility"] is None
    assert other["suggested_reply"] == copilot.question("community", {})["text"]


def test_copilot_rasa_down_is_503(client: TestClient, auth: dict[str, str], fake_rasa: FakeRasa) -> None:
    fake_rasa.mode = "error"
    resp = client.post("/api/copilot/analyze", headers=auth, json={"text": "x", "conversation_id": "c"})
    assert_polite_error(resp, 503)


def test_copilot_bad_body_is_422(client: TestClient, auth: dict[str, str]) -> None:
    assert_polite_error(client.post("/api/copilot/analyze", headers=auth, json={"text": ""}), 422)


# --- pure copilot rules -------------------------------------------------------------------------------------

def test_missing_skips_means_test_for_migrant_wage_claims() -> None:
    on = dt.date(2026, 6, 1)
    slots = {"matter": "wage_arrears", "migrant_worker": True}
    assert copilot.missing_slots("legal_aid", slots, on) == ["street"]
    # Art. 42(3) is no matter for a debt: migrant status is not asked there (the bot's order: groups first).
    assert copilot.missing_slots("legal_aid", {"matter": "contract_debt"}, on)[:3] == [
        "groups", "monthly_income", "household_size"]
    assert copilot.missing_slots(None, {}, on) == []


def test_keyword_slots_negation_first() -> None:
    assert copilot.keyword_slots("没签合同")["has_contract"] is False
    assert copilot.keyword_slots("签了劳动合同")["has_contract"] is True
    assert copilot.keyword_slots("家里没房没车")["has_valuable_assets"] is False
    assert "evidence" not in copilot.keyword_slots("我们12个工友")


def test_call_memory_forgets_old_calls() -> None:
    now = [0.0]
    memory = copilot.CallMemory(max_calls=2, ttl_s=10, clock=lambda: now[0])
    memory.get("a").slots["amount"] = 1
    assert memory.get("a").slots == {"amount": 1}
    now[0] = 11
    assert memory.get("a").slots == {}
    memory.get("b"), memory.get("c"), memory.get("d")
    assert len(memory) == 2


def test_pages_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "法律信息，不是律师意见" in page.text
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        assert client.get(asset).status_code == 200, asset
    assert not re.search(r'(?:src|href)="https?://', page.text)  # nothing from a CDN
