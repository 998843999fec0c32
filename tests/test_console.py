"""The operator console: the page, the calls its script makes, and (with chromium) the whole flow in a browser."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.app import STATIC, create_app
from hotline.directory import parse_roster
from hotline.settings import PROJECT_ROOT
from hotline.store import directory, handoffs, operators
from hotline.store.models import Consultation
from tests.chromium import ARGS, CHROMIUM
from tests.fakes.rasa import FakeRasa
from tests.fakes.server import LoopbackServer

NLU = {
    "我们是农民工，包工头跑了，欠我们12个工友两万多": {"intent": {"name": "wage_arrears", "confidence": 0.91}, "entities": [
        {"entity": "people_count", "value": 12}, {"entity": "amount", "value": 20000}]},
}


@pytest.fixture
def login(engine: Engine) -> dict[str, str]:
    with Session(engine) as s:
        directory.import_directory(session=s, entries=parse_roster(
            (PROJECT_ROOT / "data" / "directory_sample.csv").read_text(encoding="utf-8")))
        password = operators.create_operator(session=s, username="op.wang")
        handoffs.open_handoff(session=s, channel="telegram", sender_hash="b" * 64, category="family_dispute",
                              summary="前夫不给抚养费")
        s.commit()
    return {"username": "op.wang", "password": password}


def test_console_page_has_login_form_and_local_assets() -> None:
    with TestClient(create_app()) as client:
        page = client.get("/console")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        for element in ('id="login-form"', 'id="username"', 'type="password"', 'id="analyze-form"',
                        'id="handoffs"', 'id="log-form"'):
            assert element in page.text
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
        assert {"/static/console.css", "/static/console.js", "/static/dashboard.css",
                "/static/dashboard.js"} <= set(assets)  # and each panel's own script beside them
        for asset in assets:
            assert client.get(asset).status_code == 200
        assert "http://" not in page.text and "https://" not in page.text


def test_every_api_path_the_scripts_call_exists() -> None:
    app = create_app()
    routes = {(method, route.path) for route in app.routes for method in getattr(route, "methods", ())}
    for script in sorted(p.name for p in STATIC.glob("*.js")):
        source = (STATIC / script).read_text(encoding="utf-8")
        calls = re.findall(r'(?:api|fetch)\("(/api/[^"]+)"(?:,\s*\{\s*method:\s*"(\w+)")?', source)
        assert calls or script not in ("console.js", "chat.js", "dashboard.js"), script
        for path, method in calls:
            assert (method or "GET", path) in routes, (script, method, path)


def test_console_flow_over_the_api(login: dict[str, str], fake_rasa: FakeRasa, engine: Engine) -> None:
    """What console.js does: log in, analyse, log the call with the analysed slots, read the queue."""
    fake_rasa.parse_result = lambda text: {"text": text, **NLU[text]}
    with TestClient(create_app()) as client:
        token = client.post("/api/login", json=login).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        result = client.post("/api/copilot/analyze", headers=auth,
                             json={"text": "我们是农民工，包工头跑了，欠我们12个工友两万多", "conversation_id": "call-x"}).json()
        slots = result["slots"]
        body = {"outcome": "answered", "summary": "我们是农民工，包工头跑了，欠我们12个工友两万多", "category": result["category"],
                "migrant_worker": slots.get("migrant_worker") is True, "persons": slots.get("people_count") or 1,
                "street": slots.get("street"), "community": slots.get("community"), "amount": slots.get("amount"),
                "eligibility": result["eligibility"]["verdict"],
                "legal_basis": "；".join(result["eligibility"]["basis"])}
        row = client.post("/api/consultations", headers=auth, json=body)
        assert row.status_code == 201, row.text
        queue = client.get("/api/handoffs", headers=auth).json()
    assert [h["category"] for h in queue] == ["family_dispute"]
    with Session(engine) as s:
        stored = s.scalars(select(Consultation)).one()
    assert (stored.service, stored.channel, stored.operator, stored.persons, stored.category, stored.migrant_worker) \
        == ("hotline_12348", "phone", "op.wang", 12, "wage_arrears", True)
    assert stored.eligibility == "eligible" and "第四十二条" in (stored.legal_basis or "")


@pytest.fixture
def console_site(login: dict[str, str], fake_rasa: FakeRasa) -> Iterator[str]:
    fake_rasa.parse_result = lambda text: {"text": text, **NLU[text]}
    with LoopbackServer(create_app()) as srv:
        yield srv.url


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (apt-get install chromium)")
def test_console_in_browser(console_site: str, login: dict[str, str], engine: Engine) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.set_default_timeout(10_000)
        page.goto(console_site + "/console")
        expect(page.locator("#work-view")).to_be_hidden()
        page.fill("#username", login["username"])
        page.fill("#password", "wrong")
        page.click("#login-form button")
        expect(page.locator("#login-error")).to_have_text("用户名或密码错误")
        page.fill("#password", login["password"])
        page.click("#login-form button")
        # The one-time password is replaced first (OWASP); then the console opens.
        expect(page.locator("#password-view")).to_be_visible()
        page.fill("#old-password", login["password"])
        page.fill("#new-password", "a-new-password-1")
        page.fill("#new-password-2", "a-new-password-1")
        page.click("#password-form button")
        expect(page.locator("#work-view")).to_be_visible()
        expect(page.locator("#handoffs")).to_contain_text("前夫不给抚养费")
        page.get_by_role("tab", name="电话来电助手").click()
        page.fill("#utterance", "我们是农民工，包工头跑了，欠我们12个工友两万多")
        page.click("#analyze-form button")
        expect(page.locator("#intent")).to_contain_text("（91%）")
        expect(page.locator("#intent")).not_to_contain_text("wage_arrears")
        expect(page.locator("#script")).to_contain_text("哪家公司")
        expect(page.locator("#slots input[data-slot=amount]")).to_have_value(re.compile("20000"))
        expect(page.locator("#eligibility")).to_contain_text("可以申请法律援助")
        page.click("#log-form button")
        expect(page.locator("#log-status")).to_contain_text("已登记")
        # The session lives in an HttpOnly cookie: nothing in script-readable storage.
        assert page.evaluate("sessionStorage.length + localStorage.length") == 0
        assert "hotline_session" not in page.evaluate("document.cookie")
        browser.close()
    with Session(engine) as s:
        assert s.scalars(select(Consultation)).one().operator == login["username"]
