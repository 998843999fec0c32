"""The dashboard's year panels: figures with 同比, the assistant's own count by channel, the by-service table with the
export's labels, and the advisor network — over the API and (with chromium) drawn in the console."""
from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, update
from sqlalchemy.orm import Session

from bot.app import create_app
from hotline.advisor_report import advisor_report
from hotline.directory import parse_roster
from hotline.export import MISSING, month_export
from hotline.ledger import import_ledger
from hotline.settings import PROJECT_ROOT
from hotline.stats import annual_stats, change
from hotline.store import directory, operators
from hotline.store.models import Consultation, Operator
from tests.chromium import ARGS, CHROMIUM
from tests.fakes.server import LoopbackServer

SEED = Path(__file__).parent / "data" / "ledger_seed.csv"


@pytest.fixture
def seeded(engine: Engine) -> dict[str, str]:
    """The seed ledger, the sample roster, a month of the assistant's own chats, and an operator login."""
    with Session(engine) as s:
        directory.import_directory(session=s, entries=parse_roster(
            (PROJECT_ROOT / "data" / "directory_sample.csv").read_text(encoding="utf-8")))
        import_ledger(session=s, path=SEED)
        chats = [("wechat", "wage_arrears", 12), ("wechat", "wage_arrears", 1), ("web", "family_dispute", 1),
                 ("telegram", None, 1)]
        s.execute(insert(Consultation.__table__), [
            {"occurred_at": datetime(2023, 11, 5, 3), "service": "online", "channel": ch, "category": cat,
             "persons": p, "migrant_worker": False, "outcome": "answered"} for ch, cat, p in chats])
        password = operators.create_operator(session=s, username="op.zhao")
        s.commit()
    return {"username": "op.zhao", "password": password}


@pytest.fixture
def auth(engine: Engine, seeded: dict[str, str]) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        token = client.post("/api/login", json=seeded).json()["token"]
        client.cookies.clear()
        yield client, {"Authorization": f"Bearer {token}"}


def test_figures_with_year_over_year_and_the_assistant(auth: tuple[TestClient, dict[str, str]],
                                                       engine: Engine) -> None:
    client, headers = auth
    assert client.get("/api/dashboard/figures", params={"year": 2023}).status_code == 401
    data = client.get("/api/dashboard/figures", params={"year": 2023}, headers=headers).json()
    with Session(engine) as s:
        now, before = annual_stats(session=s, year=2023), annual_stats(session=s, year=2022)
    assert data["figures"]["previous_year"] == 2022
    rows = {r["key"]: r for r in data["figures"]["rows"]}
    assert rows["plea_leniency_cases"] == {
        "key": "plea_leniency_cases", "label": "指派律师到检察院办理认罪认罚从宽案", "value": "498件",
        "previous": f"{before['plea_leniency_cases']}件", "change": change(498, before["plea_leniency_cases"])}
    assert rows["publicity_consultation_persons"]["value"] == "350人次"
    assert rows["assistant_consultation_persons"]["value"] == "15人次"
    assert rows["assistant_consultation_persons"]["change"] == "新增"  # 2022 had none
    # The paragraph names what the assistant answered by channel, beside the ledger's figures.
    sentence = "智能助手在线解答法律咨询15人次（微信13人次、网页1人次、Telegram1人次），其中讨薪13人次"
    assert data["assistant"]["sentence"] == sentence and sentence in data["paragraph"]
    assert "提供法律帮助538人次" in data["paragraph"]
    services = {r["label"]: (r["count"], r["persons"]) for r in data["services"]}
    assert services["认罪认罚"] == (498, 538) and services["网络咨询"][0] == now["by_service"]["online"]
    # No records in 2021: no 同比 for 2022.
    assert client.get("/api/dashboard/figures", params={"year": 2022},
                      headers=headers).json()["figures"]["previous_year"] is None


def test_month_table_agrees_with_the_monthly_export(auth: tuple[TestClient, dict[str, str]], engine: Engine) -> None:
    """Issue 21: the dashboard's month table uses the export's labels, 件 and 人次 (no category reads 未填写)."""
    client, headers = auth
    board = client.get("/api/dashboard", params={"now": "2023-11-20T03:00:00Z"}, headers=headers).json()
    with Session(engine) as s:
        export = month_export(session=s, month="2023-11")
    by_category: dict[str, list[int]] = {}
    for _service, category, n, persons in export.tables[0].rows:
        by_category.setdefault(category, [0, 0])
        by_category[category][0] += n
        by_category[category][1] += persons
    assert {c["label"]: [c["count"], c["persons"]] for c in board["month"]["by_category"]} == by_category
    assert MISSING in by_category  # the telegram chat without a category
    assert board["month"]["total"] == export.tables[0].total[-2]
    assert "其中讨薪13人次" in board["paragraph"] and board["figures"]["rows"]


def test_advisor_panel_and_its_xlsx(auth: tuple[TestClient, dict[str, str]], engine: Engine) -> None:
    from openpyxl import load_workbook

    client, headers = auth
    data = client.get("/api/dashboard/advisors", params={"year": 2023}, headers=headers).json()
    with Session(engine) as s:
        stats = annual_stats(session=s, year=2023)
        assert data == json.loads(json.dumps(advisor_report(session=s, year=2023).to_dict()))
    assert (data["advisor_consultations"], data["advisor_mediations"]) == (
        stats["advisor_consultations"], stats["advisor_mediations"])
    assert data["coverage"] == 100.0 and data["communities"] == 21
    xlsx = client.get("/api/dashboard/advisors", params={"year": 2023, "format": "xlsx"}, headers=headers)
    assert xlsx.status_code == 200 and 'filename="advisors-2023.xlsx"' in xlsx.headers["content-disposition"]
    book = load_workbook(io.BytesIO(xlsx.content))
    totals = [next(r for r in book[name].iter_rows(values_only=True) if r[0] == "合计") for name in book.sheetnames[1:]]
    assert sum(t[3] for t in totals) == stats["advisor_consultations"]
    assert client.get("/api/dashboard/advisors", params={"year": 2023, "format": "pdf"},
                      headers=headers).status_code == 422


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (apt-get install chromium)")
def test_dashboard_panels_in_the_browser(seeded: dict[str, str], engine: Engine, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with Session(engine) as s:  # the forced password change is test_console's business
        s.execute(update(Operator).values(must_change_password=False))
        s.commit()
    with LoopbackServer(create_app()) as srv, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page: Any = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(srv.url + "/console")
        page.fill("#username", "op.zhao")
        page.fill("#password", seeded["password"])
        page.click("#login-form button")
        expect(page.locator("#work-view")).to_be_visible()
        page.get_by_role("tab", name="统计").click()
        page.fill("#dash-year", "2023")
        page.locator("#dash-year").dispatch_event("change")
        figures = page.locator("#figures-table")
        expect(figures).to_contain_text("2022年")
        row = figures.locator("tr", has_text="指派律师到检察院办理认罪认罚从宽案")
        expect(row).to_contain_text("498件")
        expect(row.locator("td.yoy")).to_have_text(re.compile(r"^(增长|下降)[\d.]+%$"))
        expect(page.locator("#assistant")).to_contain_text("智能助手在线解答法律咨询15人次")
        expect(page.locator("#services")).to_contain_text("普法咨询")
        expect(page.locator("#advisor-coverage")).to_have_text("100%")
        expect(page.locator("#advisor-summary")).to_contain_text("顾问律师共解答居(村)民法律咨询900件")
        expect(page.locator("#advisor-table tr.street").first).to_contain_text("城中街道")
        assert page.locator("#advisor-table tr").count() > 21
        href = page.locator("#advisor-xlsx").get_attribute("href")
        assert href == "/api/dashboard/advisors?year=2023&format=xlsx"
        page.screenshot(path=os.environ.get("HOTLINE_DASHBOARD_SHOT") or str(tmp_path / "dashboard.png"),
                        full_page=True)
        # 2022: no records in 2021, so no 同比 column
        page.fill("#dash-year", "2022")
        page.locator("#dash-year").dispatch_event("change")
        expect(page.locator("#figures-note")).to_contain_text("2021年没有记录")
        assert page.locator("#figures-table td.yoy").count() == 0
        assert errors == []
        browser.close()
