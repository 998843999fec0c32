"""After a person has helped, the bot helps again (issue 21), on the real stack: Rasa and the action server on
loopback, the web app in this process. 转人工 → (the operator takes and replies) → the handoff ends — by the
operator's 结束, the citizen's 「返回智能助手」 or the idle timeout — and a plain question gets its own answer, with
no new handoff queued, in and out of office hours, from inside a form too.

The cause it guards: action_handoff pauses the conversation, and a paused Rasa logs no action_listen, so after a bare
`resume` the next message matched no rule, the core fallback reverted it and RulePolicy ran action_handoff again.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.door import Door, door, stack_in_hours

pytestmark = pytest.mark.rasa

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "工伤要怎么认定"


def _response(name: str) -> str:
    for path in sorted((ROOT / "domain").glob("*.yml")):
        responses = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {}
        if name in responses:
            return str(responses[name][0]["text"])
    raise KeyError(name)


# The proper answer to QUESTION: utter_topic_work_injury's words up to its first figure (「工伤先要做工伤认定：单位应在
# 事故后」), and the place the worker applies to.
WORK_INJURY = _response("utter_topic_work_injury").split("{", 1)[0]
NOT_UNDERSTOOD = _response("utter_default")[:8]
AFTER_HOURS = _response("utter_handoff_after_hours").split("（", 1)[0]


@pytest.fixture(scope="module", params=["open", "closed"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    with stack_in_hours(tmp_path_factory.mktemp(f"roundtrip-{request.param}"), request.param) as found:
        yield found


@pytest.fixture
def desk(stack: tuple[Any, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[Door]:
    with door(monkeypatch, *stack) as d:
        yield d


def assert_fresh(d: Door, sender: str, handoffs: int = 1) -> str:
    """The plain question gets the work-injury answer; no new handoff; the tracker as after any answered question."""
    answer = d.said(sender, QUESTION)
    assert WORK_INJURY in answer, answer
    assert NOT_UNDERSTOOD not in answer and AFTER_HOURS not in answer, answer
    rows = d.handoffs(sender)
    assert len(rows) == handoffs and all(h.status == "closed" for h in rows), [(h.id, h.status) for h in rows]
    tracker = d.tracker(sender)
    assert tracker["paused"] is False
    assert not (tracker.get("active_loop") or {}).get("name")
    assert tracker["slots"].get("requested_slot") is None
    assert tracker["latest_action_name"] == "action_listen"
    assert tracker["latest_message"]["intent"]["name"] == "work_injury"
    after_resume = tracker["events"][max(i for i, e in enumerate(tracker["events"]) if e["event"] == "resume"):]
    assert not [e for e in after_resume if e["event"] == "action" and e["name"] in ("action_handoff",
                                                                                 "action_default_fallback")]
    return answer


def test_operator_replies_and_closes_then_a_plain_question(desk: Door) -> None:
    sender = "rt-operator"
    queued = desk.said(sender, "转人工")
    assert "12348" in queued
    h = desk.open_handoff(sender)
    note = desk.said(sender, "我在工地上摔伤了，老板不管")
    assert note, "the one note that the words reached a person's queue"
    assert desk.said(sender, "有人吗") == ""  # then silence: the bot does not talk over the person
    desk.status(h.id, "taken")
    desk.reply(h.id, "您好，我是值班的李律师，您伤得重吗？")
    closed = desk.status(h.id, "closed")
    assert closed["bot_resumed"] is True
    assert_fresh(desk, sender)
    # And the conversation goes on as any other: a wage claim starts its form.
    desk.said(sender, "老板欠我三个月工资")
    assert desk.tracker(sender)["slots"]["requested_slot"] is not None


def test_inside_a_form_the_facts_are_kept(desk: Door) -> None:
    sender = "rt-form"
    desk.said(sender, "老板欠我工资不给")
    assert desk.tracker(sender)["slots"]["requested_slot"] == "employer"
    desk.said(sender, "恒通建筑公司")
    desk.said(sender, "转人工")
    h = desk.open_handoff(sender)
    desk.status(h.id, "closed")  # closed without being taken: the operator who closes answered it
    assert_fresh(desk, sender)
    assert desk.tracker(sender)["slots"]["employer"] == "恒通建筑公司"


def test_back_to_the_bot_while_waiting(desk: Door) -> None:
    sender = "rt-back"
    desk.said(sender, "我要找人工")
    assert len(desk.handoffs(sender)) == 1
    assert "智能助手继续为您服务" in desk.said(sender, "返回智能助手")
    assert_fresh(desk, sender)


def test_back_to_the_bot_while_a_person_has_it(desk: Door) -> None:
    sender = "rt-back-taken"
    desk.said(sender, "转人工")
    h = desk.open_handoff(sender)
    desk.status(h.id, "taken")
    # 「取消」 alone may answer the operator's own question: it stays with them, with the one "a person is reading" note.
    assert _response("utter_handoff_reading")[:8] in desk.said(sender, "取消")
    assert desk.open_handoff(sender).id == h.id
    assert "智能助手继续为您服务" in desk.said(sender, "返回智能助手")
    assert_fresh(desk, sender)


def test_an_idle_handoff_times_out_and_the_question_is_answered(desk: Door) -> None:
    sender = "rt-timeout"
    desk.said(sender, "转人工")
    h = desk.open_handoff(sender)
    desk.age(h.id, hours=25)
    answer = assert_fresh(desk, sender)
    assert _response("utter_handoff_timed_out")[:10] in answer


# --- WeChat and Telegram: the citizen on their own channel's wire, the operator's words and the bot's notice
# delivered through the (fake) WeChat customer-service API and Bot API on loopback. ---------------------------------

def test_wechat_round_trip_on_the_wire(desk: Door, monkeypatch: pytest.MonkeyPatch) -> None:
    import time
    import xml.etree.ElementTree as ET

    from bot.wechat import WeChatBridge
    from bot.wechat_api import WeChatApi
    from hotline.privacy import hash_sender
    from hotline.settings import get_settings
    from tests.fakes.server import LoopbackServer
    from tests.fakes.wechat import FakeWeChatApi
    from tests.test_wechat import OPENID, TOKEN, signed_query, text_xml

    fake = FakeWeChatApi()
    with LoopbackServer(fake.app()) as srv:
        for name, value in {"WECHAT_TOKEN": TOKEN, "WECHAT_API_BASE": srv.url, "WECHAT_APP_ID": fake.app_id,
                            "WECHAT_APP_SECRET": fake.secret}.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        app = desk.client.app
        bridge = WeChatBridge(reply_deadline_s=60, rest_delay_s=0.0)  # the real Rasa answers within the passive reply
        bridge.api = WeChatApi(backoff_s=0.01)
        app.state.wechat = bridge  # type: ignore[attr-defined]
        if hasattr(app.state, "deliverer"):  # type: ignore[attr-defined]
            del app.state.deliverer  # type: ignore[attr-defined]  # built again with this WeChat API
        msg_ids = iter(range(int(time.time() * 1000), 10**15))

        def wx(text: str) -> str:
            resp = desk.client.post("/wechat", params=signed_query(), content=text_xml(text, next(msg_ids)).encode())
            assert resp.status_code == 200, resp.text
            return ET.fromstring(resp.text).findtext("Content") or "" if resp.text.startswith("<xml") else ""

        assert "12348" in wx("转人工")
        conversation = f"wechat:{hash_sender(OPENID, 'test-salt')}"  # tests/conftest.py's salt
        rows = [h for h in desk.handoffs_of(conversation) if h.status != "closed"]
        assert len(rows) == 1
        wx("我在工地摔伤了")
        desk.reply(rows[0].id, "您好，我是值班人员，请问哪天受的伤？")
        desk.status(rows[0].id, "closed")
        contents = [s["text"]["content"] for s in fake.sends]
        assert contents[0] == "【值班人员】您好，我是值班人员，请问哪天受的伤？"  # a person's words, marked as such
        assert contents[-1] == _response("utter_handoff_resumed")
        assert WORK_INJURY in wx(QUESTION)
        assert len(desk.handoffs_of(conversation)) == 1


async def test_telegram_round_trip_on_the_wire(desk: Door) -> None:
    import asyncio

    from telegram import Update

    from bot.telegram_bridge import build_application
    from hotline.privacy import hash_sender
    from tests.fakes.server import LoopbackServer
    from tests.fakes.telegram import FakeBotApi
    from tests.test_telegram import CHAT_ID, message_update

    fake = FakeBotApi()
    with LoopbackServer(fake.app()) as srv:
        import os

        os.environ["TELEGRAM_BOT_TOKEN"] = "123456:TEST-token"
        try:
            from hotline.settings import get_settings

            get_settings.cache_clear()
            desk.client.app.state.telegram_base_url = f"{srv.url}/bot"  # type: ignore[attr-defined]
            if hasattr(desk.client.app.state, "deliverer"):  # type: ignore[attr-defined]
                del desk.client.app.state.deliverer  # type: ignore[attr-defined]
            application = build_application("123456:TEST-token", base_url=f"{srv.url}/bot")
            async with application:
                async def tg(text: str) -> str:
                    before = len(fake.sent())
                    await application.process_update(Update.de_json(message_update(text), application.bot))
                    return "\n".join(p["text"] for p in fake.sent()[before:])

                assert "12348" in await tg("转人工")
                conversation = f"telegram:{hash_sender(str(CHAT_ID), 'test-salt')}"
                [h] = [h for h in desk.handoffs_of(conversation) if h.status != "closed"]
                await tg("我在工地摔伤了")
                await asyncio.to_thread(desk.reply, h.id, "您好，请问哪天受的伤？")
                await asyncio.to_thread(desk.status, h.id, "closed")
                texts = [p["text"] for p in fake.sent()]
                assert "【值班人员】您好，请问哪天受的伤？" in texts
                assert texts[-1] == _response("utter_handoff_resumed")
                assert WORK_INJURY in await tg(QUESTION)
                assert len(desk.handoffs_of(conversation)) == 1
        finally:
            del os.environ["TELEGRAM_BOT_TOKEN"]
