"""Bad input at every public door → a clear 4xx (short `detail`, Chinese `message`) or a polite reply, never a 5xx.

Generated: every door × every kind of bad input (empty, 100,000 characters, control characters, invalid UTF-8,
malformed JSON or XML, wrong content types, nested junk, entity bombs), plus hypothesis over the parsers.
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session
from starlette.testclient import TestClient as StarletteClient
from wechatpy.crypto import WeChatCrypto

from bot import limits
from bot.app import create_app
from bot.chat import ChatIn
from bot.wechat import parse_message
from hotline.store import operators
from hotline.store.db import make_engine
from hotline.store.models import Base
from tests.fakes.rasa import FakeRasa

TOKEN = "wx-test-token"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
APP_ID = "wx-test-app"
OPENID = "oBad-input-openid"
CJK = re.compile(r"[\u4e00-\u9fff]")
LONG = "欠" * 100_000


# --- the kinds of bad input ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bad:
    name: str
    body: bytes
    content_type: str | None = "application/json"


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


JSON_BAD = [
    Bad("empty", b""),
    Bad("empty_object", b"{}"),
    Bad("null", b"null"),
    Bad("a_list", b'["sender", "message"]'),
    Bad("a_string", b'"hello"'),
    Bad("malformed", b'{"sender": "x", "message": '),
    Bad("trailing_garbage", b'{"sender": "x", "message": "hi"} junk'),
    Bad("invalid_utf8", b'{"sender": "x", "message": "\xff\xfe\xc3\x28"}'),
    Bad("utf16", '{"sender": "x", "message": "你好"}'.encode("utf-16")),
    Bad("lone_surrogate", b'{"sender": "x\\ud800", "message": "\\udfff\\ud800"}'),
    Bad("nan", b'{"sender": "x", "message": "hi", "monthly_income_per_capita": NaN, "amount": Infinity}'),
    Bad("huge_number", b'{"sender": "x", "message": "hi", "monthly_income_per_capita": 1e400}'),
    Bad("huge_int", b'{"sender": "x", "message": "hi", "monthly_income_per_capita": ' + b"9" * 5000 + b"}"),
    Bad("wrong_types", b'{"sender": 1, "message": null, "username": [], "password": {}, "matter": 7}'),
    Bad("nested_junk", nested(50_000)),
    Bad("nested_object", json.dumps({"sender": {"a": {"b": [[[["x"]]]]}}, "message": [1, [2, [3]]],
                                     "groups": [[["minor"]]], "criminal": {"role": {"x": []}}}).encode()),
    Bad("control_chars", json.dumps({"sender": "x\x00\x01", "message": "\x00\x1b[31m\x7f\x85你好",
                                     "username": "\x00", "password": "\x00"}).encode()),
    Bad("hundred_thousand", json.dumps({"sender": "x", "message": LONG, "username": LONG, "password": LONG,
                                        "matter": LONG}, ensure_ascii=False).encode()),
    Bad("hundred_thousand_escaped", json.dumps({"sender": "x", "message": LONG}).encode()),  # \uXXXX: 600 kB
    Bad("wrong_content_type_text", b'{"sender": "x", "message": "hi"}', "text/plain"),
    Bad("wrong_content_type_form", b"sender=x&message=hi", "application/x-www-form-urlencoded"),
    Bad("wrong_content_type_xml", b"<xml><sender>x</sender></xml>", "application/xml"),
    Bad("no_content_type", b'{"sender": "x", "message": "hi"', None),
    Bad("multipart_junk", b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n\xff\r\n--b--", "multipart/form-data; boundary=b"),
]

JSON_DOORS = ["/api/chat", "/api/eligibility", "/api/login"]


def assert_clear_4xx_or_polite(resp: Any) -> None:
    assert resp.status_code < 500, (resp.status_code, resp.text[:300])
    if resp.status_code >= 400:
        body = resp.json()
        assert isinstance(body.get("detail"), str) and 0 < len(body["detail"]) <= 300, body
        assert isinstance(body.get("message"), str) and CJK.search(body["message"]), body
    elif resp.headers.get("content-type", "").startswith("application/json"):
        json.dumps(resp.json())  # a real answer, not half a document


@pytest.fixture
def client(fake_rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The web app on the test's own SQLite file (the doors, not the database, are under test here).

    Without the rate limit: hypothesis sends hundreds of requests, which should reach the parsers, not a 429
    (tests/test_bad_input_rate.py tests the limit)."""
    monkeypatch.setenv("HOTLINE_RATE_LIMIT", "off")
    engine = make_engine()
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        operators.create_operator(session=s, username="op.bad")
        s.commit()
    engine.dispose()
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("bad", JSON_BAD, ids=lambda b: b.name)
@pytest.mark.parametrize("door", JSON_DOORS)
def test_json_doors(client: TestClient, fake_rasa: FakeRasa, door: str, bad: Bad) -> None:
    headers = {"content-type": bad.content_type} if bad.content_type else {}
    resp = client.post(door, content=bad.body, headers=headers)
    assert_clear_4xx_or_polite(resp)
    for call in fake_rasa.webhook_calls:  # whatever reached the bot is clean text of the allowed length
        assert not limits._CONTROL.search(call["message"]) and len(call["message"]) <= limits.MAX_MESSAGE_CHARS


BAD_QUERIES = ["", "%00", "%FF%FE", "%ED%A0%80", "%1B%5B31m", "a" * 5000, "%E6%AC%A0" * 3000, "'; DROP TABLE x;--",
               "%25%25%25", "q&q=1&q=2"]


@pytest.mark.parametrize("q", BAD_QUERIES, ids=range(len(BAD_QUERIES)))
def test_get_doors(client: TestClient, q: str) -> None:
    for url in (f"/api/advisors?q={q}", f"/api/chat/{q or 'x'}/messages?since={q}", f"/api/chat/{q or 'x'}/history",
                "/api/chat/x/messages?since=-1", "/api/chat/x/messages?since=99999999999999999999999"):
        assert_clear_4xx_or_polite(client.get(url))


def test_too_long_chat_message_is_told_the_limit(client: TestClient, fake_rasa: FakeRasa) -> None:
    for message in ("欠" * (limits.MAX_MESSAGE_CHARS + 1), LONG):
        resp = client.post("/api/chat", json={"sender": "s1", "message": message})
        assert resp.status_code in (413, 422)
        assert resp.json()["message"] == limits.TOO_LONG and str(limits.MAX_MESSAGE_CHARS) in limits.TOO_LONG
    assert fake_rasa.webhook_calls == []


def test_limit_agrees_with_the_web_chat_door() -> None:
    """bot/chat.py's ChatIn.message and bot/limits.MAX_MESSAGE_CHARS are the same limit."""
    maxima = [m.max_length for m in ChatIn.model_fields["message"].metadata if hasattr(m, "max_length")]
    assert maxima == [limits.MAX_MESSAGE_CHARS]


def test_control_characters_never_reach_the_bot(client: TestClient, fake_rasa: FakeRasa) -> None:
    resp = client.post("/api/chat", json={"sender": "s2", "message": "老板\x00欠\x1b[0m我\x7f工资\ud800"})
    assert resp.status_code == 200, resp.text
    assert fake_rasa.webhook_calls[-1]["message"] == "老板欠[0m我工资"


def test_non_standard_numbers_are_refused(client: TestClient) -> None:
    for raw in (b'{"matter": "other", "monthly_income_per_capita": NaN}', b'{"monthly_income_per_capita": 1e400}',
                b'{"monthly_income_per_capita": -Infinity}'):
        resp = client.post("/api/eligibility", content=raw, headers={"content-type": "application/json"})
        assert resp.status_code == 422 and resp.json()["detail"] == "Malformed JSON"


def test_body_over_the_limit_is_413_even_when_chunked(client: TestClient) -> None:
    big = b'{"sender": "x", "message": "' + b"a" * (limits.max_body_bytes() + 10) + b'"}'
    resp = client.post("/api/eligibility", content=iter([big[:1000], big[1000:]]),
                       headers={"content-type": "application/json"})
    assert resp.status_code == 413 and resp.json()["message"] == limits.BODY_TOO_LARGE


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=20))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_json_at_any_json_door_is_never_5xx(client: TestClient, value: Any) -> None:
    for door in JSON_DOORS:
        assert_clear_4xx_or_polite(client.post(door, content=json.dumps(value).encode(),
                                               headers={"content-type": "application/json"}))


@given(st.text(max_size=300))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_chat_text_gets_an_answer_or_a_clear_4xx(client: TestClient, text: str) -> None:
    assert_clear_4xx_or_polite(client.post("/api/chat", json={"sender": "h", "message": text}))


@given(st.binary(max_size=400))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_bytes_at_the_chat_door_is_never_5xx(client: TestClient, body: bytes) -> None:
    assert_clear_4xx_or_polite(client.post("/api/chat", content=body, headers={"content-type": "application/json"}))


# --- WeChat, plain and encrypted -------------------------------------------------------------------------------

def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signed_query(nonce: str = "n0nce") -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, "openid": OPENID}


_msg_ids = iter(range(10_000_000, 20_000_000))


def text_xml(content: str) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_acc]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{next(_msg_ids)}</MsgId></xml>")


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                            for i in range(1, 10))
                  + ']><xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>'
                  '<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>')
XXE = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><ToUserName>a</ToUserName>'
       '<FromUserName>b</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&xxe;</Content>'
       '<MsgId>2</MsgId></xml>')

XML_BAD: list[tuple[str, bytes]] = [
    ("empty", b""),
    ("not_xml", b"hello"),
    ("json", b'{"sender": "x"}'),
    ("html", b"<html><body>hi</body></html>"),
    ("unclosed", b"<xml><ToUserName>a</ToUserName>"),
    ("no_msgtype", b"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName></xml>"),
    ("empty_fields", b"<xml><ToUserName></ToUserName><FromUserName></FromUserName><MsgType></MsgType></xml>"),
    ("invalid_utf8", text_xml("你好").encode().replace("你好".encode(), b"\xff\xfe\xc3\x28")),
    ("utf16", text_xml("你好").encode("utf-16")),
    ("control_chars_raw", text_xml("你\x00好\x1b").encode()),
    ("control_chars_ref", text_xml("x").replace("<![CDATA[x]]>", "&#0;&#27;&#xD800;").encode()),
    ("billion_laughs", BILLION_LAUGHS.encode()),
    ("xxe", XXE.encode()),
    ("hundred_thousand", text_xml(LONG).encode()),
    ("nested_junk", b"<xml>" + b"<a>" * 20_000 + b"</a>" * 20_000 + b"</xml>"),
    ("repeated_fields", text_xml("a").replace("<MsgType>", "<MsgType>x</MsgType><MsgType>").encode()),
    ("bad_createtime", text_xml("a").replace("<CreateTime>", "<CreateTime>abc").encode()),
    ("control_text_ok", text_xml("老板\x7f欠薪").encode()),
]


@pytest.fixture
def wechat_client(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    from hotline.settings import get_settings

    for name, value in {"WECHAT_TOKEN": TOKEN, "WECHAT_APP_ID": APP_ID, "WECHAT_APP_SECRET": "s",
                        "WECHAT_AES_KEY": AES_KEY, "WECHAT_API_BASE": "http://127.0.0.1:9"}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return client


def assert_wechat_ok_or_4xx(resp: Any) -> None:
    assert resp.status_code < 500, (resp.status_code, resp.text[:300])
    if resp.status_code == 200 and resp.text != "success":
        ET.fromstring(resp.text)  # a well-formed reply


@pytest.mark.parametrize("name,body", XML_BAD, ids=[n for n, _ in XML_BAD])
def test_wechat_plain(wechat_client: TestClient, fake_rasa: FakeRasa, name: str, body: bytes) -> None:
    for ctype in ("text/xml", "application/json", None):
        resp = wechat_client.post("/wechat", params=signed_query(), content=body,
                                  headers={"content-type": ctype} if ctype else {})
        assert_wechat_ok_or_4xx(resp)
    for call in fake_rasa.webhook_calls:
        assert not limits._CONTROL.search(call["message"]) and len(call["message"]) <= limits.MAX_MESSAGE_CHARS
        assert "root:" not in call["message"] and "lol" not in call["message"]


@pytest.mark.parametrize("name,body", XML_BAD, ids=[n for n, _ in XML_BAD])
def test_wechat_encrypted(wechat_client: TestClient, fake_rasa: FakeRasa, name: str, body: bytes) -> None:
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    q = signed_query(nonce="aes")
    try:
        envelope = crypto.encrypt_message(body.decode("utf-8"), q["nonce"], q["timestamp"])
    except UnicodeDecodeError:
        envelope = None
    if envelope is not None:  # bad XML inside a well-encrypted envelope
        params = {**q, "encrypt_type": "aes", "msg_signature": ET.fromstring(envelope).findtext("MsgSignature")}
        assert_wechat_ok_or_4xx(wechat_client.post("/wechat", params=params, content=envelope.encode()))
    # and the bad body as the envelope itself
    params = {**q, "encrypt_type": "aes", "msg_signature": "0" * 40}
    assert_wechat_ok_or_4xx(wechat_client.post("/wechat", params=params, content=body))
    for call in fake_rasa.webhook_calls:
        assert not limits._CONTROL.search(call["message"]) and len(call["message"]) <= limits.MAX_MESSAGE_CHARS


def test_wechat_entity_bombs_are_refused(wechat_client: TestClient, fake_rasa: FakeRasa) -> None:
    for body in (BILLION_LAUGHS, XXE):
        assert wechat_client.post("/wechat", params=signed_query(), content=body.encode()).status_code == 400
        with pytest.raises(ValueError):
            parse_message(body)
    assert fake_rasa.webhook_calls == []


def test_wechat_too_long_gets_the_limit_sentence(wechat_client: TestClient, fake_rasa: FakeRasa) -> None:
    resp = wechat_client.post("/wechat", params=signed_query(), content=text_xml("欠" * 2500).encode())
    assert resp.status_code == 200
    assert ET.fromstring(resp.text).findtext("Content") == limits.TOO_LONG
    assert fake_rasa.webhook_calls == []


def test_wechat_control_characters_are_cleaned(wechat_client: TestClient, fake_rasa: FakeRasa) -> None:
    resp = wechat_client.post("/wechat", params=signed_query(), content=text_xml("老板\x7f欠\x85薪").encode())
    assert resp.status_code == 200
    assert fake_rasa.webhook_calls[-1]["message"] == "老板欠薪"


@given(st.binary(max_size=600) | st.text(max_size=600).map(str.encode))
@settings(max_examples=200, deadline=None)
def test_parse_message_raises_only_value_error(data: bytes) -> None:
    with contextlib.suppress(ValueError):
        parse_message(data)


@given(st.text(max_size=200))
@settings(max_examples=100, deadline=None)
def test_parse_message_text_comes_out_clean(content: str) -> None:
    xml = text_xml(content.replace("]]>", ""))
    try:
        incoming = parse_message(xml.encode("utf-8", "surrogatepass"))
    except ValueError:
        return
    assert incoming.text is None or not limits._CONTROL.search(incoming.text)


# --- Telegram webhook ------------------------------------------------------------------------------------------

@pytest.fixture
def telegram_client() -> Iterator[StarletteClient]:
    from bot.telegram_bridge import build_application, webhook_app

    application = build_application("123456:TEST-token")
    app = webhook_app(application, "secret-1", "/telegram")
    with StarletteClient(app, raise_server_exceptions=False) as c:
        c.queue = application.update_queue  # type: ignore[attr-defined]
        yield c


TELEGRAM_BAD = [*JSON_BAD, Bad("update_without_message", b'{"update_id": 1}'),
                Bad("update_wrong_types", b'{"update_id": "x", "message": {"chat": 5, "text": []}}'),
                Bad("update_huge_text", json.dumps({"update_id": 2, "message": {
                    "message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"}, "text": LONG}}).encode())]


@pytest.mark.parametrize("bad", TELEGRAM_BAD, ids=lambda b: b.name)
def test_telegram_webhook(telegram_client: StarletteClient, bad: Bad) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": "secret-1"}
    if bad.content_type:
        headers["content-type"] = bad.content_type
    resp = telegram_client.post("/telegram", content=bad.body, headers=headers)
    assert resp.status_code < 500, resp.text[:300]
    if resp.status_code == 200:
        assert telegram_client.queue.qsize() == 1  # type: ignore[attr-defined]
        assert telegram_client.queue.get_nowait() is not None  # type: ignore[attr-defined]


def test_telegram_webhook_body_limit(telegram_client: StarletteClient) -> None:
    big = b'{"update_id": 1, "x": "' + b"a" * (limits.max_body_bytes() + 1) + b'"}'
    resp = telegram_client.post("/telegram", content=big, headers={"X-Telegram-Bot-Api-Secret-Token": "secret-1"})
    assert resp.status_code == 413


def test_nul_and_control_characters_on_every_database(engine: Any, fake_rasa: FakeRasa) -> None:
    """PostgreSQL refuses NUL in text: every door that reaches the database must never pass one on (→ no 500)."""
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        for door, body in (("/api/chat", {"sender": "x\x00", "message": "老板\x00欠薪"}),
                           ("/api/login", {"username": "op\x00", "password": "pw\x00"}),
                           ("/api/eligibility", {"matter": "other\x00", "groups": ["minor\x00"]})):
            assert_clear_4xx_or_polite(client.post(door, json=body))
        for url in ("/api/advisors?q=%00", "/api/advisors?q=%E4%B8%9C%00", "/api/chat/x%00/messages?since=0",
                    "/api/chat/x%00/history", "/api/chat/x/messages?since=%00"):
            assert_clear_4xx_or_polite(client.get(url))
