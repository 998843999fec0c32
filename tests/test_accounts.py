"""Operator accounts as OWASP asks, over HTTP: lock-out (429), logout ends the token, the console's HttpOnly
SameSite=Strict cookie with CSRF, the forced password change, security headers, no public API docs; and the
dashboard routes (stats, export, report paragraph)."""
from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.app import create_app
from hotline.stats import annual_stats
from hotline.store import consultations, operators


@pytest.fixture
def operator(engine: Engine) -> dict[str, str]:
    with Session(engine) as s:
        password = operators.create_operator(session=s, username="op.liu")
        s.commit()
    return {"username": "op.liu", "password": password}


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def bearer(client: TestClient, login: dict[str, str]) -> dict[str, str]:
    token = client.post("/api/login", json=login).json()["token"]
    client.cookies.clear()
    return {"Authorization": f"Bearer {token}"}


def test_lockout_after_five_failures_even_with_the_right_password(client: TestClient, operator: dict[str, str]) -> None:
    for _ in range(5):
        assert client.post("/api/login", json={**operator, "password": "wrong"}).status_code == 401
    locked = client.post("/api/login", json=operator)
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) >= 5 * 60
    assert "token" not in locked.json()


def test_logout_ends_the_token_on_the_server(client: TestClient, operator: dict[str, str]) -> None:
    auth = bearer(client, operator)
    assert client.get("/api/handoffs", headers=auth).status_code == 200
    assert client.post("/api/logout", headers=auth).status_code == 200
    assert client.get("/api/handoffs", headers=auth).status_code == 401
    assert client.post("/api/logout", headers=auth).status_code == 401


def test_console_cookie_csrf_and_forced_password_change(client: TestClient, operator: dict[str, str]) -> None:
    resp = client.post("/api/login", json=operator)
    assert resp.json()["must_change_password"] is True
    cookies = resp.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("hotline_session="))
    assert "HttpOnly" in session_cookie and "SameSite=strict" in session_cookie and "Secure" not in session_cookie
    csrf = client.cookies["hotline_csrf"]
    # Before the password is changed, only the change (and logout, me) is allowed.
    assert client.get("/api/handoffs").status_code == 403
    new = {"old_password": operator["password"], "new_password": "a-much-longer-secret"}
    assert client.post("/api/password", json=new).status_code == 403  # no CSRF header
    assert client.post("/api/password", json=new, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.post("/api/password", json=new,
                       headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"}).status_code == 403
    changed = client.post("/api/password", json=new, headers={"X-CSRF-Token": csrf})
    assert changed.status_code == 200, changed.text
    assert client.get("/api/handoffs").status_code == 200
    assert client.get("/api/me").json() == {"username": "op.liu", "must_change_password": False}
    # Posts through the cookie need the CSRF header; with it they work, and logout ends the cookie's session.
    call = {"summary": "咨询", "call_id": "c-1"}
    assert client.post("/api/consultations", json=call).status_code == 403
    assert client.post("/api/consultations", json=call, headers={"X-CSRF-Token": csrf}).status_code == 201
    assert client.post("/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    client.cookies.set("hotline_session", resp.json()["token"])
    assert client.get("/api/handoffs").status_code == 401
    # A login over HTTPS (behind the proxy) gets a Secure cookie.
    again = client.post("/api/login", json={"username": "op.liu", "password": "a-much-longer-secret"},
                        headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in next(c for c in again.headers.get_list("set-cookie") if c.startswith("hotline_session="))


def test_phone_consultation_logged_once_per_call_id(client: TestClient, operator: dict[str, str]) -> None:
    auth = bearer(client, operator)
    body = {"category": "wage_arrears", "summary": "欠薪", "call_id": "call-abc"}
    first = client.post("/api/consultations", headers=auth, json=body).json()
    second = client.post("/api/consultations", headers=auth, json=body).json()
    other = client.post("/api/consultations", headers=auth, json={**body, "call_id": "call-def"}).json()
    assert first["id"] == second["id"] != other["id"]
    assert first["operator"] == "op.liu"


def test_security_headers_everywhere_and_no_public_docs(client: TestClient, operator: dict[str, str]) -> None:
    for path in ("/", "/console", "/static/console.js", "/api/handoffs", "/api/docs", "/nope"):
        resp = client.get(path)
        assert "frame-ancestors 'none'" in resp.headers["content-security-policy"], path
        assert resp.headers["x-frame-options"] == "DENY" and resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["referrer-policy"] == "no-referrer"
    assert client.get("/api/docs").status_code == 401
    assert client.get("/api/openapi.json").status_code == 401
    assert client.get("/docs").status_code == 404 and client.get("/openapi.json").status_code == 404
    auth = bearer(client, operator)
    schema = client.get("/api/openapi.json", headers=auth)
    assert schema.status_code == 200 and "/api/handoffs/{handoff_id}/reply" in schema.json()["paths"]


@pytest.fixture
def logged(engine: Engine) -> list[dict[str, Any]]:
    rows = [("hotline_12348", "wage_arrears", datetime(2026, 3, 5, 2), 1),
            ("hotline_12348", "family_dispute", datetime(2026, 3, 9, 2), 1),
            ("legal_aid", "wage_arrears", datetime(2026, 3, 20, 2), 12),
            ("online", "other", datetime(2026, 4, 1, 2), 1)]
    with Session(engine) as s:
        for service, category, at, persons in rows:
            outcome = "accepted" if service == "legal_aid" else "answered"
            consultations.log_consultation(session=s, service=service, channel="phone", category=category,
                                           occurred_at=at, persons=persons, outcome=outcome, migrant_worker=True)
        s.commit()
    return [{"service": r[0]} for r in rows]


def test_stats_export_and_dashboard(client: TestClient, operator: dict[str, str], engine: Engine,
                                    logged: list[dict[str, Any]]) -> None:
    from openpyxl import load_workbook

    assert client.get("/api/stats", params={"year": 2026}).status_code == 401
    auth = bearer(client, operator)
    stats = client.get("/api/stats", params={"year": 2026}, headers=auth).json()
    with Session(engine) as s:
        assert stats == annual_stats(session=s, year=2026)  # the object of `hotline stats --json`
    assert stats["by_month"]["03"] == 3 and stats["hotline_12348_consultations"] == 2

    xlsx = client.get("/api/export", params={"month": "2026-03", "format": "xlsx"}, headers=auth)
    assert xlsx.status_code == 200 and "spreadsheetml" in xlsx.headers["content-type"]
    assert 'filename="consultations-2026-03.xlsx"' in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    total = next(r for r in sheet.iter_rows(values_only=True) if r and r[0] == "合计")
    assert total[-2] == stats["by_month"]["03"]  # 件 in the month's file = the month in the year's figures
    csv = client.get("/api/export", params={"month": "2026-03", "format": "csv"}, headers=auth)
    assert csv.status_code == 200 and "合计" in csv.content.decode("utf-8-sig")
    assert client.get("/api/export", params={"month": "2026-13", "format": "csv"}, headers=auth).status_code == 422
    assert client.get("/api/export", params={"month": "2026-03", "format": "pdf"}, headers=auth).status_code == 422

    paragraph = client.get("/api/stats/paragraph", params={"year": 2026}, headers=auth).json()["paragraph"]
    assert "解答“12348”电话咨询2个" in paragraph
    board = client.get("/api/dashboard", params={"now": "2026-03-20T03:00:00Z"}, headers=auth).json()
    assert board["today"]["total"] == 1 and board["today"]["by_service"][0]["label"] == "法律援助"
    assert board["month"]["total"] == 3
    assert {c["label"]: c["count"] for c in board["month"]["by_category"]} == {"欠薪": 2, "婚姻家庭": 1}
    assert board["by_month"]["04"] == 1 and "12348" in board["paragraph"]
