"""The one door to the Rasa server that every channel uses.

The raw chat id never leaves this module: Rasa (and so the actions and the database) only ever sees
`channel:hash`. Whatever goes wrong on the way, the citizen gets the polite fallback, never an exception.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import weakref
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import aiohttp
import httpx

from bot.held_turns import conversation_lock, held_store
from hotline.privacy import hash_sender
from hotline.settings import get_settings

log = logging.getLogger(__name__)

OFFICE_HOURS = "周一至周五 8:00-12:00 15:00-18:00"
FALLBACK_TEXT = (
    "抱歉，智能助手暂时无法回答。请直接拨打12348公共法律服务热线（24小时有人接听），"
    f"或在办公时间（{OFFICE_HOURS}）到所在街道司法所咨询。"
)

# The action server is down: the message is kept and handled when it is back (bot/held_turns.py).
HELD_TEXT = (
    "抱歉，系统正在恢复，您刚才说的已经记下，恢复后会接着办理，请稍后再发一条消息（例如“继续”）。"
    f"着急的话请直接拨打12348公共法律服务热线，或在办公时间（{OFFICE_HOURS}）到所在街道司法所咨询。"
)
ACTIONS_PROBE_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class BotMessage:
    text: str
    buttons: list[Button] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        return {"text": self.text, "buttons": [{"title": b.title, "payload": b.payload} for b in self.buttons]}


def fallback_messages() -> list[BotMessage]:
    return [BotMessage(FALLBACK_TEXT)]


def held_messages() -> list[BotMessage]:
    return [BotMessage(HELD_TEXT)]


def conversation_id(channel: str, sender_hash: str) -> str:
    """Rasa's conversation (sender) id for a hashed sender: what the actions and the handoff rows split apart."""
    return f"{channel}:{sender_hash}"


def rasa_sender(sender_id: str, channel: str, salt: str | None = None) -> str:
    """The sender id Rasa sees: `channel:` + the salted hash of the raw chat id."""
    return conversation_id(channel, hash_sender(sender_id, salt if salt is not None else get_settings().sender_salt))


def _to_messages(data: Any) -> list[BotMessage]:
    """Rasa's REST answer as BotMessages; raises ValueError when it is not the shape Rasa sends."""
    if not isinstance(data, list):
        raise ValueError("Rasa answer is not a list")
    out: list[BotMessage] = []
    for item in data:
        if not isinstance(item, dict):
            raise ValueError("Rasa message is not an object")
        text = item.get("text")
        raw_buttons = item.get("buttons") or []
        if not isinstance(raw_buttons, list):
            raise ValueError("buttons is not a list")
        buttons = [
            Button(str(b.get("title", "")), str(b.get("payload", b.get("title", ""))))
            for b in raw_buttons
            if isinstance(b, dict) and b.get("title")
        ]
        if not isinstance(text, str):
            # Images, custom payloads: nothing the channels can show, unless it carries buttons.
            if not buttons:
                continue
            text = ""
        out.append(BotMessage(text, buttons))
    return out


# The calls of the turns themselves go through aiohttp: with 32 turns in flight httpx spent ~5.6 ms of CPU per request
# in its connection pool, aiohttp 0.6 ms (scripts/bench_http_clients.py); a turn makes two or three calls. Answers
# come back as httpx.Response and failures as httpx errors, so callers (and a caller's own httpx client) see one API.
_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, aiohttp.ClientSession]] = \
    weakref.WeakKeyDictionary()
# Idle connections are closed by us before the server would (Rasa keeps them 120 s, the action server 5 s), so a
# turn never lands on a connection the server is closing.
KEEPALIVE_S = {"rasa": 60.0, "probe": 2.0}


def _session(kind: str = "rasa") -> aiohttp.ClientSession:
    """One pooled session per event loop and kind: Rasa's turns, and the action server's health checks apart."""
    loop = asyncio.get_running_loop()
    sessions = _sessions.setdefault(loop, {})
    session = sessions.get(kind)
    if session is None or session.closed:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256, keepalive_timeout=KEEPALIVE_S[kind]),
            trust_env=False, json_serialize=lambda o: json.dumps(o, ensure_ascii=False))
        sessions[kind] = session
    return session


async def close_sessions() -> None:
    """Close this event loop's sessions (the web app's shutdown)."""
    for session in _sessions.pop(asyncio.get_running_loop(), {}).values():
        await session.close()


def drop_sessions() -> None:
    """Close every loop's sessions at once, from outside any loop (a test's end, when its loop is gone): their
    connections are closed and nothing is left for the garbage collector to warn about."""
    for sessions in list(_sessions.values()):
        for session in sessions.values():
            if session.connector is not None:
                session.connector._close()  # aiohttp's synchronous close; `close()` needs the (finished) loop
    _sessions.clear()


async def _send(method: str, url: str, client: httpx.AsyncClient | None, *, kind: str = "rasa",
                body: Any = None, params: dict[str, str] | None = None, timeout: float) -> httpx.Response:
    """One HTTP call: through the caller's httpx client when given, else this process's aiohttp session."""
    if client is not None:
        return await client.request(method, url, json=body, params=params, timeout=timeout)
    request = httpx.Request(method, url, params=params)
    try:
        async with _session(kind).request(method, url, json=body, params=params,
                                          timeout=aiohttp.ClientTimeout(total=timeout, sock_connect=timeout)) as resp:
            content = await resp.read()
            # aiohttp has already undone any content-encoding: only the type goes along.
            return httpx.Response(resp.status, headers={"content-type": resp.headers.get("content-type", "")},
                                  content=content, request=request)
    except aiohttp.ClientConnectorError as exc:  # refused, unreachable: the server never saw the request
        raise httpx.ConnectError(str(exc), request=request) from exc
    except aiohttp.ServerTimeoutError as exc:
        if str(exc).startswith("Connection timeout"):
            raise httpx.ConnectTimeout(str(exc), request=request) from exc
        raise httpx.ReadTimeout(str(exc), request=request) from exc
    except asyncio.TimeoutError as exc:
        raise httpx.ReadTimeout("no answer in time", request=request) from exc
    except aiohttp.ClientError as exc:  # the connection broke after the request may have arrived
        raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc


def rasa_urls_for(conversation: str | None, urls: tuple[str, ...] | None = None) -> list[str]:
    """The Rasa processes to try for one conversation, best first: each conversation always lands on the same process
    (rendezvous hashing, so removing one process moves only its own conversations), the others follow as fail-over.

    Sticky routing is what keeps two processes from serving one conversation at the same moment: Rasa's
    RedisLockStore issues its tickets with a read-then-write that is not atomic across processes (RasaHQ/rasa#9213).
    """
    urls = urls if urls is not None else get_settings().rasa_urls
    if conversation is None or len(urls) < 2:
        return list(urls)
    return sorted(urls, key=lambda u: hashlib.sha256(f"{u}|{conversation}".encode()).digest(), reverse=True)


async def _request(
    method: str, path: str, client: httpx.AsyncClient | None, *, conversation: str | None = None,
    body: dict[str, Any] | list[dict[str, Any]] | None = None, params: dict[str, str] | None = None,
    timeout: float | None = None,
) -> httpx.Response:
    """One call to Rasa, to the conversation's own process, else the next one that takes the connection.

    Only a refused or timed-out *connection* moves on: the process never saw the request, so the turn cannot be
    processed twice. A slow answer or an error after the request was sent is the caller's to handle.
    """
    settings = get_settings()
    timeout = settings.rasa_timeout_s if timeout is None else timeout
    last: Exception | None = None
    for base in rasa_urls_for(conversation, settings.rasa_urls):
        try:
            return await _send(method, f"{base}{path}", client, body=body, params=params, timeout=timeout)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            log.warning("Rasa process %s refused the connection; trying the next one", base)
            last = exc
    assert last is not None
    raise last


def _api_params(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Query parameters of Rasa's HTTP API: its token (Rasa's --auth-token) and whatever the call adds."""
    return {"token": get_settings().rasa_token, **(extra or {})}


async def _post(
    path: str, body: dict[str, Any] | list[dict[str, Any]], client: httpx.AsyncClient | None, *,
    conversation: str | None = None, params: dict[str, str] | None = None,
) -> Any:
    resp = await _request("POST", path, client, conversation=conversation, body=body, params=params)
    resp.raise_for_status()
    return resp.json()


async def actions_alive(*, client: httpx.AsyncClient | None = None) -> bool:
    """Whether the action server answers its health check (True when the web app is not told where it is)."""
    settings = get_settings()
    if not settings.actions_url:
        return True
    parts = urlsplit(settings.actions_url)
    url = urlunsplit((parts.scheme, parts.netloc, "/health", "", ""))
    timeout = min(settings.rasa_timeout_s, ACTIONS_PROBE_TIMEOUT_S)
    try:
        resp = await _send("GET", url, client, kind="probe", timeout=timeout)
    except httpx.HTTPError:
        return False
    return resp.status_code == 200


def _state(events: list[dict[str, Any]]) -> tuple[dict[str, Any], str | None]:
    """Slots and active form after these tracker events (only what a turn can change)."""
    slots: dict[str, Any] = {}
    loop: str | None = None
    for e in events:
        kind = e.get("event")
        if kind == "slot":
            slots[e.get("name")] = e.get("value")
        elif kind == "active_loop":
            loop = e.get("name")
        elif kind in ("reset_slots", "restart"):
            slots, loop = {}, None
    return slots, loop


async def _rewind(conversation: str, client: httpx.AsyncClient | None) -> bool:
    """Undo what the last turn changed (slots, the active form): the failed turn leaves no trace but its words.

    Not Rasa's own `rewind` event: replaying a tracker, Rasa folds a form's happy-path turns together
    (DialogueStateTracker.applied_events), and a rewind inside a running form then reverts the whole form.
    """
    base = f"/conversations/{quote(conversation, safe=':')}/tracker"
    try:
        resp = await _request("GET", base, client, conversation=conversation,
                              params=_api_params({"include_events": "AFTER_RESTART"}))
        resp.raise_for_status()
        events = resp.json().get("events") or []
        users = [i for i, e in enumerate(events) if e.get("event") == "user"]
        if not users:
            return True
        (slots_before, loop_before), (slots_after, loop_after) = _state(events[:users[-1]]), _state(events)
        fix: list[dict[str, Any]] = [{"event": "slot", "name": name, "value": slots_before.get(name)}
                                     for name in slots_after if slots_after[name] != slots_before.get(name)]
        if loop_after != loop_before:
            fix.append({"event": "active_loop", "name": loop_before})
        if fix:
            await _post(f"{base}/events", fix, client, conversation=conversation,
                        params=_api_params({"include_events": "NONE"}))
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        log.warning("could not undo a failed turn: %s", type(exc).__name__)
        return False
    return True


async def forward_to_rasa(
    sender_id: str, text: str, channel: str, *, client: httpx.AsyncClient | None = None
) -> list[BotMessage]:
    """Send one user turn to Rasa's REST channel; the bot's answers in order, or a polite answer.

    While the action server is down the message is held (bot/held_turns.py), not sent: Rasa would run the turn
    without its custom actions and the answer would be lost or taken for the next question. A turn during which
    the action server went down is undone in Rasa (its slot changes reverted) and held too. Held messages go to Rasa, in order, before the
    citizen's next message once the action server is back. When Rasa itself is unreachable or too slow, the
    citizen gets the 12348 fallback.
    """
    conversation = rasa_sender(sender_id, channel)
    async with conversation_lock(conversation):
        held = held_store()
        if not await actions_alive(client=client):
            await held.hold(conversation, [text])
            log.warning("action server down: a %s message held", channel)
            return held_messages()
        queue = [*await held.take(conversation), text]
        out: list[BotMessage] = []
        for i, message in enumerate(queue):
            body = {"sender": conversation, "message": message}
            try:
                replies = _to_messages(await _post("/webhooks/rest/webhook", body, client, conversation=conversation))
            except (httpx.HTTPError, ValueError) as exc:  # ValueError covers undecodable JSON too
                log.warning("Rasa unavailable for %s turn: %s", channel, type(exc).__name__)
                # Messages not yet sent stay held, and so does this one when no Rasa process took the connection;
                # after any other failure it may have reached Rasa, and is not sent again.
                unreached = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
                await held.hold(conversation, queue[i if unreached else i + 1:])
                return [*out, *fallback_messages()]
            if not await actions_alive(client=client):
                if await _rewind(conversation, client):
                    await held.hold(conversation, queue[i:])
                    return [*out, *held_messages()]
                return [*out, *fallback_messages()]
            out.extend(replies)
        # Rasa answered but said nothing (no rule matched): the citizen still deserves an answer.
        return out or fallback_messages()


async def parse(text: str, *, client: httpx.AsyncClient | None = None) -> dict[str, Any]:
    """Rasa NLU on one text (`/model/parse`): {intent: {name, confidence}, entities: [...]}.

    Raises httpx.HTTPError or ValueError when Rasa is unavailable: the copilot reports it to the operator.
    """
    data = await _post("/model/parse", {"text": text}, client, params=_api_params())
    if not isinstance(data, dict) or not isinstance(data.get("intent"), dict):
        raise ValueError("Rasa parse answer has no intent")
    return data


async def resume_conversation(channel: str, sender_hash: str, *, client: httpx.AsyncClient | None = None) -> bool:
    """Un-pause a conversation paused by action_handoff (its handoff is closed): True when Rasa took the event.

    Never raises: the caller has already closed the handoff and only needs to tell the operator.
    """
    # include_events=NONE: Rasa would otherwise send the whole transcript back, citizen's words included.
    conv = conversation_id(channel, sender_hash)
    path = f"/conversations/{quote(conv, safe=':')}/tracker/events"
    try:
        await _post(path, {"event": "resume"}, client, conversation=conv,
                    params=_api_params({"include_events": "NONE"}))
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:  # ValueError: answer not JSON
        # The sender hash is a pseudonym of a citizen: log the channel and the failure only.
        log.warning("Rasa did not resume a %s conversation: %s", channel, type(exc).__name__)
        return False
    return True


async def rasa_alive(*, client: httpx.AsyncClient | None = None) -> bool:
    """Whether a Rasa server answers on its root URL (any of them, when several serve)."""
    settings = get_settings()
    try:
        resp = await _request("GET", "/", client, timeout=min(settings.rasa_timeout_s, 3.0))
    except httpx.HTTPError:
        return False
    return resp.status_code == 200
