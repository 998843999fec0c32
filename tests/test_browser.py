"""The web chat in a real browser: headless Debian chromium via Playwright, app and fake Rasa on loopback."""
from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import create_app
from tests.chromium import CHROMIUM
from tests.fakes.rasa import FakeRasa
from tests.fakes.server import LoopbackServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (apt-get install chromium)"),
]


def wage_bot(sender: str, message: str) -> list[dict[str, Any]]:
    """A tiny scripted Rasa: a wage question gets a yes/no question with buttons, the answer a closing line."""
    if "工资" in message or message == "/wage_arrears":
        return [{"text": "明白了，工资被拖欠。", "recipient_id": sender},
                {"text": "请问您现在还在那里干活吗？", "recipient_id": sender,
                 "buttons": [{"title": "已经不干了", "payload": "/affirm"}, {"title": "还在干", "payload": "/deny"}]}]
    if message == "/affirm":
        return [{"text": "已经离职的，可以在离职之日起一年内申请劳动仲裁，也可以申请法律援助。", "recipient_id": sender}]
    return [{"text": f"收到：{message}", "recipient_id": sender}]


@pytest.fixture
def site(fake_rasa: FakeRasa) -> Iterator[str]:
    fake_rasa.reply = wage_bot
    with LoopbackServer(create_app()) as srv:
        yield srv.url


@pytest.fixture
def page(browser: Any, site: str) -> Iterator[Any]:
    # A phone: 390×844 CSS pixels (iPhone 12/13/14 class), touch, Chinese locale.
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    # Nothing may leave loopback: no CDN, no web fonts, no analytics.
    outside: list[str] = []
    pg.on("request", lambda r: None if r.url.startswith(site) else outside.append(r.url))
    pg.goto(site + "/")
    pg.outside = outside  # type: ignore[attr-defined]
    yield pg
    context.close()


def test_wage_question_button_answer(page: Any, fake_rasa: FakeRasa, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    expect(page.locator(".msg.bot").first).to_contain_text("12348法律服务助手")
    expect(page.locator(".disclaimer")).to_contain_text("法律信息，不是律师意见")
    page.fill("#input", "老板欠我三个月工资不给")
    page.click("#send")
    expect(page.locator(".msg.me").last).to_have_text("老板欠我三个月工资不给")
    expect(page.locator(".msg.bot").last).to_have_text("请问您现在还在那里干活吗？")
    page.get_by_role("button", name="已经不干了").click()
    expect(page.locator(".msg.me").last).to_have_text("已经不干了")
    expect(page.locator(".msg.bot").last).to_contain_text("劳动仲裁")
    expect(page.get_by_role("button", name="还在干")).to_be_disabled()  # a used menu cannot be pressed again
    expect(page.locator("#typing")).to_be_hidden()

    messages = [c["message"] for c in fake_rasa.webhook_calls]
    assert messages == ["老板欠我三个月工资不给", "/affirm"]
    raw_id = page.evaluate("localStorage.getItem('hotline_sender')")
    assert raw_id and all(c["sender"] != raw_id and raw_id not in c["sender"] for c in fake_rasa.webhook_calls)
    assert re.fullmatch(r"web:[0-9a-f]{64}", fake_rasa.webhook_calls[0]["sender"])
    assert page.outside == []

    shot = tmp_path / "chat_mobile.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
    if target := os.environ.get("HOTLINE_BROWSER_SCREENSHOT"):
        shutil.copy(shot, target)


def test_quick_reply_and_typing_indicator(page: Any, fake_rasa: FakeRasa) -> None:
    from playwright.sync_api import expect

    fake_rasa.delay_s = 0.6  # long enough to see the typing dots
    page.get_by_role("button", name="我要讨薪").click()
    expect(page.locator("#typing")).to_be_visible()
    expect(page.locator(".msg.bot").last).to_have_text("请问您现在还在那里干活吗？")
    expect(page.locator("#typing")).to_be_hidden()
    assert fake_rasa.webhook_calls[-1]["message"] == "/wage_arrears"


def test_rasa_down_shows_hotline(page: Any, fake_rasa: FakeRasa) -> None:
    from playwright.sync_api import expect

    fake_rasa.mode = "error"
    page.fill("#input", "你好")
    page.press("#input", "Enter")
    expect(page.locator(".msg.bot").last).to_contain_text("12348")
