"""The console for a real shift, in real headless Chromium (Debian's, via Playwright), app and fakes on loopback:
a citizen asks for a person in the web chat, an operator logs in (changing the one-time password), takes it,
replies, the citizen's page shows the reply, the operator closes it and the bot answers again; lock-out; logout;
the month's XLSX downloads and its total matches the stats. Desktop screenshots go to reports/screenshots/."""
from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.app import create_app
from hotline.directory import parse_roster
from hotline.office_hours import OfficeHours
from hotline.settings import PROJECT_ROOT
from hotline.store import consultations, directory, handoffs, operators
from hotline.store.models import Consultation
from tests.chromium import CHROMIUM
from tests.fakes.rasa_events import FakeRasaWithEvents
from tests.fakes.server import LoopbackServer

SHOTS = PROJECT_ROOT / "reports" / "screenshots"
NEW_PASSWORD = "shift-password-2026"
NLU = {"intent": {"name": "wage_arrears", "confidence": 0.91},
       "entities": [{"entity": "people_count", "value": 12}, {"entity": "amount", "value": 20000},
                    {"entity": "street", "value": "中南街道"}]}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (apt-get install chromium)"),
]


def bot(sender: str, message: str) -> list[dict[str, Any]]:
    """The fake Rasa: 转人工 queues a handoff as action_handoff does; anything else is echoed."""
    if message in ("转人工", "/request_human"):
        from hotline.store.db import session_scope

        channel, sender_hash = sender.split(":", 1)
        with session_scope() as s:
            handoffs.open_handoff(session=s, channel=channel, sender_hash=sender_hash, category="wage_arrears",
                                  summary="事项：追索劳动报酬。已了解：涉及金额约20000元；涉及12人；所在街道：中南街道。")
        return [{"recipient_id": sender, "text": "已通知值班人员，有人会在这里回复您。在此之前我先不自动回答了。"}]
    return [{"recipient_id": sender, "text": f"收到：{message}"}]


@pytest.fixture
def site(engine: Engine, fake_rasa_events: FakeRasaWithEvents, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setattr(OfficeHours, "is_open", lambda self, at: True)
    fake_rasa_events.reply = bot
    fake_rasa_events.parse_result = lambda text: {"text": text, **NLU}
    with Session(engine) as s:
        directory.import_directory(session=s, entries=parse_roster(
            (PROJECT_ROOT / "data" / "directory_sample.csv").read_text(encoding="utf-8")))
        s.commit()
    with LoopbackServer(create_app()) as srv:
        yield srv.url


@pytest.fixture
def operator(engine: Engine) -> dict[str, str]:
    with Session(engine) as s:
        password = operators.create_operator(session=s, username="op.huang")
        s.commit()
    return {"username": "op.huang", "password": password}


def desk(browser: Any, site: str) -> Any:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.confirm = True  # type: ignore[attr-defined]  # 结束 asks for a confirmation: the answer the test gives
    page.on("dialog", lambda d: d.accept() if page.confirm else d.dismiss())
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(site) else outside.append(r.url))
    page.outside = outside  # type: ignore[attr-defined]
    return page


def log_in(page: Any, site: str, login: dict[str, str], *, first: bool) -> None:
    from playwright.sync_api import expect

    page.goto(site + "/console")
    page.fill("#username", login["username"])
    page.fill("#password", login["password"])
    page.click("#login-form button")
    if first:  # the one-time password must be replaced before anything else
        expect(page.locator("#password-view")).to_be_visible()
        expect(page.locator("#work-view")).to_be_hidden()
        page.fill("#old-password", login["password"])
        page.fill("#new-password", NEW_PASSWORD)
        page.fill("#new-password-2", NEW_PASSWORD)
        page.click("#password-form button")
    expect(page.locator("#work-view")).to_be_visible()


def shot(page: Any, name: str) -> None:
    """A desktop screenshot: into reports/screenshots/ with HOTLINE_SCREENSHOTS=1 (so `make test` leaves the tree
    clean), else into a temporary directory, checked all the same."""
    folder = SHOTS if os.environ.get("HOTLINE_SCREENSHOTS") == "1" else Path(tempfile.mkdtemp(prefix="console-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"console-{name}.png"
    page.screenshot(path=str(path), full_page=False)
    assert path.stat().st_size > 20_000


def test_citizen_asks_operator_answers_bot_resumes(browser: Any, site: str, operator: dict[str, str],
                                                   engine: Engine, fake_rasa_events: FakeRasaWithEvents) -> None:
    from playwright.sync_api import expect

    page = desk(browser, site)  # the operator's shift starts: logged in, the console open
    log_in(page, site, operator, first=True)

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    citizen = phone.new_page()
    citizen.set_default_timeout(15_000)
    citizen.goto(site + "/")
    citizen.fill("#input", "老板欠我们12个人两万多工资")
    citizen.click("#send")
    expect(citizen.locator(".msg.bot").last).to_contain_text("收到：老板欠我们12个人两万多工资")
    citizen.fill("#input", "转人工")
    citizen.click("#send")
    expect(citizen.locator(".msg.bot").last).to_contain_text("已通知值班人员")
    citizen.fill("#input", "我在中南街道，工地在柳石路")
    citizen.click("#send")
    expect(citizen.locator(".msg.bot").last).to_contain_text("您的话已转给值班人员")

    item = page.locator("#handoffs li", has_text="追索劳动报酬")
    expect(item).to_contain_text("网页")
    expect(item).to_contain_text("待接手")
    expect(item).to_contain_text("「老板欠我们12个人两万多工资」")
    expect(page.locator("#handoffs")).not_to_contain_text("wage_arrears")
    expect(page.locator("#handoffs")).not_to_contain_text("web")
    item.locator(".about").click()
    expect(page.locator("#transcript")).to_contain_text("我在中南街道，工地在柳石路")
    page.locator("#detail-take").click()
    expect(page.locator("#handoff-status")).to_contain_text("已接手")
    expect(item).to_contain_text("已接手 op.huang")
    page.fill("#reply-text", "您好，我是值班的黄律师。请问包工头叫什么名字？")
    page.click("#reply-form button[type=submit]")
    expect(page.locator("#reply-status")).to_have_text("已发送")
    expect(page.locator("#transcript")).to_contain_text("接线员 op.huang")
    shot(page, "queue")

    # What the page pulls (BRIEF interface 2); then the page itself, once chat.js polls it.
    sender = citizen.evaluate("localStorage.getItem('hotline_sender')")
    pushed = citizen.evaluate(f"fetch('/api/chat/{sender}/messages?since=0').then(r => r.json())")
    assert [m["text"] for m in pushed["messages"]] == ["您好，我是值班的黄律师。请问包工头叫什么名字？"]
    # The key step, asserted: the page (chat.js's poll) shows the operator's words to the citizen.
    expect(citizen.locator(".msg:not(.me)").last).to_contain_text("我是值班的黄律师", timeout=20_000)

    page.locator("#detail-close").click()
    expect(page.locator("#handoff-status")).to_contain_text("已恢复")
    expect(page.locator("#handoffs")).to_contain_text("暂时没有等待人工的群众")
    expect(citizen.locator(".msg.bot").last).to_contain_text("智能助手继续为您服务", timeout=20_000)
    citizen.fill("#input", "谢谢")
    citizen.click("#send")
    expect(citizen.locator(".msg.bot").last).to_contain_text("收到：谢谢")
    assert page.outside == []
    with Session(engine) as s:
        [row] = s.scalars(select(Consultation)).all()
        assert (row.operator, row.channel, row.category) == ("op.huang", "web", "wage_arrears")
    phone.close()
    page.context.close()


def test_copilot_logs_a_call_once_and_starts_the_next(browser: Any, site: str, operator: dict[str, str],
                                                      engine: Engine) -> None:
    from playwright.sync_api import expect

    page = desk(browser, site)
    log_in(page, site, operator, first=True)
    page.get_by_role("tab", name="电话来电助手").click()
    first_call = page.locator("#call-id").inner_text()
    page.fill("#utterance", "我们是农民工，包工头跑了，欠我们12个工友两万多，我在中南街道")
    page.click("#analyze-form button")
    expect(page.locator("#result")).to_be_visible()
    expect(page.locator("#intent")).to_contain_text("91%")
    expect(page.locator("#slots input[data-slot=amount]")).to_have_value(re.compile("20000"))
    # The operator corrects what the NLU heard; the correction is posted back as `facts`.
    page.fill("#slots input[data-slot=amount]", "30000")
    page.click("#facts-form button")
    expect(page.locator("#slots input[data-slot=amount]")).to_have_attribute("data-original", re.compile("30000"))
    expect(page.locator("#analyze-status")).to_have_text("")
    body = page.locator("#call-panel").inner_text()
    for code in ("wage_arrears", "people_count", "web"):
        assert code not in body
    shot(page, "copilot")
    page.click("#log-form button")
    expect(page.locator("#log-status")).to_contain_text("已登记")
    assert page.locator("#call-id").inner_text() != first_call  # the next call has its own id
    expect(page.locator("#result")).to_be_hidden()
    with Session(engine) as s:
        [row] = s.scalars(select(Consultation)).all()
        assert (row.operator, row.source_id) == ("op.huang", f"call:op.huang:{first_call}")
    page.context.close()


def test_lockout_logout_and_the_months_xlsx(browser: Any, site: str, operator: dict[str, str],
                                           engine: Engine, tmp_path: Path) -> None:
    from openpyxl import load_workbook
    from playwright.sync_api import expect

    now = datetime.now(timezone.utc)
    with Session(engine) as s:
        for category in ("wage_arrears", "wage_arrears", "family_dispute"):
            consultations.log_consultation(session=s, service="hotline_12348", channel="phone", category=category,
                                           occurred_at=now, outcome="answered", operator="op.huang")
        s.commit()
    page = desk(browser, site)
    log_in(page, site, operator, first=True)
    page.get_by_role("tab", name="统计").click()
    expect(page.locator("#month")).to_contain_text("欠薪")
    expect(page.locator("#chart svg rect")).to_have_count(12)
    page.click("#show-paragraph")
    expect(page.locator("#paragraph")).to_contain_text("12348")
    shot(page, "dashboard")
    with page.expect_download() as info:
        page.click("#export-xlsx")
    target = tmp_path / "month.xlsx"
    info.value.save_as(str(target))
    sheet = load_workbook(io.BytesIO(target.read_bytes())).worksheets[0]
    total = next(r for r in sheet.iter_rows(values_only=True) if r and r[0] == "合计")
    stats = page.evaluate(f"fetch('/api/stats?year={now.year}').then(r => r.json())")
    assert total[-2] == stats["by_month"][f"{now.month:02d}"] == 3

    # Logout ends the session on the server: the old cookie is refused afterwards.
    cookie = next(c for c in page.context.cookies() if c["name"] == "hotline_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("hotline_session") == -1
    assert page.evaluate("sessionStorage.length + localStorage.length") == 0
    page.click("#logout")
    expect(page.locator("#login-view")).to_be_visible()
    page.context.add_cookies([{**cookie}])
    assert page.evaluate("fetch('/api/handoffs').then(r => r.status)") == 401
    page.reload()
    expect(page.locator("#login-view")).to_be_visible()

    # Five wrong passwords lock the name, even for the right one.
    for _ in range(5):
        page.fill("#username", operator["username"])
        page.fill("#password", "wrong")
        page.click("#login-form button")
        expect(page.locator("#login-error")).to_have_text("用户名或密码错误")
        page.locator("#login-error").evaluate("e => e.textContent = ''")
    page.fill("#password", NEW_PASSWORD)
    page.click("#login-form button")
    expect(page.locator("#login-error")).to_contain_text("次数太多")
    expect(page.locator("#work-view")).to_be_hidden()
    assert page.outside == []
    page.context.close()


def test_three_handoffs_in_a_row_in_one_session(browser: Any, site: str, operator: dict[str, str],
                                                engine: Engine) -> None:
    """A shift: three citizens ask for a person; the operator takes, replies and closes each from the detail panel
    without reloading (its buttons work for every conversation), the longest wait first with its real waiting time,
    a title badge for waiting citizens, and 结束 only after a confirmation."""
    from datetime import timedelta

    import httpx
    from playwright.sync_api import expect

    from hotline.store.models import Handoff

    page = desk(browser, site)
    log_in(page, site, operator, first=True)
    for i in range(3):
        httpx.post(site + "/api/chat", json={"sender": f"shift-{i}", "message": "转人工"}, timeout=10)
    with Session(engine) as s:  # the first has waited two hours
        oldest = s.scalars(select(Handoff).order_by(Handoff.id)).first()
        assert oldest is not None
        oldest.created_at -= timedelta(hours=2, minutes=5)
        oldest_id = oldest.id
        s.commit()
    page.click("#refresh")
    expect(page.locator("#handoffs li")).to_have_count(3)
    expect(page.locator("#handoffs li").first).to_contain_text("已等待2小时5分钟")
    expect(page.locator("#handoffs li").nth(1)).to_contain_text("已等待不到1分钟")
    assert page.title().startswith("(3) ")
    for n in range(3):
        item = page.locator("#handoffs li").first
        expect(item).to_contain_text("待接手")
        if n == 0:
            assert item.get_attribute("data-id") == str(oldest_id)
        item.locator(".about").click()
        expect(page.locator("#detail-take")).to_be_enabled()
        page.locator("#detail-take").click()
        expect(page.locator("#handoff-status")).to_contain_text("已接手")
        page.fill("#reply-text", f"您好，第{n + 1}位，我是值班人员。")
        page.click("#reply-form button[type=submit]")
        expect(page.locator("#reply-status")).to_have_text("已发送")
        expect(page.locator("#detail-close")).to_be_enabled()
        if n == 0:  # cancelled at the confirmation: nothing is closed
            page.confirm = False  # type: ignore[attr-defined]
            page.locator("#detail-close").click()
            expect(page.locator("#handoffs li")).to_have_count(3)
            page.confirm = True  # type: ignore[attr-defined]
        page.locator("#detail-close").click()
        expect(page.locator("#handoff-status")).to_contain_text("已恢复")
        expect(page.locator("#handoffs li.selected")).to_have_count(0)
    expect(page.locator("#handoffs")).to_contain_text("暂时没有等待人工的群众")
    assert not page.title().startswith("(")
    with Session(engine) as s:
        rows = s.scalars(select(Handoff).order_by(Handoff.id)).all()
        assert [(h.status, h.operator) for h in rows] == [("closed", "op.huang")] * 3
        assert len(s.scalars(select(Consultation)).all()) == 3
    page.context.close()


def test_copilot_answer_options_fill_a_fact(browser: Any, site: str, operator: dict[str, str]) -> None:
    """The bot's answer options under 接下来问 are buttons: a click fills that fact, as a correction would."""
    from playwright.sync_api import expect

    page = desk(browser, site)
    log_in(page, site, operator, first=True)
    page.get_by_role("tab", name="电话来电助手").click()
    page.fill("#utterance", "包工头跑了，欠我们12个工友两万多，我在中南街道")
    page.click("#analyze-form button")
    option = page.locator("#questions .opt").first
    expect(option).to_be_visible()
    slot = option.get_attribute("data-slot")
    option.click()
    expect(page.locator(f"#slots [data-slot={slot}]")).to_have_count(1)
    expect(page.locator(f"#questions .opt[data-slot={slot}]")).to_have_count(0)  # answered: no longer asked
    assert page.outside == []
    page.context.close()
