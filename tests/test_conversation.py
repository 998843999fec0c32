"""bot/conversation.py: every channel's turn is recorded; while handed off, the words go to the operator."""
from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.conversation import handle_turn, say
from bot.delivery import unseal
from bot.rasa_client import rasa_sender
from hotline.office_hours import OfficeHours
from hotline.store import handoffs, operators, transcripts
from hotline.store.models import Handoff
from tests.fakes.rasa import FakeRasa


def transcript(engine: Engine, conversation: str) -> list[tuple[str, str]]:
    with Session(engine) as s:
        return [(m.author, m.text) for m in transcripts.transcript(session=s, conversation_id=conversation)]


def queue(engine: Engine, channel: str, conversation: str) -> int:
    with Session(engine) as s:
        h = handoffs.open_handoff(session=s, channel=channel, sender_hash=conversation.split(":", 1)[1])
        s.commit()
        return h.id


async def test_turn_goes_to_rasa_and_is_recorded(engine: Engine, fake_rasa: FakeRasa) -> None:
    turn = await handle_turn("web", "browser-1", "老板欠我工资")
    assert turn.conversation_id == rasa_sender("browser-1", "web")
    assert [m.text for m in turn.messages] == ["收到：老板欠我工资"]
    assert fake_rasa.webhook_calls == [{"sender": turn.conversation_id, "message": "老板欠我工资"}]
    assert fake_rasa.turn_ids[0]  # every turn carries its id (Rasa applies it once)
    assert transcript(engine, turn.conversation_id) == [("citizen", "老板欠我工资"), ("bot", "收到：老板欠我工资")]


@pytest.mark.parametrize("staffed", [True, False])
async def test_handed_off_words_skip_rasa_with_one_acknowledgement(engine: Engine, fake_rasa: FakeRasa,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   staffed: bool) -> None:
    monkeypatch.setattr(OfficeHours, "is_open", lambda self, at: True)
    monkeypatch.setattr(operators, "operators_on_shift", lambda **_: ["op.wang"] if staffed else [])
    conversation = rasa_sender("tg-55", "telegram")
    queue(engine, "telegram", conversation)
    first = await handle_turn("telegram", "tg-55", "我等着")
    second = await handle_turn("telegram", "tg-55", "还在吗")
    ack = say("utter_handoff_ack" if staffed else "utter_handoff_ack_unstaffed")
    assert [m.text for m in first.messages] == [ack] and second.messages == []
    assert fake_rasa.webhook_calls == []
    assert transcript(engine, conversation) == [("citizen", "我等着"), ("bot", ack), ("citizen", "还在吗")]
    with Session(engine) as s:
        h = s.query(Handoff).one()
        assert unseal(h.reply_address) == "tg-55" and "tg-55" not in (h.reply_address or "")
        assert h.last_citizen_at is not None


async def test_a_waiting_citizen_can_go_back_to_the_bot(engine: Engine, fake_rasa: FakeRasa) -> None:
    conversation = rasa_sender("b-back", "web")
    queue(engine, "web", conversation)
    turn = await handle_turn("web", "b-back", "返回智能助手")
    assert [m.text for m in turn.messages] == [say("utter_handoff_back_to_bot")]
    with Session(engine) as s:
        assert s.query(Handoff).one().status == "closed"
    assert [m.text for m in (await handle_turn("web", "b-back", "你好")).messages] == ["收到：你好"]
    assert "返回智能助手" in say("utter_handoff_ack") and "返回智能助手" in say("utter_handoff_ack_unstaffed")


async def test_after_hours_a_phone_number_is_kept_for_the_call_back(engine: Engine, fake_rasa: FakeRasa,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(OfficeHours, "is_open", lambda self, at: False)
    conversation = rasa_sender("b-9", "web")
    queue(engine, "web", conversation)
    turn = await handle_turn("web", "b-9", "139-7721-2345")
    assert [m.text for m in turn.messages] == [say("utter_handoff_callback_noted", phone="139****2345")]
    with Session(engine) as s:
        h = s.query(Handoff).one()
        assert h.callback_phone == "13977212345" and h.reply_address is None  # web needs no address


async def test_handoff_queued_during_the_turn_keeps_the_address(engine: Engine, fake_rasa: FakeRasa) -> None:
    conversation = rasa_sender("wx-openid-1", "wechat")

    def bot(sender: str, message: str) -> list[dict]:
        with Session(engine) as s:  # what action_handoff does inside Rasa's turn
            handoffs.open_handoff(session=s, channel="wechat", sender_hash=sender.split(":", 1)[1])
            s.commit()
        return [{"recipient_id": sender, "text": "已通知值班人员"}]

    fake_rasa.reply = bot
    await handle_turn("wechat", "wx-openid-1", "转人工")
    with Session(engine) as s:
        h = s.query(Handoff).one()
        assert unseal(h.reply_address) == "wx-openid-1" and h.last_citizen_at is not None and not h.acknowledged
    assert len(fake_rasa.webhook_calls) == 1
    assert transcript(engine, conversation)[-1] == ("bot", "已通知值班人员")


async def test_store_down_still_answers(fake_rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    from hotline.settings import get_settings
    from hotline.store import db

    get_settings.cache_clear()
    db.get_engine.cache_clear()
    turn = await handle_turn("web", "b-1", "你好")
    assert [m.text for m in turn.messages] == ["收到：你好"]


@pytest.mark.parametrize("channel", ["wechat", "telegram", "web"])
async def test_every_channel_sends_rasa_the_visible_words_only(engine: Engine, fake_rasa: FakeRasa,
                                                               channel: str) -> None:
    turn = await handle_turn(channel, "markup-user", "<img src=x onerror=alert(1)>")
    await handle_turn(channel, "markup-user", "<b>老板欠我工资</b>")
    assert [c["message"] for c in fake_rasa.webhook_calls] == ["/out_of_scope", "老板欠我工资"]
    # The operator's transcript keeps what was typed.
    assert ("citizen", "<img src=x onerror=alert(1)>") in transcript(engine, turn.conversation_id)
