"""The one door to the Rasa server that every channel uses.

The raw chat id never leaves this module: Rasa (and so the actions and the database) only ever sees
`channel:hash`. Whatever goes wrong on the way, the citizen gets the polite fallback, never an exception.
"""
from __future__ import annotations

import asyncio
import functools
import itertools
import json
import logging
import time
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import aiohttp
import httpx

from bot import metrics, rasa_placement, turn_journal
from bot.held_turns import HeldTurn, conversation_lock, held_store
from hotline import wording
from hotline.office_hours import office_hours
from hotline.privacy import hash_sender
from hotline.settings import DEFAULT_ACTIONS_WAIT_S, DEFAULT_RASA_WAIT_S, get_settings

log = logging.getLogger(__name__)

# What the door says when no Rasa answers (FALLBACK_TEXT) and, when no action server answers, that the message is
# kept and handled when one is back (HELD_TEXT, bot/held_turns.py: the citizen is asked for nothing). Both are
# domain/doors.yml's, with the 12348 line and the office hours of hotline/office_hours.yml (OFFICE_HOURS) filled in
# when said, so an edit of the hours file is what the next citizen reads.
_DOOR_TEXTS = {"FALLBACK_TEXT": "utter_door_fallback", "HELD_TEXT": "utter_door_held"}


def __getattr__(name: str) -> str:
    """FALLBACK_TEXT, HELD_TEXT and OFFICE_HOURS, read from their homes at each use."""
    if name in _DOOR_TEXTS:
        return wording.door(_DOOR_TEXTS[name])
    if name == "OFFICE_HOURS":
        return office_hours().label
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# Said before the answers of a replay: where the conversation stands.
RESUMED_TEXT = "系统已恢复，您刚才说的已经按当时的问题记下，接着办理。"
RESUMED_SKIPPED_TEXT = ("系统已恢复，您刚才说的已经按当时的问题记下，接着办理。"
                        "您后来发的「{words}」是对已经回答过的问题说的，没有当作下一个问题的回答。")
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
    return [BotMessage(wording.door("utter_door_fallback"))]


def held_messages() -> list[BotMessage]:
    return [BotMessage(wording.door("utter_door_held"))]


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
    _down.clear()  # what one loop's turns found down is no news to the next (a test's processes are its own)
    rasa_placement.forget()


@functools.lru_cache(maxsize=256)
def _request_for(method: str, url: str) -> httpx.Request:
    """The httpx.Request an answer names (its errors and raise_for_status read it): one per method and URL without
    parameters, as each turn's webhook call is — parsing the URL anew was 4% of the door's CPU (issue 28)."""
    return httpx.Request(method, url)


async def _send(method: str, url: str, client: httpx.AsyncClient | None, *, kind: str = "rasa",
                body: Any = None, params: dict[str, str] | None = None, timeout: float) -> httpx.Response:
    """One HTTP call: through the caller's httpx client when given, else this process's aiohttp session."""
    if client is not None:
        return await client.request(method, url, json=body, params=params, timeout=timeout)
    request = _request_for(method, url) if params is None else httpx.Request(method, url, params=params)
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
    """The Rasa processes by rendezvous hash for one conversation, best first (bot.rasa_placement.home_order): where a
    conversation lives unless its process had more than its share of the turns in flight when it began.

    Each conversation stays on one process (bot.rasa_placement) because Rasa's RedisLockStore issues its tickets with
    a read-then-write that is not atomic across processes (RasaHQ/rasa#9213).
    """
    return rasa_placement.home_order(conversation, urls if urls is not None else get_settings().rasa_urls)


# --- which Rasa processes are down ---------------------------------------------------------------------------------
# A process that refused a connection or died under a request is marked down here and skipped by every turn (it is
# still tried last, when every other one failed too); a background task asks it `GET /` every PROBE_EVERY_S and
# marks it up when it answers — a restarted Rasa listens only once its model is loaded. No citizen's turn waits for
# a dead process.
PROBE_EVERY_S = 0.5
_down: dict[str, float] = {}  # base URL → since (monotonic)
_probers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]] = weakref.WeakKeyDictionary()


def rasa_down() -> dict[str, float]:
    """The Rasa processes this web app has marked down, with how long ago (s): /healthz and /metrics show them."""
    now = time.monotonic()
    return {url: round(now - since, 1) for url, since in _down.items()}


def _mark_down(base: str) -> None:
    if base not in _down:
        log.warning("Rasa process %s marked down; its conversations go to the next one", base)
        _down[base] = time.monotonic()
    loop = asyncio.get_running_loop()
    task = _probers.get(loop)
    if task is None or task.done():
        _probers[loop] = loop.create_task(_probe_down())


async def _probe_down() -> None:
    while _down:
        await asyncio.sleep(PROBE_EVERY_S)
        for base in list(_down):
            try:
                resp = await _send("GET", f"{base}/", None, kind="probe", timeout=1.0)
            except httpx.HTTPError:
                continue
            if resp.status_code == 200:
                _down.pop(base, None)
                log.warning("Rasa process %s answers again", base)


def _ordered(conversation: str | None, urls: tuple[str, ...]) -> list[str]:
    """The conversation's process first, then the others by hash; those marked down at the end (in their order)."""
    return rasa_placement.place(conversation, urls, _down)


# A call that broke after it was sent: the process died under it (SIGKILL closes its sockets) or the connection reset.
_BROKEN = (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError)


async def _request(
    method: str, path: str, client: httpx.AsyncClient | None, *, conversation: str | None = None,
    body: dict[str, Any] | list[dict[str, Any]] | None = None, params: dict[str, str] | None = None,
    timeout: float | None = None, idempotent: bool | None = None,
) -> httpx.Response:
    """One call to Rasa, to the conversation's own process, else the next one that takes it.

    A refused connection moves on: the process never saw the request. A call that broke after it was sent moves on
    too when it is idempotent — a read, or a turn carrying its id (Rasa applies a turn id once,
    rasa_runtime/hotline_rasa/resilience.py): the next process shares the tracker store and either finds the turn
    done or does it. A slow answer (time-out) does not move on: the process may still be running the turn.
    """
    settings = get_settings()
    timeout = settings.rasa_timeout_s if timeout is None else timeout
    idempotent = method == "GET" if idempotent is None else idempotent
    # Every process refused or died under the call (both restarting at once): a turn waits a little for one to come
    # back, asking again with backoff, before the citizen is given the fallback — a slower answer, not none.
    deadline = time.monotonic() + (min(settings.rasa_wait_s, timeout)
                                   if idempotent and method == "POST" else 0.0)
    pauses = iter((0.25, 0.5, 1.0))
    while True:
        try:
            return await _try_each(method, path, client, conversation, body, params, timeout, idempotent)
        except (httpx.ConnectError, httpx.ConnectTimeout, *_BROKEN):
            pause = next(pauses, 1.0)
            if time.monotonic() + pause > deadline:
                raise
            await asyncio.sleep(pause)


RASA_WAIT_S = DEFAULT_RASA_WAIT_S  # Settings.rasa_wait_s overrides; never longer than the time-out of one call


async def _try_each(method: str, path: str, client: httpx.AsyncClient | None, conversation: str | None,
                    body: Any, params: dict[str, str] | None, timeout: float, idempotent: bool) -> httpx.Response:
    """The call to each Rasa process in turn (_ordered) until one takes it; the last failure when none does."""
    last: Exception | None = None
    settings = get_settings()
    for base in _ordered(conversation, settings.rasa_urls):
        try:
            async with rasa_placement.in_flight(base, settings.rasa_concurrency, timeout) as waited:
                # The time in line counts against the call's time-out: a citizen waits one time-out, not two.
                return await _send(method, f"{base}{path}", client, body=body, params=params,
                                   timeout=max(timeout - waited, 0.1))
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            log.warning("Rasa process %s refused the connection; trying the next one", base)
            _mark_down(base)
            metrics.FAILOVERS.labels("refused").inc()
            last = exc
        except _BROKEN as exc:
            if not idempotent:
                raise
            log.warning("Rasa process %s broke off a call (%s); trying the next one", base, type(exc).__name__)
            _mark_down(base)
            metrics.FAILOVERS.labels("broken").inc()
            last = exc
    assert last is not None
    raise last


def _api_params(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Query parameters of Rasa's HTTP API: its token (Rasa's --auth-token) and whatever the call adds."""
    return {"token": get_settings().rasa_token, **(extra or {})}


async def _post(
    path: str, body: dict[str, Any] | list[dict[str, Any]], client: httpx.AsyncClient | None, *,
    conversation: str | None = None, params: dict[str, str] | None = None, idempotent: bool = False,
) -> Any:
    resp = await _request("POST", path, client, conversation=conversation, body=body, params=params,
                          idempotent=idempotent)
    resp.raise_for_status()
    return resp.json()


# --- the action servers ----------------------------------------------------------------------------------------------
# Before a turn the door makes sure an action server answers; while none does it asks again with backoff for
# ACTIONS_WAIT_S (a restart takes 2-3 s), and only then holds the message. Rasa itself retries a call that fails
# mid-turn (resilience.py), so a turn is never run without its actions.
ACTIONS_WAIT_S = DEFAULT_ACTIONS_WAIT_S  # Settings.actions_wait_s (HOTLINE_ACTIONS_WAIT_S) overrides
ACTIONS_PAUSES_S = (0.1, 0.2, 0.4, 0.8, 1.0)


# Turns that arrive while a health check is on its way take its answer instead of asking again: with 32 turns in
# flight every turn asked its own (a request for the door and one for the action server, each turn). And a yes is
# kept for ALIVE_FOR_S: even shared, a crowd of 32 asked 505 times in 848 turns (issue 28). A no is never kept, and
# a turn that Rasa abandoned for want of an action server (ActionsUnavailable) drops the kept yes: the server died
# within that half second, Rasa's own retries caught it, and the next turn asks afresh.
ALIVE_FOR_S = 0.5
_asking: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[bool]] = weakref.WeakKeyDictionary()
_alive_at: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, float] = weakref.WeakKeyDictionary()


async def actions_alive(*, client: httpx.AsyncClient | None = None) -> bool:
    """Whether an action server answers its health check (True when the web app is not told where any is): a yes of
    the last ALIVE_FOR_S, else the check on its way when there is one (see _asking)."""
    if client is not None:
        return await _ask_actions(client)
    loop = asyncio.get_running_loop()
    if time.monotonic() - _alive_at.get(loop, -ALIVE_FOR_S) < ALIVE_FOR_S:
        return True
    task = _asking.get(loop)
    if task is None or task.done():
        task = loop.create_task(_ask_actions(None))
        _asking[loop] = task
    alive = await asyncio.shield(task)  # a turn given up on does not cancel the others' check
    if alive:
        _alive_at[loop] = time.monotonic()
    else:
        _alive_at.pop(loop, None)
    return alive


def _actions_failed() -> None:
    """Rasa could not reach an action server during a turn: the next turn asks, whatever was seen before."""
    _alive_at.pop(asyncio.get_running_loop(), None)


async def _ask_actions(client: httpx.AsyncClient | None) -> bool:
    settings = get_settings()
    urls = settings.actions_urls or ((settings.actions_url,) if settings.actions_url else ())
    if not urls:
        return True
    timeout = min(settings.rasa_timeout_s, ACTIONS_PROBE_TIMEOUT_S)
    for webhook in urls:
        parts = urlsplit(webhook)
        try:
            resp = await _send("GET", urlunsplit((parts.scheme, parts.netloc, "/health", "", "")), client,
                               kind="probe", timeout=timeout)
        except httpx.HTTPError:
            continue
        if resp.status_code == 200:
            return True
    return False


async def actions_ready(*, client: httpx.AsyncClient | None = None, wait_s: float | None = None) -> bool:
    """actions_alive, asked again with backoff for up to `wait_s` (ACTIONS_WAIT_S) while no action server answers."""
    if wait_s is None:
        wait_s = get_settings().actions_wait_s
    deadline = time.monotonic() + wait_s
    for i in itertools.count():
        if await actions_alive(client=client):
            return True
        pause = ACTIONS_PAUSES_S[min(i, len(ACTIONS_PAUSES_S) - 1)]
        if time.monotonic() + pause > deadline:
            return False
        await asyncio.sleep(pause)
    return False  # pragma: no cover


# --- one turn, and the held ones ------------------------------------------------------------------------------------
TURN_KEY = "hotline_turn"  # the REST metadata key Rasa reads the turn id from (hotline_rasa/resilience.py)
# Intents that answer the question open when they were said: a held one whose question is gone is not replayed.
ANSWER_INTENTS = frozenset({"inform", "affirm", "deny", "nlu_fallback", "greet", "thank"})


class ActionsUnavailable(Exception):
    """Rasa abandoned the turn unsaved: no action server answered within its retry budget."""


async def _turn(conversation: str, text: str, turn: str, client: httpx.AsyncClient | None) -> list[BotMessage]:
    """One turn to Rasa with its id; the bot's answers. Raises ActionsUnavailable, httpx.HTTPError, ValueError."""
    body = {"sender": conversation, "message": text, "metadata": {TURN_KEY: turn}}
    data = await _post("/webhooks/rest/webhook", body, client, conversation=conversation, idempotent=True)
    if isinstance(data, list) and any(isinstance(m, dict) and (m.get("custom") or {}) == UNAVAILABLE_MARK
                                      for m in data):
        _actions_failed()  # whatever the door saw before, the next turn asks
        raise ActionsUnavailable()
    return _to_messages(data)


UNAVAILABLE_MARK = {"hotline": "actions_unavailable"}


async def open_question(conversation: str, client: httpx.AsyncClient | None) -> str | None:
    """The question the conversation has open: `form:slot` while a form asks, else `bot:<response>` of the bot's
    last words, None when it asked nothing (or Rasa could not say)."""
    try:
        resp = await _request("GET", f"/conversations/{quote(conversation, safe=':')}/tracker", client,
                              conversation=conversation, params=_api_params({"include_events": "AFTER_RESTART"}))
        resp.raise_for_status()
        tracker = resp.json()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("open question unknown: %s", type(exc).__name__)
        return None
    loop = (tracker.get("active_loop") or {}).get("name")
    slot = (tracker.get("slots") or {}).get("requested_slot")
    if loop and slot:
        return f"{loop}:{slot}"
    for e in reversed(tracker.get("events") or []):
        if e.get("event") == "user":
            return None
        if e.get("event") == "bot":
            return "bot:" + str((e.get("metadata") or {}).get("utter_action") or e.get("text") or "")
    return None


def _same(a: HeldTurn, b: HeldTurn) -> bool:
    return a.question == b.question and a.text.strip(" 。.!！,，") == b.text.strip(" 。.!！,，")


async def _still_meant(item: HeldTurn, question: str | None, client: httpx.AsyncClient | None) -> bool:
    """Whether a held message goes to Rasa now that `question` is open: always when it was said to that question;
    when its question has been answered meanwhile, only if it is not an answer (「转人工」, a new matter)."""
    if item.question == question:
        return True
    if item.text.startswith("/"):  # a button of the old question
        return False
    try:
        intent = ((await parse(item.text, client=client)).get("intent") or {}).get("name")
    except (httpx.HTTPError, ValueError):
        return False
    return intent not in ANSWER_INTENTS


async def _replay(conversation: str, queue: list[HeldTurn], client: httpx.AsyncClient | None,
                  channel: str) -> list[BotMessage]:
    """Held messages (and the one just sent, tagged as they are), each applied to the question it was said to.

    A repeat of the same words to the same question goes once; a message whose question was answered by an earlier
    one is not taken for the answer to the next question (the citizen never saw it); the citizen is told the bot
    is back and where it stands. Raises as _turn; what is not yet sent is then held again.
    """
    out: list[BotMessage] = []
    sent: list[HeldTurn] = []
    skipped: list[HeldTurn] = []
    question = await open_question(conversation, client)
    for i, item in enumerate(queue):
        if any(_same(item, s) for s in sent):
            continue
        if not await _still_meant(item, question, client):
            skipped.append(item)
            continue
        try:
            out.extend(await _turn(conversation, item.text, item.turn, client))
        except BaseException:
            await held_store().hold(conversation, queue[i:])
            raise
        sent.append(item)
        if i + 1 < len(queue):
            question = await open_question(conversation, client)
    if skipped:
        log.warning("%d held %s message(s) not replayed: their question was already answered", len(skipped), channel)
    notice = RESUMED_TEXT if not skipped else RESUMED_SKIPPED_TEXT.format(
        words="」「".join(dict.fromkeys(s.text for s in skipped)))
    return [BotMessage(notice), *out]


# --- resuming by itself --------------------------------------------------------------------------------------------
# A web chat whose message was held is resumed without waiting for the citizen: once an action server answers, the
# held messages are replayed (as with a next message) and the bot's answers pushed to the page, which fetches pushed
# lines (`GET /api/chat/{sender}/messages`). Other channels resume with the citizen's next message: the door keeps
# no address to write to them.
RESUME_POLL_S = 1.0
RESUME_FOR_S = 600.0
_resumers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Task[None]]] = \
    weakref.WeakKeyDictionary()


def _resume_later(conversation: str, channel: str) -> None:
    if channel != "web":
        return
    tasks = _resumers.setdefault(asyncio.get_running_loop(), {})
    if conversation in tasks and not tasks[conversation].done():
        return
    tasks[conversation] = asyncio.get_running_loop().create_task(_resume_when_back(conversation))


async def _resume_when_back(conversation: str) -> None:
    deadline = time.monotonic() + RESUME_FOR_S
    while not await actions_alive():
        if time.monotonic() > deadline:
            return
        await asyncio.sleep(RESUME_POLL_S)
    async with conversation_lock(conversation):
        waiting = await held_store().take(conversation)
        if not waiting:  # the citizen's next message came first and replayed them
            return
        try:
            replies = await _replay(conversation, waiting, None, "web")
        except (ActionsUnavailable, httpx.HTTPError, ValueError):
            return  # held again by _replay: the next message or resumption takes them
        await asyncio.to_thread(_push, conversation, replies)
        log.warning("a held web conversation resumed by itself")


def _push(conversation: str, replies: list[BotMessage]) -> None:
    from hotline.store import transcripts
    from hotline.store.db import session_scope

    try:
        with session_scope() as session:
            transcripts.record_messages(session=session, conversation_id=conversation, pushed=True, lines=[
                ("bot", m.text, [{"title": b.title, "payload": b.payload} for b in m.buttons] or None)
                for m in replies])
    except Exception:  # the database is down as well: the answers are in Rasa's tracker, the next turn goes on
        log.exception("resumed answers not pushed")


async def forward_to_rasa(
    sender_id: str, text: str, channel: str, *, client: httpx.AsyncClient | None = None,
    message_id: str | None = None,
) -> list[BotMessage]:
    """Send one user turn to Rasa's REST channel; the bot's answers in order, or a polite answer.

    Every turn carries an id (the channel's message id when it sends one; the same id again when the same words
    come back after a turn that got no answer, bot/turn_journal.py), and Rasa applies an id once: a turn can go to
    the next Rasa process whenever its own dies, whether or not the dying one had applied it. While no action server
    answers (after ACTIONS_WAIT_S of asking) the message is held (bot/held_turns.py) with the question open then;
    held messages go to Rasa before the citizen's next message once one is back, each to its own question.
    When no Rasa process answers, the citizen gets the 12348 fallback.
    """
    conversation = rasa_sender(sender_id, channel)
    async with conversation_lock(conversation):
        journal = turn_journal.journal()
        turn = (f"{channel}:{message_id}" if message_id else None) \
            or await journal.unanswered(conversation, text) or uuid.uuid4().hex
        await journal.begin(conversation, text, turn)
        held = held_store()
        waiting = await held.take(conversation)
        if not await actions_ready(client=client):
            # The citizen has seen nothing new since the first held message: this one was said to the same question.
            question = waiting[-1].question if waiting else await open_question(conversation, client)
            await held.hold(conversation, [*waiting, HeldTurn(text, turn, question)])
            log.warning("no action server: a %s message held", channel)
            await journal.answered(conversation)
            _resume_later(conversation, channel)
            metrics.HELD.labels(channel).inc()
            return held_messages()
        try:
            if waiting:
                replies = await _replay(conversation, [*waiting, HeldTurn(text, turn, waiting[-1].question)],
                                        client, channel)
            else:
                replies = await _turn(conversation, text, turn, client)
        except ActionsUnavailable:
            if not waiting:
                await held.hold(conversation, [HeldTurn(text, turn, await open_question(conversation, client))])
            log.warning("no action server during a %s turn: the message held", channel)
            await journal.answered(conversation)
            _resume_later(conversation, channel)
            metrics.HELD.labels(channel).inc()
            return held_messages()
        except (httpx.HTTPError, ValueError) as exc:  # ValueError covers undecodable JSON too
            # No Rasa process answered. The journal keeps the turn: the same words again reuse its id.
            log.warning("Rasa unavailable for %s turn: %s", channel, type(exc).__name__)
            metrics.count_fallback(channel)
            return fallback_messages()
        await journal.answered(conversation)
        # Rasa answered but said nothing (no rule matched): the citizen still deserves an answer.
        if not replies:
            metrics.count_fallback(channel)
        return replies or fallback_messages()


async def parse(text: str, *, client: httpx.AsyncClient | None = None) -> dict[str, Any]:
    """Rasa NLU on one text (`/model/parse`): {intent: {name, confidence}, entities: [...]}.

    Raises httpx.HTTPError or ValueError when Rasa is unavailable: the copilot reports it to the operator.
    """
    data = await _post("/model/parse", {"text": text}, client, params=_api_params())
    if not isinstance(data, dict) or not isinstance(data.get("intent"), dict):
        raise ValueError("Rasa parse answer has no intent")
    return data


# What closing a handoff appends to the conversation's tracker, whoever closes it (the operator, the citizen's
# 「返回智能助手」, the idle timeout). action_handoff ends with ConversationPaused, and a paused Rasa logs no
# action_listen after it: with `resume` alone the tracker's last action stays action_handoff, the next message
# matches no rule (every rule's user turn follows action_listen), the core fallback reverts it, and RulePolicy,
# seeing 转人工 as the last intent again, runs action_handoff a second time — the citizen answered with
# 「没看懂」 and a new handoff queued by itself (issue 21). So the tracker is left as before any fresh question:
# not paused, no form or two-stage fallback loop running, no question pending, listening. Slots (the facts the
# citizen gave) stay.
RESUME_EVENTS: tuple[dict[str, Any], ...] = (
    {"event": "resume"},
    {"event": "active_loop", "name": None},
    {"event": "slot", "name": "requested_slot", "value": None},
    {"event": "action", "name": "action_listen"},
)


async def resume_conversation(channel: str, sender_hash: str, *, client: httpx.AsyncClient | None = None) -> bool:
    """Hand a conversation back to the bot after its handoff closed (RESUME_EVENTS): True when Rasa took them.

    Never raises: the caller has already closed the handoff and only needs to tell the operator. Holds the
    conversation's turn lock, so a citizen's message in flight is not answered half-paused or listened over.
    """
    # include_events=NONE: Rasa would otherwise send the whole transcript back, citizen's words included.
    conv = conversation_id(channel, sender_hash)
    path = f"/conversations/{quote(conv, safe=':')}/tracker/events"
    try:
        async with conversation_lock(conv):
            await _post(path, list(RESUME_EVENTS), client, conversation=conv,
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
