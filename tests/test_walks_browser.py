"""The web chat on a phone-sized headless chromium against a scripted Rasa: stale buttons, reload, long messages,
folded details, tap-to-call, markup shown as text, the view at the start of a new answer."""
from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.rasa import FakeRasa

# The phone and the app (fixtures named by the tests below) and the browser tests' marks (`x as x`: used here).
from tests.test_browser import page as page
from tests.test_browser import pytestmark as pytestmark
from tests.test_browser import site as site

SHORT = "欠5人共23000元，可以这样办：\n① 现在就做：投诉\n② 法律援助：可以申请\n③ 就近办理：沿江司法所，电话 0772-0004100（工作日）"
DETAILS = "【详细】办法和依据\n" + "\n".join(f"{n}. 很长的一段说明，" * 6 for n in range(1, 30))


def scripted(sender: str, message: str) -> list[dict[str, Any]]:
    if message == "/wage_arrears" or "工资" in message:
        return [{"text": "这份工已经不干了吗？", "buttons": [{"title": "是，不干了", "payload": "/affirm"},
                                                   {"title": "否，还在干", "payload": "/deny"}]}]
    if message in ("/affirm", "是的"):
        return [{"text": SHORT}, {"text": DETAILS},
                {"text": "需要人帮忙，可以说“转人工”，或拨12348。",
                 "buttons": [{"title": "转人工", "payload": "/request_human"},
                             {"title": "拨打12348", "payload": "tel:12348"}]}]
    if message == "很长的回答":
        return [{"text": f"第{n}段：" + "说明" * 40} for n in range(1, 9)]
    return [{"text": f"好的：{message}"}]


@pytest.fixture(autouse=True)
def _script(site: str, fake_rasa: FakeRasa) -> None:  # after `site` set its own script
    fake_rasa.reply = scripted


def test_typed_answer_retires_the_buttons_and_the_answer_starts_at_the_top(page: Any, fake_rasa: FakeRasa) -> None:
    from playwright.sync_api import expect

    for n in range(6):  # enough earlier turns that the log scrolls
        page.fill("#input", f"你好{n}")
        page.click("#send")
        expect(page.locator(".msg.bot").last).to_have_text(f"好的：你好{n}")
    page.fill("#input", "老板欠我工资")
    page.click("#send")
    expect(page.get_by_role("button", name="是，不干了")).to_be_enabled()
    page.fill("#input", "是的")  # typed, not tapped
    page.click("#send")
    expect(page.locator(".msg.folded")).to_have_count(1)
    expect(page.get_by_role("button", name="是，不干了")).to_be_disabled()
    expect(page.get_by_role("button", name="否，还在干")).to_be_disabled()
    # The short answer is at the top of the view, not the end of the long one.
    short = page.locator(".msg.bot", has_text="可以这样办")
    box, log = short.bounding_box(), page.locator("#log").bounding_box()
    assert log["y"] <= box["y"], (box, log)  # its first line is in view (not scrolled past to the end)
    assert box["y"] + box["height"] <= log["y"] + log["height"]  # the whole outcome on one screen
    # Details folded; numbers tap-to-call and unbroken; the 12348 button is a call.
    assert not page.locator(".msg.folded details").evaluate("d => d.open")
    expect(page.locator(".msg.folded summary")).to_have_text("展开：办法和依据")
    tel = page.locator("a.tel", has_text="0772-0004100")
    expect(tel).to_have_attribute("href", "tel:07720004100")
    assert tel.evaluate("a => getComputedStyle(a).whiteSpace") == "nowrap"
    expect(page.locator("a.chip", has_text="拨打12348")).to_have_attribute("href", "tel:12348")
    assert [c["message"] for c in fake_rasa.webhook_calls][-2:] == ["老板欠我工资", "是的"]


def test_a_reload_shows_the_transcript_and_keeps_the_sender(page: Any, fake_rasa: FakeRasa) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name="我要讨薪").click()
    expect(page.get_by_role("button", name="是，不干了")).to_be_enabled()
    sender = page.evaluate("localStorage.getItem('hotline_sender')")
    page.reload()
    expect(page.locator(".msg.me")).to_have_text(["我要讨薪"])
    expect(page.locator(".msg.bot").last).to_have_text("这份工已经不干了吗？")
    expect(page.get_by_role("button", name="是，不干了")).to_be_enabled()  # the open question is still answerable
    assert page.evaluate("localStorage.getItem('hotline_sender')") == sender
    page.get_by_role("button", name="是，不干了").click()
    expect(page.locator(".msg.folded")).to_have_count(1)
    assert len({c["sender"] for c in fake_rasa.webhook_calls}) == 1


def test_an_id_without_transcript_starts_a_new_conversation(page: Any, fake_rasa: FakeRasa) -> None:
    from playwright.sync_api import expect

    page.evaluate("localStorage.setItem('hotline_sender', 'old-id'); localStorage.removeItem('hotline_transcript')")
    page.reload()
    expect(page.locator(".msg.bot").first).to_contain_text("12348法律服务助手")
    assert page.evaluate("localStorage.getItem('hotline_sender')") != "old-id"


def test_too_long_is_refused_with_the_limit_and_nothing_is_lost(page: Any, fake_rasa: FakeRasa) -> None:
    from playwright.sync_api import expect

    text = "工" * 3000
    page.fill("#input", text)
    page.click("#send")
    expect(page.locator(".msg.bot").last).to_contain_text("最多2000字")
    assert page.input_value("#input") == text  # kept to shorten, never cut
    assert fake_rasa.webhook_calls == []


def test_markup_is_shown_as_text(page: Any, fake_rasa: FakeRasa) -> None:
    from playwright.sync_api import expect

    page.fill("#input", "<img src=x onerror=alert(1)>")
    page.click("#send")
    expect(page.locator(".msg.me").last).to_have_text("<img src=x onerror=alert(1)>")
    expect(page.locator(".msg.bot").last).to_have_text("好的：/out_of_scope")  # an ordinary answer (bot/chat.py)
    assert page.locator("#log img").count() == 0


def test_an_answer_longer_than_the_screen_is_shown_from_its_start(page: Any) -> None:
    from playwright.sync_api import expect

    page.fill("#input", "很长的回答")
    page.click("#send")
    expect(page.locator(".msg.bot").last).to_contain_text("第8段")
    first = page.locator(".msg.bot", has_text="第1段").bounding_box()
    log = page.locator("#log").bounding_box()
    assert log["y"] <= first["y"] <= log["y"] + 40, (first, log)


def test_markup_alone_is_not_a_handoff(fake_rasa: FakeRasa) -> None:
    """The door sends Rasa the visible words; markup alone becomes the out-of-scope payload (an ordinary answer)."""
    from fastapi.testclient import TestClient

    from bot.app import create_app

    with TestClient(create_app()) as client:
        for said, sent in (("<img src=x onerror=alert(1)>", "/out_of_scope"), ("<b>老板欠我工资</b>", "老板欠我工资"),
                           ("1<2 但 3>2", "1<2 但 3>2")):
            resp = client.post("/api/chat", json={"sender": "markup-1", "message": said})
            assert resp.status_code == 200 and resp.json()["messages"]
            assert fake_rasa.webhook_calls[-1]["message"] == sent
