"""The two-way handoff over the API of CONTRACT §7: a citizen on each channel asks for a person, the operator
takes, replies (web chat pull, WeChat customer-service message, Telegram sendMessage — against the fakes' wire
formats) and closes; the bot resumes and says so; the handoff is one consultation under the operator."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.app import create_app
from bot.conversation import say
from bot.rasa_client import rasa_sender
from hotline.store import consultations, handoffs, operators
from hotline.store.models import Consultation, Handoff, utcnow
from tests.fakes.rasa_events import FakeRasaWithEvents
from tests.fakes.server import LoopbackServer
from tests.fakes.telegram import FakeBotApi
from tests.fakes.wechat import FakeWeChatApi


def asks_for_a_person(sender: str, message: str) -> list[dict[str, Any]]:
    """The fake bot: 转人工 queues a handoff as action_handoff does; anything else is echoed."""
    if message == "转人工":
        from hotline.store.db import session_scope

        channel, sender_hash = sender.split(":", 1)
        with session_scope() as s:
            handoffs.open_handoff(session=s, channel=channel, sender_hash=sender_hash, category="wage_arrears",
                                  summary="事项：追索劳动报酬。已了解：涉及金额约20000元；涉及12人。")
        return [{"recipient_id": sender, "text": "已通知值班人员，有人会在这里回复您。"}]
    return [{"recipient_id": sender, "text": f"收到：{message}"}]


@pytest.fixture
def wechat_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWeChatApi]:
    fake = FakeWeChatApi()
    with LoopbackServer(fake.app()) as srv:
        monkeypatch.setenv("WECHAT_API_BASE", srv.url)
        monkeypatch.setenv("WECHAT_APP_ID", fake.app_id)
        monkeypatch.setenv("WECHAT_APP_SECRET", fake.secret)
        yield fake


@pytest.fixture
def bot_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeBotApi, str]]:
    fake = FakeBotApi()
    with LoopbackServer(fake.app()) as srv:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:test-token")
        yield fake, srv.url + "/bot"


@pytest.fixture
def app(engine: Engine, fake_rasa_events: FakeRasaWithEvents, wechat_api: FakeWeChatApi,
        bot_api: tuple[FakeBotApi, str]) -> Any:
    from hotline.settings import get_settings

    get_settings.cache_clear()
    fake_rasa_events.reply = asks_for_a_person
    application = create_app()
    application.state.telegram_base_url = bot_api[1]
    return application


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def auth(client: TestClient, engine: Engine) -> dict[str, str]:
    with Session(engine) as s:
        password = operators.create_operator(session=s, username="op.wang")
        s.commit()
    token = client.post("/api/login", json={"username": "op.wang", "password": password}).json()["token"]
    client.cookies.clear()  # an API client: the bearer token only (the console's cookies have their own tests)
    return {"Authorization": f"Bearer {token}"}


async def citizen_turn(channel: str, raw: str, text: str) -> list[str]:
    from bot.conversation import handle_turn

    return [m.text for m in (await handle_turn(channel, raw, text)).messages]


def test_web_chat_round_trip(client: TestClient, auth: dict[str, str], engine: Engine,
                             fake_rasa_events: FakeRasaWithEvents) -> None:
    said = client.post("/api/chat", json={"sender": "browser-7", "message": "老板欠我们两万块"}).json()
    assert said["messages"][0]["text"] == "收到：老板欠我们两万块"
    queued = client.post("/api/chat", json={"sender": "browser-7", "message": "转人工"}).json()
    cursor = client.get("/api/chat/browser-7/messages", params={"since": 0}).json()
    assert cursor["messages"] == [] and cursor["next"] == 4  # two turns of two lines, nothing pushed yet

    [item] = client.get("/api/handoffs", headers=auth).json()
    assert item["conversation_id"] == queued["conversation_id"] == rasa_sender("browser-7", "web")
    assert (item["channel"], item["status"], item["channel_label"]) == ("web", "waiting", "网页")
    assert "「老板欠我们两万块」" in item["summary"] and "追索劳动报酬" in item["summary"]
    assert "wage_arrears" not in item["summary"] and "=" not in item["summary"]
    assert "「转人工」" not in item["summary"]  # the matter, not the request for a person
    assert [(t["from"], t["text"]) for t in item["transcript"]][:2] == [("citizen", "老板欠我们两万块"),
                                                                      ("bot", "收到：老板欠我们两万块")]
    assert item["created_at"] and item["waiting_seconds"] >= 0

    # The citizen writes again: the operator sees it, Rasa does not, the citizen is acknowledged once.
    calls = len(fake_rasa_events.webhook_calls)
    first = client.post("/api/chat", json={"sender": "browser-7", "message": "我叫张三，在中南街道"}).json()
    again = client.post("/api/chat", json={"sender": "browser-7", "message": "有人吗"}).json()
    assert len(fake_rasa_events.webhook_calls) == calls
    assert len(first["messages"]) == 1 and again["messages"] == []

    taken = client.post(f"/api/handoffs/{item['id']}/status", headers=auth, json={"status": "taken"}).json()
    assert (taken["status"], taken["operator"]) == ("taken", "op.wang")
    reply = client.post(f"/api/handoffs/{item['id']}/reply", headers=auth, json={"text": "您好，我是值班的王律师。"})
    assert reply.status_code == 201, reply.text
    assert (reply.json()["from"], reply.json()["operator"]) == ("operator", "op.wang")

    pushed = client.get("/api/chat/browser-7/messages", params={"since": cursor["next"]}).json()
    assert [(m["from"], m["text"], m["label"]) for m in pushed["messages"]] == [
        ("operator", "您好，我是值班的王律师。", "值班人员")]  # the page shows the label above a person's words
    assert client.get("/api/chat/browser-7/messages", params={"since": pushed["next"]}).json()["messages"] == []
    assert client.get("/api/chat/someone-else/messages").json()["messages"] == []

    fake_rasa_events.paused.add(item["conversation_id"])
    closed = client.post(f"/api/handoffs/{item['id']}/status", headers=auth, json={"status": "closed"}).json()
    assert closed["bot_resumed"] is True and closed["status"] == "closed"
    assert item["conversation_id"] not in fake_rasa_events.paused
    notice = client.get("/api/chat/browser-7/messages", params={"since": pushed["next"]}).json()["messages"]
    assert [m["text"] for m in notice] == [say("utter_handoff_resumed")]
    # The bot answers again.
    assert client.post("/api/chat", json={"sender": "browser-7", "message": "谢谢"}).json()["messages"][0]["text"] \
        == "收到：谢谢"
    history = client.get("/api/chat/browser-7/history").json()
    assert [m["from"] for m in history["messages"]].count("operator") == 1
    assert client.get("/api/handoffs", headers=auth).json() == []

    # Closing again changes nothing; one consultation, under the operator.
    client.post(f"/api/handoffs/{item['id']}/status", headers=auth, json={"status": "closed"})
    with Session(engine) as s:
        [row] = s.scalars(select(Consultation)).all()
        assert (row.operator, row.channel, row.service, row.category, row.source_id) == (
            "op.wang", "web", "online", "wage_arrears", f"handoff:{item['id']}")
    assert client.post(f"/api/handoffs/{item['id']}/reply", headers=auth, json={"text": "x"}).status_code == 409


async def test_wechat_reply_goes_out_as_a_customer_service_message(client: TestClient, auth: dict[str, str],
                                                                   engine: Engine, wechat_api: FakeWeChatApi) -> None:
    await citizen_turn("wechat", "oOPENID-42", "转人工")
    [item] = client.get("/api/handoffs", headers=auth).json()
    resp = client.post(f"/api/handoffs/{item['id']}/reply", headers=auth, json={"text": "您好，请说说情况。"})
    assert resp.status_code == 201, resp.text
    # WeChat shows every line alike: the words say a person speaks.
    assert wechat_api.sends == [{"touser": "oOPENID-42", "msgtype": "text",
                                 "text": {"content": "【值班人员】您好，请说说情况。"}}]
    assert client.get("/api/handoffs", headers=auth).json()[0]["status"] == "taken"  # replying takes it
    # Beyond WeChat's 48 hours since the citizen's last message, nothing can be sent: the operator is told.
    with Session(engine) as s:
        h = s.get(Handoff, item["id"])
        assert h is not None and "oOPENID-42" not in (h.reply_address or "")
        h.last_citizen_at = utcnow() - timedelta(hours=49)
        s.commit()
    late = client.post(f"/api/handoffs/{item['id']}/reply", headers=auth, json={"text": "还在吗？"})
    assert late.status_code == 502 and "48小时" in late.json()["detail"]
    assert len(wechat_api.sends) == 1
    client.post(f"/api/handoffs/{item['id']}/status", headers=auth, json={"status": "closed"})
    with Session(engine) as s:
        assert s.get(Handoff, item["id"]).reply_address is None  # type: ignore[union-attr]


async def test_telegram_reply_and_resume_notice_through_send_message(client: TestClient, auth: dict[str, str],
                                                                     bot_api: tuple[FakeBotApi, str]) -> None:
    await citizen_turn("telegram", "778899", "转人工")
    [item] = client.get("/api/handoffs", headers=auth).json()
    assert item["channel_label"] == "Telegram"
    resp = client.post(f"/api/handoffs/{item['id']}/reply", headers=auth, json={"text": "您好，我来帮您。"})
    assert resp.status_code == 201, resp.text
    client.post(f"/api/handoffs/{item['id']}/status", headers=auth, json={"status": "closed"})
    sent = [(p["chat_id"], p["text"]) for p in bot_api[0].sent()]
    assert sent == [("778899", "【值班人员】您好，我来帮您。"), ("778899", say("utter_handoff_resumed"))]


async def test_transcript_shows_button_titles_not_payloads(client: TestClient, auth: dict[str, str],
                                                           fake_rasa_events: FakeRasaWithEvents) -> None:
    def bot(sender: str, message: str) -> list[dict[str, Any]]:
        if message == "/affirm":
            return asks_for_a_person(sender, "转人工")
        return [{"recipient_id": sender, "text": "要转人工吗？", "buttons": [{"title": "要，找人", "payload": "/affirm"}]}]

    fake_rasa_events.reply = bot
    await citizen_turn("web", "b-2", "你好")
    await citizen_turn("web", "b-2", "/affirm")
    await citizen_turn("web", "b-2", "/deny")
    [item] = client.get("/api/handoffs", headers=auth).json()
    texts = [t["text"] for t in item["transcript"] if t["from"] == "citizen"]
    assert texts == ["你好", "（点了按钮）要，找人", "（点了一个按钮）"]


async def test_telegram_failure_is_reported_and_not_recorded(client: TestClient, auth: dict[str, str],
                                                             bot_api: tuple[FakeBotApi, str]) -> None:
    await citizen_turn("telegram", "5", "转人工")
    [item] = client.get("/api/handoffs", headers=auth).json()
    bot_api[0].fail_next = 1
    resp = client.post(f"/api/handoffs/{item['id']}/reply", headers=auth, json={"text": "您好"})
    assert resp.status_code == 502 and resp.json()["detail"]
    after = client.get("/api/handoffs", headers=auth).json()[0]
    assert [t for t in after["transcript"] if t["from"] == "operator"] == []


def test_reply_needs_an_operator_and_text(client: TestClient, auth: dict[str, str], engine: Engine) -> None:
    with Session(engine) as s:
        h = handoffs.open_handoff(session=s, channel="web", sender_hash="c" * 64)
        s.commit()
        hid = h.id
    assert client.post(f"/api/handoffs/{hid}/reply", json={"text": "x"}).status_code == 401
    assert client.post(f"/api/handoffs/{hid}/reply", headers=auth, json={"text": ""}).status_code == 422
    assert client.post(f"/api/handoffs/{hid}/reply", headers=auth, json={}).status_code == 422
    assert client.post(f"/api/handoffs/{hid + 99}/reply", headers=auth, json={"text": "x"}).status_code == 404
    assert client.get("/api/chat/x/messages", params={"since": -1}).status_code == 422


def test_the_bots_referral_becomes_the_operators_consultation(client: TestClient, auth: dict[str, str],
                                                              engine: Engine) -> None:
    """action_handoff logs the bot's "referred" row; closing the handoff hands that row to the operator instead of
    adding a second one, so one conversation with a person is one consultation."""
    queued = client.post("/api/chat", json={"sender": "browser-9", "message": "转人工"}).json()
    sender_hash = queued["conversation_id"].split(":", 1)[1]
    with Session(engine) as s:
        consultations.log_consultation(session=s, service="online", channel="web", category="wage_arrears",
                                       outcome="referred", referral="人工（12348/司法所）", sender_hash=sender_hash,
                                       source_id=f"bot:{sender_hash}:0:1")
        s.commit()
    [item] = client.get("/api/handoffs", headers=auth).json()
    for _ in range(2):  # closing twice still logs once
        assert client.post(f"/api/handoffs/{item['id']}/status", headers=auth,
                           json={"status": "closed"}).status_code == 200
    with Session(engine) as s:
        [row] = s.scalars(select(Consultation)).all()
        assert (row.operator, row.outcome, row.referral, row.source_id) == (
            "op.wang", "answered", None, f"bot:{sender_hash}:0:1")


def test_while_a_person_answers_the_bot_is_silent_but_for_one_note(client: TestClient, auth: dict[str, str],
                                                                  fake_rasa_events: FakeRasaWithEvents) -> None:
    """Queued: one note; taken: one "a person is reading" note; after the person's reply: nothing but the person."""
    chat = lambda text: client.post("/api/chat", json={"sender": "b-quiet", "message": text}).json()  # noqa: E731
    assert chat("转人工")["handoff"] == "waiting"
    calls = len(fake_rasa_events.webhook_calls)
    first = chat("我在中南街道")
    assert len(first["messages"]) == 1 and first["handoff"] == "waiting"
    assert chat("还在吗")["messages"] == []
    [item] = client.get("/api/handoffs", headers=auth).json()
    client.post(f"/api/handoffs/{item['id']}/status", headers=auth, json={"status": "taken"})
    reading = chat("有人吗")
    assert [m["text"] for m in reading["messages"]] == [say("utter_handoff_reading")]
    assert reading["handoff"] == "taken"
    assert chat("我等着")["messages"] == []
    client.post(f"/api/handoffs/{item['id']}/reply", headers=auth, json={"text": "您好"})
    assert chat("谢谢您")["messages"] == []
    assert len(fake_rasa_events.webhook_calls) == calls  # none of it went to the bot
    pushed = client.get("/api/chat/b-quiet/messages").json()
    assert pushed["handoff"] == "taken"
    client.post(f"/api/handoffs/{item['id']}/status", headers=auth, json={"status": "closed"})
    assert client.get("/api/chat/b-quiet/messages").json()["handoff"] is None


async def test_a_button_pressed_during_a_handoff_reaches_the_operator_as_its_title(
        client: TestClient, auth: dict[str, str], fake_rasa_events: FakeRasaWithEvents) -> None:
    def bot(sender: str, message: str) -> list[dict[str, Any]]:
        if message == "转人工":
            return asks_for_a_person(sender, message)
        return [{"recipient_id": sender, "text": "已经离职了吗？", "buttons": [{"title": "已经不干了", "payload": "/affirm"}]}]

    fake_rasa_events.reply = bot
    await citizen_turn("web", "b-chip", "老板欠钱")
    await citizen_turn("web", "b-chip", "转人工")
    await citizen_turn("web", "b-chip", "/affirm")  # an old chip, tapped while waiting for a person
    await citizen_turn("web", "b-chip", "/wage_arrears")  # the page's own quick reply
    [item] = client.get("/api/handoffs", headers=auth).json()
    said = [t["text"] for t in item["transcript"] if t["from"] == "citizen"]
    assert said[-2:] == ["已经不干了", "我要讨薪"]
    assert "（点了一个按钮）" not in said


async def test_an_operators_display_name_marks_their_words(client: TestClient, engine: Engine,
                                                           bot_api: tuple[FakeBotApi, str]) -> None:
    """「值班人员 · 黄律师」 on the web chat, 【值班人员 · 黄律师】 on Telegram; never the login name."""
    with Session(engine) as s:
        password = operators.create_operator(session=s, username="op.huang", display_name="黄律师")
        s.commit()
    token = client.post("/api/login", json={"username": "op.huang", "password": password}).json()["token"]
    client.cookies.clear()
    auth = {"Authorization": f"Bearer {token}"}
    client.post("/api/chat", json={"sender": "b-named", "message": "转人工"})
    await citizen_turn("telegram", "4242", "转人工")
    for item in client.get("/api/handoffs", headers=auth).json():
        assert client.post(f"/api/handoffs/{item['id']}/reply", headers=auth, json={"text": "您好"}).status_code == 201
    [line] = [m for m in client.get("/api/chat/b-named/history").json()["messages"] if m["from"] == "operator"]
    assert line["label"] == "值班人员 · 黄律师" and "op.huang" not in str(line)
    assert [p["text"] for p in bot_api[0].sent()] == ["【值班人员 · 黄律师】您好"]


@pytest.mark.parametrize("callback", [None, "13977212345"])
def test_an_idle_handoff_times_out_unless_a_call_back_was_promised(
        client: TestClient, engine: Engine, fake_rasa_events: FakeRasaWithEvents, callback: str | None) -> None:
    """Nobody spoke in it for more than HOTLINE_HANDOFF_IDLE_HOURS: the citizen's words go to the bot, after a note,
    and the conversation is handed back (RESUME_EVENTS). A call-back number left keeps it in the queue."""
    chat = lambda text: client.post("/api/chat", json={"sender": "b-idle", "message": text}).json()  # noqa: E731
    chat("转人工")
    with Session(engine) as s:
        [h] = s.scalars(select(Handoff)).all()
        h.created_at -= timedelta(hours=30)
        h.last_citizen_at = h.created_at  # the 转人工 turn itself
        h.callback_phone = callback
        s.commit()
    calls = len(fake_rasa_events.webhook_calls)
    answer = chat("工伤要怎么认定")
    with Session(engine) as s:
        [h] = s.scalars(select(Handoff)).all()
        status = h.status
    if callback:
        assert status == "waiting" and len(fake_rasa_events.webhook_calls) == calls
        return
    assert status == "closed" and answer["handoff"] is None
    assert [m["text"] for m in answer["messages"]] == [say("utter_handoff_timed_out"), "收到：工伤要怎么认定"]
    assert fake_rasa_events.event_calls[-1][1][-1] == {"event": "action", "name": "action_listen"}
