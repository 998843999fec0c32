"""The WeChat callback, wire level: signed XML in, XML out, against a fake Rasa and a fake WeChat API."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import Engine
from wechatpy.crypto import WeChatCrypto

from bot.app import create_app
from bot.rasa_client import FALLBACK_TEXT, BotMessage, Button
from bot.wechat import (
    ASK_TO_TYPE,
    IMAGE_REPLY,
    LOCATION_REPLY,
    WeChatBridge,
    parse_message,
    render,
    split_for_wechat,
    verify_signature,
)
from bot.wechat_api import MAX_TEXT_BYTES, WeChatApi
from hotline.office_hours import office_hours
from hotline.privacy import hash_sender
from tests.fakes.rasa import FakeRasa
from tests.fakes.server import LoopbackServer
from tests.fakes.wechat import FakeWeChatApi

TOKEN = "wx-test-token"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")  # 43 characters, as WeChat issues them
APP_ID = "wx-test-app"
OPENID = "oUser-raw-openid-1234"
ACCOUNT = "gh_account"


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signed_query(ts: int | None = None, nonce: str = "n0nce", token: str = TOKEN) -> dict[str, str]:
    timestamp = str(int(time.time()) if ts is None else ts)
    return {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, "openid": OPENID}


def text_xml(content: str, msg_id: int = 1001, openid: str = OPENID) -> str:
    return (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")


def voice_xml(recognition: str | None, msg_id: int) -> str:
    rec = f"<Recognition><![CDATA[{recognition}]]></Recognition>" if recognition is not None else ""
    return (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[voice]]></MsgType>"
            f"<MediaId><![CDATA[media1]]></MediaId><Format><![CDATA[amr]]></Format>{rec}<MsgId>{msg_id}</MsgId></xml>")


def event_xml(event: str, create_time: int | None = None) -> str:
    return (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
            f"<CreateTime>{create_time or int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[{event}]]></Event></xml>")


def media_xml(kind: str, msg_id: int, extra: str) -> str:
    return (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>{extra}"
            f"<MsgId>{msg_id}</MsgId></xml>")


def reply_content(xml: str) -> str:
    root = ET.fromstring(xml)
    assert root.findtext("ToUserName") == OPENID and root.findtext("FromUserName") == ACCOUNT
    assert root.findtext("MsgType") == "text"
    return root.findtext("Content") or ""


# --- pure helpers ---------------------------------------------------------------------------------------------

def test_verify_signature() -> None:
    q = signed_query(ts=1_700_000_000)
    assert verify_signature(TOKEN, q["signature"], q["timestamp"], q["nonce"], now=1_700_000_100)
    assert not verify_signature(TOKEN, "0" * 40, q["timestamp"], q["nonce"], now=1_700_000_100)  # forged
    assert not verify_signature("other-token", q["signature"], q["timestamp"], q["nonce"], now=1_700_000_100)
    assert not verify_signature(TOKEN, q["signature"], q["timestamp"], q["nonce"], now=1_700_000_301)  # stale
    assert not verify_signature(TOKEN, q["signature"], q["timestamp"], q["nonce"], now=1_699_999_600)  # future
    assert not verify_signature(TOKEN, q["signature"], "17e8", q["nonce"], now=1_700_000_100)
    assert not verify_signature("", q["signature"], q["timestamp"], q["nonce"], now=1_700_000_100)


def test_parse_message() -> None:
    msg = parse_message(text_xml("包工头跑了", msg_id=77))
    assert (msg.kind, msg.openid, msg.account, msg.text, msg.dedup_key) == ("text", OPENID, ACCOUNT, "包工头跑了", "77")
    assert parse_message(voice_xml("工钱没给", 78)).text == "工钱没给"
    assert parse_message(voice_xml(None, 79)) .text is None
    sub = parse_message(event_xml("subscribe", create_time=1_700_000_000))
    assert sub.kind == "subscribe" and sub.dedup_key == f"{OPENID}:1700000000:event"
    assert parse_message(event_xml("unsubscribe")).kind == "unsubscribe"
    assert parse_message(media_xml("image", 80, "<PicUrl><![CDATA[http://x/y.jpg]]></PicUrl>")).kind == "image"
    assert parse_message(media_xml("shortvideo", 81, "")).kind == "other"
    for bad in ("", "not xml", "<xml><Foo>1</Foo></xml>"):
        with pytest.raises(ValueError):
            parse_message(bad)


def test_render_numbers_buttons_across_messages() -> None:
    text, buttons = render([
        BotMessage("请问还在那里干活吗？", [Button("已经不干了", "/affirm"), Button("还在干", "/deny")]),
        BotMessage("也可以直接说。", [Button("转人工", "/request_human")]),
    ])
    assert text == "请问还在那里干活吗？\n回复1 已经不干了\n回复2 还在干\n\n也可以直接说。\n回复3 转人工"
    assert [b.payload for b in buttons] == ["/affirm", "/deny", "/request_human"]


# --- wire level -----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wechat_server() -> Iterator[tuple[FakeWeChatApi, str]]:
    fake = FakeWeChatApi(app_id=APP_ID)
    with LoopbackServer(fake.app()) as srv:
        yield fake, srv.url


@pytest.fixture
def fake_wechat(wechat_server: tuple[FakeWeChatApi, str], monkeypatch: pytest.MonkeyPatch) -> FakeWeChatApi:
    fake, url = wechat_server
    fake.reset()
    monkeypatch.setenv("WECHAT_API_BASE", url)
    return fake


@pytest.fixture
async def client(fake_rasa: FakeRasa, fake_wechat: FakeWeChatApi, engine: Engine,
                 monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    """The app on a migrated database (every turn is recorded in the transcript)."""
    from hotline.settings import get_settings

    for name, value in {"WECHAT_TOKEN": TOKEN, "WECHAT_APP_ID": APP_ID, "WECHAT_APP_SECRET": fake_wechat.secret,
                        "WECHAT_AES_KEY": AES_KEY}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    app = create_app()
    bridge = WeChatBridge(reply_deadline_s=0.5, rest_delay_s=0.0)
    bridge.api = WeChatApi(backoff_s=0.01)
    app.state.wechat = bridge
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        c.bridge = bridge  # type: ignore[attr-defined]
        yield c


async def post(client: httpx.AsyncClient, xml: str) -> httpx.Response:
    return await client.post("/wechat", params=signed_query(), content=xml.encode())


async def test_url_check_echoes_echostr(client: httpx.AsyncClient) -> None:
    resp = await client.get("/wechat", params={**signed_query(), "echostr": "echo-4711"})
    assert resp.status_code == 200 and resp.text == "echo-4711"


async def test_forged_or_stale_requests_get_403(client: httpx.AsyncClient, fake_rasa: FakeRasa) -> None:
    forged = {**signed_query(), "signature": "f" * 40}
    assert (await client.get("/wechat", params={**forged, "echostr": "x"})).status_code == 403
    assert (await client.post("/wechat", params=forged, content=text_xml("你好").encode())).status_code == 403
    stale = signed_query(ts=int(time.time()) - 301)
    assert (await client.get("/wechat", params={**stale, "echostr": "x"})).status_code == 403
    assert (await client.post("/wechat", params=stale, content=text_xml("你好").encode())).status_code == 403
    unsigned = await client.post("/wechat", content=text_xml("你好").encode())
    assert unsigned.status_code == 403
    assert fake_rasa.webhook_calls == []


async def test_plain_text_gets_passive_reply(client: httpx.AsyncClient, fake_rasa: FakeRasa) -> None:
    resp = await post(client, text_xml("老板欠我三个月工资"))
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/xml")
    assert reply_content(resp.text) == "收到：老板欠我三个月工资"
    assert fake_rasa.webhook_calls == [{"sender": "wechat:" + hash_sender(OPENID, "test-salt"),
                                        "message": "老板欠我三个月工资"}]


async def test_garbage_body_is_400_not_500(client: httpx.AsyncClient) -> None:
    assert (await post(client, "<html>hello</html>")).status_code == 400


async def test_encrypted_round_trip(client: httpx.AsyncClient, fake_rasa: FakeRasa) -> None:
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    q = signed_query(nonce="aesnonce")
    envelope = crypto.encrypt_message(text_xml("包工头跑了", msg_id=2001), q["nonce"], q["timestamp"])
    msg_signature = ET.fromstring(envelope).findtext("MsgSignature")
    params = {**q, "encrypt_type": "aes", "msg_signature": msg_signature}
    resp = await client.post("/wechat", params=params, content=envelope.encode())
    assert resp.status_code == 200
    assert "<Encrypt>" in resp.text and "包工头" not in resp.text  # nothing in clear on the wire
    out = ET.fromstring(resp.text)
    plain = crypto.decrypt_message(resp.text, out.findtext("MsgSignature"), out.findtext("TimeStamp"),
                                   out.findtext("Nonce"))
    assert reply_content(plain) == "收到：包工头跑了"
    # A tampered msg_signature is refused before anything reaches Rasa.
    envelope2 = crypto.encrypt_message(text_xml("再来", msg_id=2002), q["nonce"], q["timestamp"])
    bad = await client.post("/wechat", params={**params, "msg_signature": "0" * 40}, content=envelope2.encode())
    assert bad.status_code == 403
    assert len(fake_rasa.webhook_calls) == 1


async def test_duplicate_msgid_forwarded_once(client: httpx.AsyncClient, fake_rasa: FakeRasa) -> None:
    first = await post(client, text_xml("欠了两万多", msg_id=3001))
    retry = await post(client, text_xml("欠了两万多", msg_id=3001))
    assert reply_content(first.text) == "收到：欠了两万多"
    assert retry.status_code == 200 and retry.text == "success"
    assert len(fake_rasa.webhook_calls) == 1
    await post(client, text_xml("欠了两万多", msg_id=3002))  # a new MsgId is a new message
    assert len(fake_rasa.webhook_calls) == 2


async def wait_for(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_slow_rasa_answers_later_through_customer_service_api(
    client: httpx.AsyncClient, fake_rasa: FakeRasa, fake_wechat: FakeWeChatApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline.settings import get_settings

    monkeypatch.setenv("HOTLINE_RASA_TIMEOUT", "5")
    get_settings.cache_clear()
    # Rasa answers only once released, after the post: WeChat getting "success" (not the answer) shows the bridge
    # stopped waiting at its own 0.5 s deadline — no wall-clock bound to miss on a busy machine. A bridge that
    # waited for Rasa would hang until the fake gives up (30 s) and then reply with the answer.
    fake_rasa.hold = threading.Event()
    try:
        resp = await post(client, text_xml("工地老板跑了", msg_id=4001))
        assert resp.text == "success"
        assert fake_wechat.sends == [] and len(fake_rasa.webhook_calls) == 1
    finally:
        fake_rasa.hold.set()
    await wait_for(lambda: len(fake_wechat.sends) == 1)
    assert fake_wechat.sends[0] == {"touser": OPENID, "msgtype": "text", "text": {"content": "收到：工地老板跑了"}}
    # A second late answer reuses the cached access token.
    fake_rasa.hold = threading.Event()
    try:
        assert (await post(client, text_xml("还有工友", msg_id=4002))).text == "success"
    finally:
        fake_rasa.hold.set()
    await wait_for(lambda: len(fake_wechat.sends) == 2)
    assert fake_wechat.token_calls == 1 and fake_wechat.send_tokens == ["TOKEN1", "TOKEN1"]


async def test_send_retries_and_refreshes_stale_token(fake_wechat: FakeWeChatApi, monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    from hotline.settings import get_settings

    monkeypatch.setenv("WECHAT_APP_ID", APP_ID)
    monkeypatch.setenv("WECHAT_APP_SECRET", fake_wechat.secret)
    get_settings.cache_clear()
    api = WeChatApi(backoff_s=0.01)
    fake_wechat.fail_sends = 2
    assert await api.send_text(OPENID, "第三次才成功")
    assert len(fake_wechat.send_tokens) == 3 and len(fake_wechat.sends) == 1
    fake_wechat.stale_once = True
    assert await api.send_text(OPENID, "令牌过期后重取")
    assert fake_wechat.token_calls == 2 and fake_wechat.send_tokens[-2:] == ["TOKEN1", "TOKEN2"]
    fake_wechat.fail_sends = 3
    assert not await api.send_text(OPENID, "三次都失败")
    assert OPENID not in caplog.text and "oUse****" in caplog.text  # failures logged, openid masked


async def test_subscribe_menu_then_digit_maps_to_payload(client: httpx.AsyncClient, fake_rasa: FakeRasa) -> None:
    welcome = reply_content((await post(client, event_xml("subscribe"))).text)
    assert "回复1 我要讨薪" in welcome and "回复2 法律援助" in welcome and "回复3 找法律顾问" in welcome
    assert fake_rasa.webhook_calls == []
    await post(client, text_xml(" 1 ", msg_id=5001))
    assert fake_rasa.webhook_calls[-1]["message"] == "/wage_arrears"


async def test_bot_buttons_become_numbered_replies(client: httpx.AsyncClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.reply = lambda s, m: [{"text": "您现在还在那里干活吗？", "buttons": [
        {"title": "已经不干了", "payload": "/affirm"}, {"title": "还在干", "payload": "/deny"}]}]
    content = reply_content((await post(client, text_xml("工钱没给", msg_id=6001))).text)
    assert content.splitlines() == ["您现在还在那里干活吗？", "回复1 已经不干了", "回复2 还在干"]
    fake_rasa.reply = lambda s, m: [{"text": f"收到：{m}"}]
    await post(client, text_xml("2", msg_id=6002))
    assert fake_rasa.webhook_calls[-1]["message"] == "/deny"
    # That answer had no buttons: a digit is plain text again (e.g. a number of months).
    await post(client, text_xml("3", msg_id=6003))
    assert fake_rasa.webhook_calls[-1]["message"] == "3"
    await post(client, text_xml("9", msg_id=6004))
    assert fake_rasa.webhook_calls[-1]["message"] == "9"


async def test_voice_with_and_without_recognition(client: httpx.AsyncClient, fake_rasa: FakeRasa) -> None:
    assert reply_content((await post(client, voice_xml("工钱没给", 7001))).text) == "收到：工钱没给"
    assert reply_content((await post(client, voice_xml(None, 7002))).text) == ASK_TO_TYPE
    assert [c["message"] for c in fake_rasa.webhook_calls] == ["工钱没给"]


async def test_image_location_and_other(client: httpx.AsyncClient, fake_rasa: FakeRasa) -> None:
    image = media_xml("image", 8001, "<PicUrl><![CDATA[http://x/y.jpg]]></PicUrl><MediaId><![CDATA[m]]></MediaId>")
    assert reply_content((await post(client, image)).text) == IMAGE_REPLY
    loc = media_xml("location", 8002, "<Location_X>24.3</Location_X><Location_Y>109.4</Location_Y>"
                    "<Scale>15</Scale><Label><![CDATA[柳州]]></Label>")
    assert reply_content((await post(client, loc)).text) == LOCATION_REPLY
    assert "文字" in reply_content((await post(client, media_xml("shortvideo", 8003, ""))).text)
    assert (await post(client, event_xml("unsubscribe"))).text == "success"
    assert fake_rasa.webhook_calls == []


async def test_rasa_down_still_answers_politely(client: httpx.AsyncClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.mode = "error"
    assert reply_content((await post(client, text_xml("你好", msg_id=9001))).text) == FALLBACK_TEXT


def test_fallback_mentions_hotline() -> None:
    assert re.search(r"12348", FALLBACK_TEXT) and office_hours().label in FALLBACK_TEXT  # office_hours.yml's


def test_split_keeps_parts_under_the_limit_and_loses_nothing() -> None:
    paragraphs = [f"第{i}段：" + "讨薪一般按这个顺序走，先整理证据。" * 12 for i in range(12)]
    text = "\n\n".join(paragraphs)
    parts = split_for_wechat(text)
    assert len(parts) > 1
    assert all(len(p.encode()) <= MAX_TEXT_BYTES for p in parts)
    assert "\n\n".join(parts) == text  # cut only between paragraphs here
    huge = "欠" * 3000  # one paragraph longer than a message is cut by characters, never inside one
    assert "".join(split_for_wechat(huge)) == huge
    assert all(len(p.encode()) <= MAX_TEXT_BYTES for p in split_for_wechat(huge))
    assert split_for_wechat("") == [""]


async def test_long_answer_goes_out_in_parts_menu_last(
    client: httpx.AsyncClient, fake_rasa: FakeRasa, fake_wechat: FakeWeChatApi
) -> None:
    long_reply = [{"text": f"第{i}条：" + "可以向劳动保障监察投诉，也可以申请劳动仲裁。" * 10} for i in range(10)]
    long_reply.append({"text": "还需要什么帮助？", "buttons": [{"title": "转人工", "payload": "/request_human"}]})
    fake_rasa.reply = lambda sender, message: long_reply
    resp = await post(client, text_xml("老板欠钱不给", msg_id=5001))
    first = reply_content(resp.text)
    assert len(first.encode()) <= MAX_TEXT_BYTES and first.startswith("第0条")
    # Done when the part carrying the menu has gone out (the menu comes last), however slow the machine.
    await wait_for(lambda: bool(fake_wechat.sends) and "回复1" in fake_wechat.sends[-1]["text"]["content"], 30)
    rest = [s["text"]["content"] for s in fake_wechat.sends]
    assert all(len(p.encode()) <= MAX_TEXT_BYTES for p in rest)
    whole = "\n\n".join([first, *rest])
    assert all(m["text"] in whole for m in long_reply)
    assert rest[-1].endswith("回复1 转人工")
