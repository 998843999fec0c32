"""forward_to_rasa and parse against a fake Rasa on loopback."""
from __future__ import annotations

import re

import httpx
import pytest

from bot.rasa_client import FALLBACK_TEXT, BotMessage, Button, forward_to_rasa, parse, rasa_sender
from hotline.office_hours import office_hours
from hotline.privacy import hash_sender
from tests.fakes.rasa import FakeRasa


async def test_normal_answer_in_order(fake_rasa: FakeRasa) -> None:
    fake_rasa.reply = lambda s, m: [{"recipient_id": s, "text": "第一句"}, {"recipient_id": s, "text": "第二句"}]
    assert await forward_to_rasa("u1", "你好", "web") == [BotMessage("第一句"), BotMessage("第二句")]
    assert fake_rasa.webhook_calls[0]["message"] == "你好"


async def test_buttons_passed_through(fake_rasa: FakeRasa) -> None:
    fake_rasa.reply = lambda s, m: [
        {"recipient_id": s, "text": "还在干吗？", "buttons": [
            {"title": "已经不干了", "payload": "/affirm"}, {"title": "还在干", "payload": "/deny"}]},
    ]
    [msg] = await forward_to_rasa("u1", "工钱没给", "web")
    assert msg.buttons == [Button("已经不干了", "/affirm"), Button("还在干", "/deny")]
    assert msg.to_api()["buttons"][0] == {"title": "已经不干了", "payload": "/affirm"}


async def test_sender_is_channel_and_hash_never_raw(fake_rasa: FakeRasa) -> None:
    raw = "oAbC-raw-openid-13977212345"
    await forward_to_rasa(raw, "你好", "web")
    sent = fake_rasa.webhook_calls[0]["sender"]
    assert re.fullmatch(r"web:[0-9a-f]{64}", sent)
    assert sent == "web:" + hash_sender(raw, "test-salt")
    assert raw not in str(fake_rasa.webhook_calls)


async def test_same_person_same_hash_other_channel_other_prefix() -> None:
    assert rasa_sender("42", "telegram") == rasa_sender("42", "telegram")
    assert rasa_sender("42", "wechat").split(":")[1] == rasa_sender("42", "telegram").split(":")[1]
    assert rasa_sender("42", "wechat") != rasa_sender("43", "wechat")


@pytest.mark.parametrize("mode", ["error", "garbage", "down"])
async def test_broken_rasa_gives_polite_fallback(fake_rasa: FakeRasa, mode: str) -> None:
    fake_rasa.mode = mode
    [msg] = await forward_to_rasa("u1", "工钱没给", "web")
    assert msg.text == FALLBACK_TEXT
    assert "12348" in msg.text and office_hours().label in msg.text  # the hours of hotline/office_hours.yml


async def test_slow_rasa_times_out_to_fallback(fake_rasa: FakeRasa) -> None:
    fake_rasa.delay_s = 2.0  # the fixture sets a 1 s time-out
    [msg] = await forward_to_rasa("u1", "工钱没给", "web")
    assert msg.text == FALLBACK_TEXT


async def test_unreachable_rasa_gives_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline.settings import get_settings

    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:9")  # discard port: nothing listens
    get_settings.cache_clear()
    [msg] = await forward_to_rasa("u1", "你好", "telegram")
    assert msg.text == FALLBACK_TEXT


async def test_wrong_shape_and_empty_answer_give_fallback(fake_rasa: FakeRasa) -> None:
    fake_rasa.reply = lambda s, m: {"not": "a list"}  # type: ignore[assignment,return-value]
    assert (await forward_to_rasa("u1", "x", "web"))[0].text == FALLBACK_TEXT
    fake_rasa.reply = lambda s, m: []
    assert (await forward_to_rasa("u1", "x", "web"))[0].text == FALLBACK_TEXT


async def test_shared_client_is_used(fake_rasa: FakeRasa) -> None:
    async with httpx.AsyncClient(trust_env=False) as client:
        assert (await forward_to_rasa("u1", "你好", "web", client=client))[0].text == "收到：你好"


async def test_parse(fake_rasa: FakeRasa) -> None:
    fake_rasa.parse_result = lambda t: {"text": t, "intent": {"name": "wage_arrears", "confidence": 0.93},
                                        "entities": [{"entity": "amount", "value": 20000}]}
    data = await parse("欠了两万多")
    assert data["intent"]["name"] == "wage_arrears" and fake_rasa.parse_calls == ["欠了两万多"]
    fake_rasa.mode = "error"
    with pytest.raises(httpx.HTTPError):
        await parse("x")
