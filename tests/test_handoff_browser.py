"""The handoff round trip as people see it, in headless Chromium on the real stack (Rasa and the action server on
loopback, the web app served from this process): a citizen on a phone (390×844) asks for a person; an operator at a
desktop console (1280×800) takes it and replies; the phone shows the reply marked as a person's and no quick
replies meanwhile; the operator closes (confirming); the bot's notice arrives and 「工伤要怎么认定」 gets the
work-injury answer — in and out of office hours. With HOTLINE_SCREENSHOTS=1 the screenshots go to
reports/screenshots/handoff_*.png."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.chromium import CHROMIUM
from tests.door import new_operator, stack_in_hours, wire
from tests.fakes.server import LoopbackServer
from tests.stack import Stack
from tests.test_handoff_round_trip import QUESTION, WORK_INJURY

ROOT = Path(__file__).resolve().parent.parent
NEW_PASSWORD = "handoff-shift-2026"

pytestmark = [
    pytest.mark.rasa, pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (apt-get install chromium)"),
]


@pytest.fixture(scope="module", params=["closed", "open"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Path]]:
    with stack_in_hours(tmp_path_factory.mktemp(f"handoff-browser-{request.param}"), request.param) as found:
        yield found


def shot(page: Any, name: str) -> Path:
    folder = ROOT / "reports" / "screenshots" if os.environ.get("HOTLINE_SCREENSHOTS") == "1" else Path(
        tempfile.mkdtemp(prefix="handoff-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"handoff_{name}.png"
    page.screenshot(path=str(path), full_page=False)
    assert path.stat().st_size > 10_000
    return path


def test_citizen_person_close_then_the_bot_answers(browser: Any, stack: tuple[Stack, Path],
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   request: pytest.FixtureRequest) -> None:
    from playwright.sync_api import expect

    from bot.app import create_app

    hours_mode = request.node.callspec.params["stack"]
    wire(monkeypatch, *stack)
    with LoopbackServer(create_app()) as site:
        # The operator's shift: a login whose one-time password is replaced, the console open.
        from fastapi.testclient import TestClient

        with TestClient(create_app()) as setup:
            _, (username, password) = new_operator(setup, stack[0].database_url, f"op.{hours_mode}", "李律师")
        desk = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN").new_page()
        desk.set_default_timeout(20_000)
        desk.on("dialog", lambda d: d.accept())  # 结束 asks for a confirmation
        desk.goto(site.url + "/console")
        desk.fill("#username", username)
        desk.fill("#password", password)
        desk.click("#login-form button")
        desk.fill("#old-password", password)
        desk.fill("#new-password", NEW_PASSWORD)
        desk.fill("#new-password-2", NEW_PASSWORD)
        desk.click("#password-form button")
        expect(desk.locator("#work-view")).to_be_visible()

        phone_ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                        is_mobile=True, has_touch=True, locale="zh-CN")
        phone = phone_ctx.new_page()
        phone.set_default_timeout(30_000)
        phone.goto(site.url + "/")
        phone.fill("#input", "老板欠我三个月工资不给")
        phone.click("#send")
        expect(phone.locator(".msg.bot").last).not_to_have_text("")
        phone.fill("#input", "转人工")
        phone.click("#send")
        expect(phone.locator(".msg.bot").last).to_contain_text(
            "值班人员上班后" if hours_mode == "closed" else "已通知值班人员")
        expect(phone.locator("#quick")).to_be_hidden()  # no quick replies while a person has it
        phone.fill("#input", "我在工地上干活，老板跑了")
        phone.click("#send")
        expect(phone.locator(".msg.bot").last).to_contain_text("返回智能助手")

        item = desk.locator("#handoffs li").first
        expect(item).to_contain_text("待接手")
        item.locator(".about").click()
        expect(desk.locator("#transcript")).to_contain_text("我在工地上干活，老板跑了")
        desk.locator("#detail-take").click()
        expect(desk.locator("#handoff-status")).to_contain_text("已接手")
        desk.fill("#reply-text", "您好，我是值班人员。请问包工头叫什么名字？工地在哪里？")
        desk.click("#reply-form button[type=submit]")
        expect(desk.locator("#reply-status")).to_have_text("已发送")

        person = phone.locator(".msg.operator").last
        expect(person).to_contain_text("请问包工头叫什么名字", timeout=20_000)
        expect(person.locator(".who")).to_have_text("值班人员 · 李律师")  # who speaks, by their display name
        phone.fill("#input", "包工头叫李国强，在柳石路")
        phone.click("#send")
        expect(phone.locator(".msg.me").last).to_have_text("包工头叫李国强，在柳石路")
        shot(phone, f"phone_person_{hours_mode}")
        expect(desk.locator("#transcript")).to_contain_text("包工头叫李国强", timeout=15_000)
        shot(desk, f"console_taken_{hours_mode}")

        desk.locator("#detail-close").click()
        expect(desk.locator("#handoff-status")).to_contain_text("已恢复")
        expect(phone.locator(".msg.bot").last).to_contain_text("智能助手继续为您服务", timeout=20_000)
        expect(phone.locator("#quick")).to_be_visible()  # the bot's quick replies are back
        phone.fill("#input", QUESTION)
        phone.click("#send")
        expect(phone.locator(".msg.bot", has_text=WORK_INJURY)).to_have_count(1)
        expect(phone.locator(".msg.bot", has_text="没看懂")).to_have_count(0)
        shot(phone, f"phone_after_{hours_mode}")
        expect(desk.locator("#handoffs")).to_contain_text("暂时没有等待人工的群众")
        phone_ctx.close()
        desk.context.close()
