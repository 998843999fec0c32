"""What the public doors accept: body size, strict UTF-8 JSON without control characters, and a per-sender rate.

Two ASGI middlewares sit in front of every route of the web app (bot/app.py):

- `InputGuard` reads the body once (at most HOTLINE_MAX_BODY_BYTES, else 413), and for JSON bodies decodes them
  strictly (invalid UTF-8 → 400, malformed JSON → 422), refuses junk nested deeper than MAX_DEPTH and removes control
  characters and lone surrogates from every string, so no handler (nor Rasa, nor PostgreSQL, which refuses NUL)
  ever sees them.
- `RateLimit` keeps a token bucket per sender (the web chat's `sender`) and per client IP on the public
  endpoints → 429 with a Chinese sentence. In one process the buckets live in memory; with HOTLINE_REDIS_URL set
  (production runs several web workers) they live in Redis, shared by every worker.

WeChat and Telegram have no JSON body to read a sender from and come from their platforms' few IPs, so they take
their per-user bucket from `app_limiter(app).allow(...)` after parsing, and answer politely in the chat instead of 429.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from hotline import wording
from hotline.settings import get_settings

log = logging.getLogger(__name__)

# The web chat's own limit (bot/chat.py, ChatIn.message max_length; tests/test_bad_input.py checks they agree).
# WeChat and Telegram messages longer than this get the same sentence instead of reaching Rasa.
MAX_MESSAGE_CHARS = 2000
MAX_DEPTH = 16  # no request of ours nests deeper than 3; junk deeper than this is refused, not parsed further

BAD_REQUEST = "请求格式不正确，请检查后重试。"
TOO_LONG = wording.door("utter_door_too_long", max_chars=MAX_MESSAGE_CHARS)  # the web chat's page says it too
BODY_TOO_LARGE = "提交的内容太大了，请缩短后再试。"
TOO_FAST = wording.door("utter_door_too_fast")  # domain/doors.yml

# C0 and C1 control characters except tab, newline and carriage return; lone UTF-16 surrogates (JSON can encode
# them as \ud800, but they cannot be encoded as UTF-8 and crash whatever sends them on).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def max_body_bytes() -> int:
    return get_settings().max_body_bytes


def clean_text(text: str) -> str:
    """Text without control characters or lone surrogates; a zero-width or format character stays (Chinese IMEs)."""
    return _CONTROL.sub("", text)


def too_long(text: str) -> bool:
    return len(text) > MAX_MESSAGE_CHARS


class NestedTooDeep(ValueError):
    pass


def clean_json(value: Any, depth: int = 0) -> Any:
    """A parsed JSON value with every string (keys too) cleaned; NestedTooDeep past MAX_DEPTH."""
    if depth > MAX_DEPTH:
        raise NestedTooDeep("Body nested too deeply")
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_json(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {clean_text(k): clean_json(v, depth + 1) for k, v in value.items()}
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Python's json takes NaN and Infinity; the standard does not


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400
        raise ValueError("number out of range")
    return value


# --- ASGI plumbing (Starlette's types: Scope and messages are mutable mappings) -----------------------------


class HttpMiddleware:
    """A pure ASGI middleware (no body buffering by Starlette) that acts on HTTP requests only: lifespan and websocket
    scopes pass straight through. Subclasses write `http()`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


async def send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _is_json(content_type: str, path: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    if not kind:
        return path.startswith("/api/")  # FastAPI parses a body without a content type as JSON
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


class InputGuard:
    """Body-size limit, strict UTF-8 JSON, no control characters: see the module docstring."""

    def __init__(self, app: ASGIApp, *, max_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes if self.max_bytes is not None else max_body_bytes()
        path = scope.get("path", "")
        too_large = {"detail": "Body too large",
                     "message": TOO_LONG if path == "/api/chat" else BODY_TOO_LARGE}
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            await send_json(send, 413, too_large)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:  # a chunked body, or a Content-Length that lied
                await send_json(send, 413, too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if body and _is_json(_header(scope, b"content-type"), path):
            try:
                value = json.loads(body.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite)
                body = json.dumps(clean_json(value), ensure_ascii=False).encode()
            except UnicodeDecodeError:
                await send_json(send, 400, {"detail": "Body is not valid UTF-8", "message": BAD_REQUEST})
                return
            except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError, so is NestedTooDeep
                # 422 as FastAPI itself answers malformed JSON, so the API keeps one status for it.
                detail = str(exc) if isinstance(exc, NestedTooDeep) else "Malformed JSON"
                await send_json(send, 422, {"detail": detail, "message": BAD_REQUEST})
                return
            # In place, not a copy: the routing below writes the matched route into this scope for the metrics.
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
            scope["headers"].append((b"content-length", str(len(body)).encode()))
        await self.app(scope, _replay(body), send)


# --- rate limit ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """A token bucket: `burst` requests at once, refilled at `per_minute`."""

    burst: int
    per_minute: float

    @property
    def per_second(self) -> float:
        return self.per_minute / 60.0


def _rate(name: str, burst: int, per_minute: float) -> Rate:
    """HOTLINE_RATE_<NAME>=burst/per_minute overrides a default, e.g. HOTLINE_RATE_CHAT=60/60."""
    raw: str | None = getattr(get_settings(), f"rate_{name}")
    if raw:
        b, _, p = raw.partition("/")
        return Rate(int(b), float(p or b))
    return Rate(burst, per_minute)


def rates() -> dict[str, Rate]:
    """The buckets, generous for people (nobody types 60 messages a minute), tight for password guessing."""
    return {
        "sender": _rate("sender", 30, 60),  # one citizen's turns, on any channel
        "ip": _rate("ip", 300, 600),  # one address's public calls (an office or a campus shares one)
        "login": _rate("login", 20, 20),  # per IP, across usernames (each username locks after 5 wrong)
        "poll": _rate("poll", 120, 240),  # the web chat polls for operator replies every few seconds
    }


def _bucket_key(scope: str, key: str) -> str:
    # Sender ids and IPs are a citizen's handles: the limiter keeps only a hash of them.
    return "hotline:rl:" + scope + ":" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32]


class MemoryBuckets:
    """In-process token buckets (one web worker, or tests); at most `max_keys`, the least recent dropped first."""

    def __init__(self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_keys = max_keys
        self.clock = clock
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def take(self, key: str, rate: Rate) -> float:
        """Take one token: 0.0 when allowed, else the seconds until the next token."""
        now = self.clock()
        tokens, last = self.buckets.pop(key, (float(rate.burst), now))
        tokens = min(float(rate.burst), tokens + (now - last) * rate.per_second)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / rate.per_second
        self.buckets[key] = (tokens, now)
        while len(self.buckets) > self.max_keys:
            self.buckets.popitem(last=False)
        return wait


# Atomic in Redis, on Redis's own clock, so several workers on several machines share one bucket per key.
_REDIS_TAKE = """
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or cap
local ts = tonumber(b[2]) or now
tokens = math.min(cap, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(cap / rate) + 1)
return tostring(wait)
"""


class RedisBuckets:
    """Token buckets in Redis (HOTLINE_REDIS_URL). When Redis fails the request is let through: a limiter
    must not take the hotline down with it."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self.client = redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.script = self.client.register_script(_REDIS_TAKE)
        self._warned_at = 0.0

    async def take(self, key: str, rate: Rate) -> float:
        try:
            return float(await self.script(keys=[key], args=[rate.burst, rate.per_second]))
        except Exception as exc:  # connection refused, time-out, READONLY replica...
            if time.monotonic() - self._warned_at > 60:
                self._warned_at = time.monotonic()
                log.warning("rate limit: Redis unavailable (%s); requests are not limited", type(exc).__name__)
            return 0.0


class Limiter:
    """The buckets of this process, by scope (sender | ip | login | poll)."""

    def __init__(self, buckets: MemoryBuckets | RedisBuckets, limits: dict[str, Rate] | None = None) -> None:
        self.buckets = buckets
        self.rates = limits or rates()
        self.enabled = get_settings().rate_limit

    async def wait_s(self, scope: str, key: str) -> float:
        """0.0 when this request may go ahead, else the seconds the caller should wait."""
        if not self.enabled or not key:
            return 0.0
        return await self.buckets.take(_bucket_key(scope, key), self.rates[scope])

    async def allow(self, channel: str, sender: str) -> bool:
        """Whether one more turn of this sender on this channel may go to the bot now."""
        return await self.wait_s("sender", f"{channel}:{sender}") == 0.0


def new_limiter() -> Limiter:
    """A limiter in Redis when HOTLINE_REDIS_URL is set (shared by every worker), else in this process's memory."""
    url = get_settings().redis_url
    return Limiter(RedisBuckets(url) if url else MemoryBuckets())


def app_limiter(app: Any) -> Limiter:
    """The limiter of this web app (one per app, so two apps, or two tests, never share buckets)."""
    state = app.state
    if getattr(state, "limiter", None) is None:
        state.limiter = new_limiter()
    return state.limiter


def _client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def _remote(ip: str) -> str:
    """The address to count per IP; "" (not counted) for this machine itself. Behind the reverse proxy uvicorn already
    puts the citizen's address here (X-Forwarded-For); a loopback caller is the box itself — a proxy that does not
    forward, a load test — and counting it would make the per-IP bucket a cap on the whole service."""
    try:
        return "" if ipaddress.ip_address(ip).is_loopback else ip
    except ValueError:  # "testclient", a Unix socket: not an address we can judge; counted
        return ip


def _sender_of(body: bytes) -> str:
    try:
        value = json.loads(body)
    except ValueError:
        return ""
    sender = value.get("sender") if isinstance(value, dict) else None
    return sender if isinstance(sender, str) else ""


class RateLimit(HttpMiddleware):
    """429 with a Chinese sentence when a sender or a client IP calls the public endpoints too fast.

    Placed inside InputGuard, so the body it reads is already bounded and clean. /wechat is not limited here:
    WeChat's servers call from a few IPs for every user; the callback limits each openid itself.
    """

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope["method"], scope.get("path", "")
        checks: list[tuple[str, str]] = []
        ip = _client_ip(scope)
        remote = _remote(ip)  # the per-address buckets; login attempts count from any address
        if method == "POST" and path == "/api/chat":
            message = await receive()
            body = message.get("body", b"")
            receive = _replay(body)
            sender = _sender_of(body)
            checks = [("ip", remote)] + ([("sender", "web:" + sender)] if sender else [])
        elif method == "POST" and path == "/api/login":
            checks = [("login", ip)]
        elif path.startswith("/api/chat/"):
            checks = [("poll", remote)]
        elif path in ("/api/eligibility", "/api/advisors"):
            checks = [("ip", remote)]
        lim = app_limiter(scope["app"])
        for bucket, key in checks:
            wait = await lim.wait_s(bucket, key)
            if wait > 0:
                await send_json(send, 429, {"detail": "Too many requests", "message": TOO_FAST},
                                headers={"retry-after": str(max(1, math.ceil(wait)))})
                return
        await self.app(scope, receive, send)



# --- XML from the platforms -------------------------------------------------------------------------------------

_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def safe_xml(data: str | bytes) -> str:
    """The XML as text when it is strict UTF-8 without a DTD; ValueError otherwise.

    WeChat never sends a document type declaration, and refusing any DTD is what defusedxml does against entity
    bombs (billion laughs) and external entities (XXE), before the parser ever expands one.
    """
    text = data.decode("utf-8") if isinstance(data, bytes) else data  # UnicodeDecodeError is a ValueError
    if _DTD.search(text):
        raise ValueError("XML with a document type declaration")
    return text
