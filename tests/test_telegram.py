"""The Telegram bridge, offline: the Application talks to a fake Bot API on loopback, Rasa is faked too."""
from __future__ import annotations

import itertools
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from telegram import Update
from telegram.ext import Application

from bot.rasa_client import FALLBACK_TEXT, Button
from bot.telegram_bridge import APOLOGY, SECRET_HEADER, build_application, callback_data, webhook_app
from hotline.privacy import hash_sender
from tests.fakes.rasa import FakeRasa
from tests.fakes.server import LoopbackServer
from tests.fakes.telegram import BOT_USER, FakeBotApi

TOKEN = "123456:TEST-token"
CHAT_ID = 987654321
USER = {"id": CHAT_ID, "is_bot": False, "first_name": "阿强", "language_code": "zh-hans"}
_ids = itertools.count(1)


def message_update(text: str) -> dict[str, Any]:
    msg: dict[str, Any] = {"message_id": next(_ids), "date": int(time.time()), "from": USER,
                           "chat": {"id": CHAT_ID, "type": "private", "first_name": "阿强"}, "text": text}
    if text.startswith("/"):
        msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": next(_ids), "message": msg}


def callback_update(data: str) -> dict[str, Any]:
    return {"update_id": next(_ids), "callback_query": {
        "id": f"cb{next(_ids)}", "from": USER, "chat_instance": "ci", "data": data,
        "message": {"message_id": next(_ids), "date": int(time.time()), "from": BOT_USER,
                    "chat": {"id": CHAT_ID, "type": "private"}, "text": "您现在还在那里干活吗？",
                    "reply_markup": {"inline_keyboard": [[{"text": "已经不干了", "callback_data": data}]]}}}}


@pytest.fixture(scope="module")
def bot_api() -> Iterator[tuple[FakeBotApi, str]]:
    fake = FakeBotApi()
    with LoopbackServer(fake.app()) as srv:
        yield fake, srv.url


@pytest.fixture
async def tg(bot_api: tuple[FakeBotApi, str], fake_rasa: FakeRasa) -> AsyncIterator[tuple[Application, FakeBotApi]]:
    fake, url = bot_api
    fake.reset()
    application = build_application(TOKEN, base_url=f"{url}/bot")
    async with application:  # initialize(): getMe against the fake
        yield application, fake


async def feed(application: Application, data: dict[str, Any]) -> None:
    await application.process_update(Update.de_json(data, application.bot))


async def test_start_offers_three_services(tg: tuple[Application, FakeBotApi], fake_rasa: FakeRasa) -> None:
    application, fake = tg
    assert fake.methods()[0] == "getMe"
    await feed(application, message_update("/start"))
    [sent] = fake.sent()
    assert int(sent["chat_id"]) == CHAT_ID and "12348" in sent["text"]
    rows = sent["reply_markup"]["inline_keyboard"]
    assert [(r[0]["text"], r[0]["callback_data"]) for r in rows] == [
        ("我要讨薪", "/wage_arrears"), ("法律援助", "/legal_aid"), ("找法律顾问", "/find_advisor")]
    assert fake_rasa.webhook_calls == []


async def test_text_is_forwarded_with_hashed_sender(tg: tuple[Application, FakeBotApi], fake_rasa: FakeRasa) -> None:
    application, fake = tg
    fake_rasa.reply = lambda s, m: [
        {"text": "欠了多少钱？"},
        {"text": "您现在还在那里干活吗？", "buttons": [{"title": "已经不干了", "payload": "/affirm"},
                                                     {"title": "还在干", "payload": "/deny"}]},
    ]
    await feed(application, message_update("包工头跑了，工钱没给"))
    assert fake_rasa.webhook_calls == [{"sender": "telegram:" + hash_sender(str(CHAT_ID), "test-salt"),
                                        "message": "包工头跑了，工钱没给"}]
    first, second = fake.sent()
    assert first["text"] == "欠了多少钱？" and "reply_markup" not in first
    assert second["reply_markup"] == {"inline_keyboard": [[{"text": "已经不干了", "callback_data": "/affirm"}],
                                                          [{"text": "还在干", "callback_data": "/deny"}]]}
    assert "sendChatAction" in fake.methods()


async def test_callback_query_forwards_payload(tg: tuple[Application, FakeBotApi], fake_rasa: FakeRasa) -> None:
    application, fake = tg
    await feed(application, callback_update("/affirm"))
    assert fake_rasa.webhook_calls[-1]["message"] == "/affirm"
    methods = fake.methods()
    assert "answerCallbackQuery" in methods and "editMessageReplyMarkup" in methods
    assert fake.sent()[-1]["text"] == "收到：/affirm"


async def test_long_payload_round_trips_through_short_key(tg: tuple[Application, FakeBotApi],
                                                          fake_rasa: FakeRasa) -> None:
    application, fake = tg
    long_payload = '/inform{"street": "沿江街道", "community": "水上社区", "employer": "恒通建筑工程有限公司"}'
    fake_rasa.reply = lambda s, m: [{"text": "您在哪个社区？", "buttons": [{"title": "水上社区", "payload": long_payload}]}]
    await feed(application, message_update("找法律顾问"))
    key = fake.sent()[-1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert len(key.encode()) <= 64 and key != long_payload
    fake_rasa.reply = lambda s, m: [{"text": f"收到：{m}"}]
    await feed(application, callback_update(key))
    assert fake_rasa.webhook_calls[-1]["message"] == long_payload


def test_short_payload_is_its_own_callback_data() -> None:
    assert callback_data(Button("是", "/affirm"), {}) == "/affirm"


async def test_human_command_sends_request_human(tg: tuple[Application, FakeBotApi], fake_rasa: FakeRasa) -> None:
    application, _ = tg
    await feed(application, message_update("/human"))
    assert fake_rasa.webhook_calls[-1]["message"] == "/request_human"


async def test_help(tg: tuple[Application, FakeBotApi]) -> None:
    application, fake = tg
    await feed(application, message_update("/help"))
    assert "转人工" in fake.sent()[-1]["text"]


async def test_rasa_down_gives_fallback(tg: tuple[Application, FakeBotApi], fake_rasa: FakeRasa) -> None:
    application, fake = tg
    fake_rasa.mode = "error"
    await feed(application, message_update("你好"))
    assert fake.sent()[-1]["text"] == FALLBACK_TEXT


async def test_error_handler_logs_and_apologises_without_personal_data(
    tg: tuple[Application, FakeBotApi], caplog: pytest.LogCaptureFixture
) -> None:
    application, fake = tg
    fake.fail_next = 1  # the answer fails; the apology goes through
    with caplog.at_level(logging.ERROR, logger="bot.telegram_bridge"):
        await feed(application, message_update("我的电话13977212345，老板欠钱"))
    assert fake.sent()[-1]["text"] == APOLOGY
    record = next(r for r in caplog.records if r.name == "bot.telegram_bridge")
    assert record.exc_info is not None
    assert "13977212345" not in record.getMessage() and str(CHAT_ID) not in record.getMessage()


async def test_webhook_refuses_wrong_secret() -> None:
    application = build_application(TOKEN)
    web = webhook_app(application, "right-secret", "/telegram")
    body = message_update("你好")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://test") as client:
        assert (await client.post("/telegram", json=body)).status_code == 403
        assert (await client.post("/telegram", json=body, headers={SECRET_HEADER: "wrong"})).status_code == 403
        assert application.update_queue.qsize() == 0
        ok = await client.post("/telegram", json=body, headers={SECRET_HEADER: "right-secret"})
        assert ok.status_code == 200
        assert application.update_queue.qsize() == 1
        queued = application.update_queue.get_nowait()
        assert isinstance(queued, Update) and queued.effective_message.text == "你好"
        bad = await client.post("/telegram", content=b"not json", headers={SECRET_HEADER: "right-secret"})
        assert bad.status_code == 400


def test_main_without_token_exits(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import telegram_bridge
    from hotline.settings import get_settings

    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    get_settings.cache_clear()
    with pytest.raises(SystemExit, match="TELEGRAM_BOT_TOKEN"):
        telegram_bridge.main()
