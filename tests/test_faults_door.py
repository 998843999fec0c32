"""Faults at the door (bot/rasa_client.py), against fakes on loopback: several Rasa processes with sticky routing
and fail-over, the action server down (messages held, a failed turn rewound, held messages replayed in order), and
every Rasa process down (every channel answers with 12348 and office hours). The same faults on the real stack are
in tests/test_faults.py."""
from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse

from bot import held_turns, rasa_client
from bot.rasa_client import (
    FALLBACK_TEXT,
    HELD_TEXT,
    OFFICE_HOURS,
    RESUMED_TEXT,
    forward_to_rasa,
    rasa_sender,
    rasa_urls_for,
    resume_conversation,
)
from tests.fakes import rasa as rasa_fakes
from tests.fakes.rasa_events import FakeRasaWithEvents
from tests.fakes.server import LoopbackServer
from tests.stack import free_port


class FakeActions:
    """The action server's health check, switchable, counted."""

    def __init__(self) -> None:
        self.up = True
        self.checks = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/health")
        async def health() -> Any:
            self.checks += 1
            return JSONResponse({"status": "ok"}) if self.up else PlainTextResponse("down", status_code=503)

        return app


class FakeRasaWithTracker(FakeRasaWithEvents):
    """Also answers GET /conversations/{id}/tracker, with `tracker_events` as its events."""

    tracker_events: ClassVar[list[dict[str, Any]]] = []

    def app(self) -> FastAPI:
        app = super().app()

        @app.get("/conversations/{conversation_id}/tracker")
        async def tracker(conversation_id: str) -> Any:
            events = self.tracker_events
            slots = {e["name"]: e.get("value") for e in events if e.get("event") == "slot"}
            loops = [e.get("name") for e in events if e.get("event") == "active_loop"]
            return JSONResponse({"sender_id": conversation_id, "events": events, "slots": slots,
                                 "active_loop": {"name": loops[-1]} if loops and loops[-1] else {}})

        return app


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[list[tuple[FakeRasaWithEvents, str]], tuple[FakeActions, str]]]:
    rasas = [FakeRasaWithTracker(), FakeRasaWithTracker()]
    actions = FakeActions()
    with LoopbackServer(rasas[0].app()) as a, LoopbackServer(rasas[1].app()) as b, \
            LoopbackServer(actions.app()) as act:
        yield [(rasas[0], a.url), (rasas[1], b.url)], (actions, act.url)


@pytest.fixture
def door(servers: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[list[FakeRasaWithEvents], list[str], FakeActions]:
    """Two fake Rasa processes in RASA_URLS, the fake action server in HOTLINE_ACTIONS_URL, nothing held."""
    rasas, (actions, actions_url) = servers
    for fake, _ in rasas:
        fake.reset()
    actions.up = True
    urls = [url for _, url in rasas]
    monkeypatch.setenv("RASA_URLS", ",".join(urls))
    monkeypatch.setenv("HOTLINE_ACTIONS_URL", f"{actions_url}/webhook")
    monkeypatch.setenv("HOTLINE_RASA_TIMEOUT", "2.0")
    monkeypatch.setenv("HOTLINE_ACTIONS_WAIT_S", "0.3")
    monkeypatch.delenv("HOTLINE_REDIS_URL", raising=False)
    # Every turn asks the action server here, so a test sees the check of the moment it took the server down;
    # test_a_yes_is_kept_half_a_second_and_dropped_when_rasa_finds_no_action_server tests the kept yes.
    monkeypatch.setattr(rasa_client, "ALIVE_FOR_S", 0.0)
    from hotline.settings import get_settings

    get_settings.cache_clear()
    held_turns.reset_memory()
    rasa_client._down.clear()
    return [fake for fake, _ in rasas], urls, actions


def calls(fakes: list[FakeRasaWithEvents]) -> list[tuple[int, str, str]]:
    """(process index, sender, message) of every webhook call, process by process."""
    return [(i, c["sender"], c["message"]) for i, f in enumerate(fakes) for c in f.webhook_calls]


# --- several Rasa processes behind one door ------------------------------------------------------------------


async def test_each_conversation_stays_on_one_process_and_both_serve(door: Any) -> None:
    fakes, urls, _ = door
    for n in range(20):
        for _ in range(3):
            await forward_to_rasa(f"citizen-{n}", "你好", "web")
    by_sender: dict[str, set[int]] = {}
    for i, sender, _ in calls(fakes):
        by_sender.setdefault(sender, set()).add(i)
    assert len(by_sender) == 20 and all(len(p) == 1 for p in by_sender.values())  # sticky
    assert {i for p in by_sender.values() for i in p} == {0, 1}  # both processes get conversations
    for sender, [i] in ((s, list(p)) for s, p in by_sender.items()):
        assert rasa_urls_for(sender, tuple(urls))[0] == urls[i]


def test_removing_a_process_moves_only_its_conversations() -> None:
    urls = ("http://a:5005", "http://b:5005", "http://c:5005")
    moved = 0
    for n in range(300):
        conv = f"web:{n}"
        first = rasa_urls_for(conv, urls)[0]
        after = rasa_urls_for(conv, urls[:2])[0]
        if first != "http://c:5005":
            assert after == first
        else:
            moved += 1
    assert 60 < moved < 140  # about a third lived on c


async def test_a_process_that_refuses_connections_is_skipped(door: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fakes, urls, _ = door
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("RASA_URLS", f"{dead},{urls[1]}")
    from hotline.settings import get_settings

    get_settings.cache_clear()
    for n in range(10):
        [msg] = await forward_to_rasa(f"fail-over-{n}", "工钱没给", "web")
        assert msg.text == "收到：工钱没给"
    assert len(fakes[1].webhook_calls) == 10
    # The resume of a handoff fails over too.
    assert await resume_conversation("web", "c" * 64)


# --- a Rasa process that dies under a turn ----------------------------------------------------------------------


class DyingRasa:
    """A Rasa process that takes the connection, reads the request and dies before answering (as under SIGKILL)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.bodies: list[dict[str, Any]] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length")), b"0"))
            while len(body) < length:
                body += conn.recv(65536)
            if body:
                self.bodies.append(json.loads(body))
            conn.close()


async def test_a_turn_whose_process_dies_under_it_goes_to_the_next_with_its_id(
        door: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fakes, urls, _ = door
    dying = DyingRasa()
    monkeypatch.setenv("RASA_URLS", f"{dying.url},{urls[1]}")
    from hotline.settings import get_settings

    get_settings.cache_clear()
    monkeypatch.setattr(rasa_client, "PROBE_EVERY_S", 3600.0)  # stays marked down for this test
    home_first = next(n for n in range(50)
                      if rasa_urls_for(rasa_sender(f"dies-{n}", "web"), (dying.url, urls[1]))[0] == dying.url)
    try:
        [msg] = await forward_to_rasa(f"dies-{home_first}", "三万五", "web")
        assert msg.text == "收到：三万五"  # the citizen sees the answer, not the outage message
        [sent] = dying.bodies
        [again] = fakes[1].webhook_calls
        assert again["message"] == sent["message"]
        assert fakes[1].turn_ids == [sent["metadata"]["hotline_turn"]]  # the same turn, with the same id
        assert dying.url in rasa_client.rasa_down()
        # Marked down: the next turn goes straight to the living process, the dead one is not tried first.
        await forward_to_rasa(f"dies-{home_first}", "12个人", "web")
        assert len(dying.bodies) == 1 and len(fakes[1].webhook_calls) == 2
    finally:
        rasa_client._down.clear()
        dying.sock.close()


async def test_same_words_after_an_unanswered_turn_keep_its_id_answered_words_get_a_new_one(door: Any) -> None:
    fakes, _, _ = door
    for fake in fakes:
        fake.mode = "error"
    assert (await forward_to_rasa("resender", "是的", "web"))[0].text == FALLBACK_TEXT
    for fake in fakes:
        fake.mode = "ok"
    await forward_to_rasa("resender", "是的", "web")  # the same words again: the turn that got no answer
    await forward_to_rasa("resender", "是的", "web")  # answered already: a new turn (the next yes/no question)
    ids = [t for f in fakes for t in f.turn_ids]
    assert len(ids) == 3 and ids[0] == ids[1] != ids[2]
    # A channel's own message id is the turn id, whatever the words.
    await forward_to_rasa("resender", "没有", "web", message_id="m-1")
    assert "web:m-1" in [t for f in fakes for t in f.turn_ids]


# --- the action server down ----------------------------------------------------------------------------------


async def test_turns_at_once_share_one_health_check_turns_one_after_another_each_ask(door: Any) -> None:
    """Issue 28: every turn asked the action server's health of its own; turns arriving while a check is on its way
    now take its answer. One after another, each turn still asks (a server gone since is seen by the next turn)."""
    import asyncio

    fakes, _, actions = door
    actions.checks = 0
    await asyncio.gather(*(forward_to_rasa(f"crowd-{n}", "你好", "web") for n in range(12)))
    assert len(fakes[0].webhook_calls) + len(fakes[1].webhook_calls) == 12
    assert 1 <= actions.checks <= 3
    actions.checks = 0
    for n in range(3):
        await forward_to_rasa(f"crowd-{n}", "谢谢", "web")
    assert actions.checks == 3
    actions.up = False
    [msg] = await forward_to_rasa("crowd-0", "三万五", "web")
    assert msg.text == HELD_TEXT  # the check after the server went down says so


async def test_a_yes_is_kept_half_a_second_and_dropped_when_rasa_finds_no_action_server(
        door: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 28: a crowd of 32 still asked 505 times in 848 turns. A yes is kept for ALIVE_FOR_S; a server that dies
    within it is found by Rasa (which answers the unavailable mark after its retries) and the next turn asks again."""
    fakes, _, actions = door
    monkeypatch.setattr(rasa_client, "ALIVE_FOR_S", 60.0)
    actions.checks = 0
    for n in range(5):
        await forward_to_rasa(f"kept-{n}", "你好", "web")
    assert actions.checks == 1  # asked once, kept for the next four
    actions.up = False
    unavailable = [{"custom": rasa_client.UNAVAILABLE_MARK}]  # what Rasa answers when its action calls fail
    fakes[0].reply = fakes[1].reply = lambda sender, message: unavailable
    [msg] = await forward_to_rasa("kept-0", "三万五", "web")
    assert msg.text == HELD_TEXT  # the kept yes took the turn to Rasa; Rasa's answer held it
    fakes[0].reply = fakes[1].reply = rasa_fakes.echo_reply
    sent, asked = len(calls(fakes)), actions.checks
    [msg] = await forward_to_rasa("kept-0", "12个人", "web")
    assert msg.text == HELD_TEXT and actions.checks > asked  # the yes was dropped: this turn asked, was told no
    assert len(calls(fakes)) == sent  # and Rasa was not troubled with it
    actions.up = True
    asked = actions.checks
    replies = await forward_to_rasa("kept-0", "半年", "web")
    assert replies[0].text == RESUMED_TEXT and actions.checks == asked + 1


def asking(slot: str) -> list[dict[str, Any]]:
    """A tracker whose wage-claim form asks `slot`."""
    return [{"event": "active_loop", "name": "wage_claim_form"},
            {"event": "slot", "name": "requested_slot", "value": slot}]


async def test_action_server_down_holds_the_message_and_replays_it_in_order(door: Any) -> None:
    fakes, _, actions = door
    await forward_to_rasa("worker-1", "我要讨薪", "web")
    actions.up = False
    [msg] = await forward_to_rasa("worker-1", "三万五", "web")
    assert msg.text == HELD_TEXT and "12348" in msg.text and OFFICE_HOURS in msg.text
    assert "继续" not in msg.text  # nothing to type: the bot carries on by itself
    [msg] = await forward_to_rasa("worker-1", "12个人", "web")
    assert msg.text == HELD_TEXT
    assert [m for _, _, m in calls(fakes)] == ["我要讨薪"]  # Rasa saw neither while its actions were down
    actions.up = True
    replies = await forward_to_rasa("worker-1", "半年", "web")
    assert [m for _, _, m in calls(fakes)] == ["我要讨薪", "三万五", "12个人", "半年"]
    assert [r.text for r in replies] == [RESUMED_TEXT, "收到：三万五", "收到：12个人", "收到：半年"]
    assert await held_turns.held_store().take(rasa_sender("worker-1", "web")) == []


async def test_held_answers_go_to_the_question_they_were_said_to(door: Any) -> None:
    """The issue's evening: 「没签」 said three times to the contract question while the action server restarts."""
    fakes, _, actions = door
    state = {"slot": "has_contract"}
    order = ["has_contract", "evidence", "street"]

    def form(sender: str, message: str) -> list[dict[str, Any]]:
        state["slot"] = order[min(order.index(state["slot"]) + 1, len(order) - 1)]
        return [{"text": f"问：{state['slot']}"}]

    for fake in fakes:
        fake.reply = form
        fake.parse_result = lambda t: {"text": t, "intent": {"name": "deny" if "没" in t else "request_human",
                                                             "confidence": 0.9}, "entities": []}
    FakeRasaWithTracker.tracker_events = property(lambda self: asking(state["slot"]))  # type: ignore[assignment]
    try:
        actions.up = False
        for _ in range(3):
            assert (await forward_to_rasa("repeater", "没签", "web"))[0].text == HELD_TEXT
        assert (await forward_to_rasa("repeater", "没签合同", "web"))[0].text == HELD_TEXT
        actions.up = True
        replies = await forward_to_rasa("repeater", "没签", "web")
        # Once, to the contract question; the rest were said to it too and answer nothing else.
        assert [m for _, _, m in calls(fakes)] == ["没签"]
        assert state["slot"] == "evidence"
        assert replies[0].text.startswith(RESUMED_TEXT) and "没签合同" in replies[0].text
        assert replies[-1].text == "问：evidence"
        # A held request that is not an answer still goes: 「转人工」 is not dropped with the repeats.
        actions.up = False
        await forward_to_rasa("repeater", "有欠条", "web")
        await forward_to_rasa("repeater", "转人工", "web")
        actions.up = True
        await forward_to_rasa("repeater", "有欠条", "web")
        assert [m for _, _, m in calls(fakes)] == ["没签", "有欠条", "转人工"]
    finally:
        FakeRasaWithTracker.tracker_events = []  # type: ignore[assignment]


async def test_a_turn_rasa_abandons_without_an_action_server_is_held_and_replayed_with_its_id(door: Any) -> None:
    fakes, _, _actions = door
    for fake in fakes:
        fake.reply = lambda s, m: [{"recipient_id": s, "custom": {"hotline": "actions_unavailable"}}]
    [msg] = await forward_to_rasa("worker-2", "三万五", "wechat")
    assert msg.text == HELD_TEXT
    assert not [e for f in fakes for e in f.event_calls]  # nothing to undo: Rasa saved nothing of the turn
    for fake in fakes:
        fake.reply = rasa_fakes.echo_reply
    replies = await forward_to_rasa("worker-2", "12个人", "wechat")
    bodies = [c for f in fakes for c in f.webhook_calls]
    ids = [t for f in fakes for t in f.turn_ids]
    assert [b["message"] for b in bodies] == ["三万五", "三万五", "12个人"]
    assert ids[0] == ids[1] != ids[2]  # the same turn: Rasa applies it once
    assert [r.text for r in replies] == [RESUMED_TEXT, "收到：三万五", "收到：12个人"]


async def test_held_messages_stay_held_while_no_rasa_process_answers(door: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _fakes, _urls, actions = door
    actions.up = False
    await forward_to_rasa("worker-3", "三万五", "web")
    actions.up = True
    monkeypatch.setenv("RASA_URLS", f"http://127.0.0.1:{free_port()}")  # refused: Rasa never saw anything
    from hotline.settings import get_settings

    get_settings.cache_clear()
    try:
        [msg] = await forward_to_rasa("worker-3", "12个人", "web")
    finally:
        rasa_client._down.clear()
    assert msg.text == FALLBACK_TEXT
    assert [h.text for h in await held_turns.held_store().take(rasa_sender("worker-3", "web"))] == ["三万五", "12个人"]


async def test_a_replay_rasa_failed_stays_held_with_its_ids(door: Any) -> None:
    fakes, _urls, actions = door
    actions.up = False
    await forward_to_rasa("worker-4", "三万五", "web")
    actions.up = True
    for fake in fakes:
        fake.mode = "error"  # Rasa took the request and failed: it may have stored it, and will know its id
    [msg] = await forward_to_rasa("worker-4", "12个人", "web")
    assert msg.text == FALLBACK_TEXT
    held = await held_turns.held_store().take(rasa_sender("worker-4", "web"))
    assert [h.text for h in held] == ["三万五", "12个人"]
    assert held[0].turn in [t for f in fakes for t in f.turn_ids]  # sent again later under the same id


# --- every Rasa process down: every channel answers with 12348 and office hours --------------------------------


@pytest.fixture
def rasa_all_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_URLS", f"http://127.0.0.1:{free_port()},http://127.0.0.1:{free_port()}")
    monkeypatch.delenv("HOTLINE_ACTIONS_URL", raising=False)
    monkeypatch.setenv("HOTLINE_RASA_TIMEOUT", "2.0")
    from hotline.settings import get_settings

    get_settings.cache_clear()
    held_turns.reset_memory()


def assert_polite(text: str) -> None:
    assert "12348" in text and OFFICE_HOURS in text


async def test_rasa_down_web_chat(rasa_all_down: None) -> None:
    from bot.app import create_app

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url="http://t") as client:
        resp = await client.post("/api/chat", json={"sender": "browser-1", "message": "工钱没给"})
    assert resp.status_code == 200
    assert_polite(resp.json()["messages"][0]["text"])


async def test_rasa_down_wechat(rasa_all_down: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import xml.etree.ElementTree as ET

    from bot.app import create_app
    from hotline.settings import get_settings

    token, openid = "wx-fault-token", "oFault-openid"
    monkeypatch.setenv("WECHAT_TOKEN", token)
    for name in ("WECHAT_AES_KEY", "WECHAT_APP_ID", "WECHAT_APP_SECRET"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    ts, nonce = str(int(time.time())), "n0nce"
    signature = hashlib.sha1("".join(sorted([token, ts, nonce])).encode()).hexdigest()
    xml = (f"<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
           f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
           f"<Content><![CDATA[工钱没给]]></Content><MsgId>42</MsgId></xml>")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url="http://t") as client:
        resp = await client.post("/wechat", params={"signature": signature, "timestamp": ts, "nonce": nonce,
                                                    "openid": openid}, content=xml.encode())
    assert resp.status_code == 200, resp.text
    assert_polite(ET.fromstring(resp.text).findtext("Content") or "")


@pytest.fixture(scope="module")
def bot_api() -> Iterator[tuple[Any, str]]:
    """The fake Bot API, started outside any test's event loop (uvicorn sets the loop policy when it starts)."""
    from tests.fakes.telegram import FakeBotApi

    fake = FakeBotApi()
    with LoopbackServer(fake.app()) as srv:
        yield fake, srv.url


@pytest.fixture
async def telegram(rasa_all_down: None, bot_api: tuple[Any, str]) -> AsyncIterator[tuple[Any, Any]]:
    from bot.telegram_bridge import build_application

    fake, url = bot_api
    fake.reset()
    application = build_application("123456:FAULT-token", base_url=f"{url}/bot")
    async with application:
        yield application, fake


async def test_rasa_down_telegram(telegram: tuple[Any, Any]) -> None:
    from telegram import Update

    application, fake = telegram
    update = {"update_id": 1, "message": {
        "message_id": 1, "date": int(time.time()), "text": "工钱没给",
        "from": {"id": 77, "is_bot": False, "first_name": "阿强"}, "chat": {"id": 77, "type": "private"}}}
    await application.process_update(Update.de_json(update, application.bot))
    assert_polite(fake.sent()[-1]["text"])


async def test_a_held_web_chat_resumes_by_itself_and_the_page_gets_the_answers(
        door: Any, engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from hotline.store import transcripts
    from hotline.store.db import session_scope

    fakes, _, actions = door
    monkeypatch.setattr(rasa_client, "RESUME_POLL_S", 0.05)
    actions.up = False
    assert (await forward_to_rasa("waits", "三万五", "web"))[0].text == HELD_TEXT
    actions.up = True
    conversation = rasa_sender("waits", "web")
    for _ in range(100):  # no message from the citizen: the door carries on by itself
        await asyncio.sleep(0.05)
        with session_scope() as session:
            pushed, _ = transcripts.pushed_since(session=session, conversation_id=conversation, since=0)
            texts = [m.text for m in pushed]
        if texts:
            break
    assert texts == [RESUMED_TEXT, "收到：三万五"]
    assert [m for _, _, m in calls(fakes)] == ["三万五"]
    assert await held_turns.held_store().take(conversation) == []


async def test_a_turn_waits_a_little_when_every_rasa_process_is_restarting(
        door: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fakes, _, _ = door
    real_send = rasa_client._send
    refusals = iter([True, True, True])  # both refuse, then one of them is back

    async def restarting(method: str, url: str, client: Any, **kwargs: Any) -> Any:
        if "/webhooks/" in url and next(refusals, False):
            raise httpx.ConnectError("refused")
        return await real_send(method, url, client, **kwargs)

    monkeypatch.setattr(rasa_client, "_send", restarting)
    monkeypatch.setattr(rasa_client, "PROBE_EVERY_S", 3600.0)
    try:
        [msg] = await forward_to_rasa("patient", "三万五", "web")
    finally:
        rasa_client._down.clear()
    assert msg.text == "收到：三万五"  # a slower answer, not the outage message
    assert [m for _, _, m in calls(fakes)] == ["三万五"]


async def test_a_crowd_on_one_hash_home_is_shared_and_each_process_takes_its_limit_at_once(
        door: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """12 citizens at once whose conversations all hash to the first process: the door places some on the second
    (bot/rasa_placement.py), never has more than HOTLINE_RASA_CONCURRENCY turns inside either, and each citizen's next
    turn goes where their first went; every citizen gets their own answer."""
    import asyncio

    fakes, urls, _ = door
    monkeypatch.setenv("HOTLINE_RASA_CONCURRENCY", "2")
    from hotline.settings import get_settings

    get_settings.cache_clear()
    for fake in fakes:
        fake.delay_s = 0.1
    senders = [s for s in (f"crowd-{n}" for n in range(400))
               if rasa_urls_for(rasa_sender(s, "web"), tuple(urls))[0] == urls[0]][:12]
    answers = await asyncio.gather(*(forward_to_rasa(s, "三万五", "web") for s in senders))
    assert [a[0].text for a in answers] == ["收到：三万五"] * 12
    first = {sender: i for i, sender, _ in calls(fakes)}
    assert set(first.values()) == {0, 1}  # shared, though all hash to the first
    assert all(f.most_inside <= 2 for f in fakes) and fakes[0].most_inside == 2
    for fake in fakes:
        fake.reset()
    await asyncio.gather(*(forward_to_rasa(s, "12个人", "web") for s in senders))
    assert {sender: i for i, sender, _ in calls(fakes)} == first  # each stayed where it was placed
