"""`GET /metrics` in Prometheus text format (prometheus-client): requests, turns, latencies, errors, and the
store's own figures (consultations logged, handoffs, outbox depth) read at scrape time.

No personal data in any label: routes are the route *templates* (`/api/chat/{sender}/messages`, never a sender),
channels and statuses are small fixed sets, and nothing a citizen typed is ever a label.

The figures the store holds are read from the database when Prometheus scrapes, so they are right whichever
process (an action-server worker, the CLI) wrote them. With several web workers, set PROMETHEUS_MULTIPROC_DIR to
an empty directory shared by them (prometheus-client's multiprocess mode) and each scrape sums all workers.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from bot.limits import HttpMiddleware
from hotline.settings import get_settings

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0)

REQUESTS = Counter("hotline_http_requests", "HTTP requests to the web app", ["route", "method", "status"])
REQUEST_SECONDS = Histogram("hotline_http_request_duration_seconds", "Time to answer an HTTP request",
                            ["route", "method"], buckets=LATENCY_BUCKETS)
TURNS = Counter("hotline_turns", "Citizen turns that reached the web app's doors", ["channel"])
TURN_SECONDS = Histogram("hotline_turn_duration_seconds", "Time from a citizen's turn to the bot's answer",
                         ["channel"], buckets=LATENCY_BUCKETS)
# Counted by count_fallback(), which the one door to Rasa (bot/rasa_client.py) is to call where it answers with the
# fallback; the web app's middleware cannot tell a fallback from an answer.
FALLBACKS = Counter("hotline_turn_fallbacks", "Turns answered with the polite 12348 fallback (Rasa unavailable)",
                    ["channel"])
HELD = Counter("hotline_turn_held", "Turns held because no action server answered (replayed when one is back)",
               ["channel"])
FAILOVERS = Counter("hotline_rasa_failovers", "Calls that went to the next Rasa process because theirs refused or "
                    "died under them", ["kind"])
ERRORS = Counter("hotline_errors", "Unhandled errors (answered 500)", ["route"])
REJECTED = Counter("hotline_rejected_requests", "Requests refused at the door", ["reason"])

# The web app's turn doors: route template → channel.
TURN_ROUTES = {("POST", "/api/chat"): "web", ("POST", "/wechat"): "wechat"}


def route_of(scope: Scope) -> str:
    """The matched route's template, or `other` (an unknown path is not a label value: it could be anything)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "other"


def observe_turn(channel: str, seconds: float, *, fallback: bool = False) -> None:
    """For a channel outside the web app (the Telegram bridge) or a caller that knows it fell back."""
    TURNS.labels(channel).inc()
    TURN_SECONDS.labels(channel).observe(seconds)
    if fallback:
        count_fallback(channel)


def count_fallback(channel: str) -> None:
    """One turn of `channel` answered with the polite fallback instead of the bot's answer."""
    FALLBACKS.labels(channel).inc()


class MetricsMiddleware(HttpMiddleware):
    """Counts and times every request by route template and status; a 500 counts as an error too."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500

        async def send_and_see(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_see)
        finally:  # no `return` in here: it would swallow the app's exception
            route = route_of(scope)
            if route != "/metrics":
                _count(scope["method"], route, status, time.perf_counter() - started)


def _count(method: str, route: str, status: int, elapsed: float) -> None:
    REQUESTS.labels(route, method, str(status)).inc()
    REQUEST_SECONDS.labels(route, method).observe(elapsed)
    if status >= 500:
        ERRORS.labels(route).inc()
    if status in (400, 413, 429):
        REJECTED.labels({400: "malformed", 413: "too_large", 429: "rate_limited"}[status]).inc()
    channel = TURN_ROUTES.get((method, route))
    if channel and status < 400:
        observe_turn(channel, elapsed)


class StoreCollector(Collector):
    """Figures the database and the outbox hold, read at scrape time (so every process's writes count)."""

    def collect(self) -> Iterable[Metric]:
        from hotline import outbox
        from hotline.store import consultations
        from hotline.store import handoffs as handoff_rows
        from hotline.store.db import session_scope

        up = GaugeMetricFamily("hotline_database_up", "1 when the database answered this scrape")
        logged = CounterMetricFamily("hotline_consultations_logged", "Consultations in the log",
                                     labels=["service", "channel"])
        handoffs = GaugeMetricFamily("hotline_handoffs", "Handoffs to a person by status", labels=["status"])
        try:
            with session_scope() as session:
                for service, channel, n in consultations.count_by_service_and_channel(session=session):
                    logged.add_metric([service, channel], n)
                for status, n in handoff_rows.count_by_status(session=session):
                    handoffs.add_metric([status], n)
            up.add_metric([], 1)
        except Exception as exc:  # a scrape during an outage shows the outage, it does not fail
            log.warning("metrics: database unavailable (%s)", type(exc).__name__)
            up.add_metric([], 0)
        yield up
        yield logged
        yield handoffs
        depth = GaugeMetricFamily("hotline_outbox_depth", "Consultations waiting in the outbox for the database")
        try:
            depth.add_metric([], outbox.Outbox().depth())
        except Exception as exc:
            log.warning("metrics: outbox unreadable (%s)", type(exc).__name__)
        yield depth


class ProcessCollector(Collector):
    """The services under the supervisor (scripts/supervise.py) and the Rasa processes this door has marked down."""

    def collect(self) -> Iterable[Metric]:
        from bot import supervision
        from bot.rasa_client import rasa_down

        up = GaugeMetricFamily("hotline_unit_up", "1 when the supervised service answers its health check",
                               labels=["unit"])
        backoff = GaugeMetricFamily("hotline_unit_backoff", "1 while the supervisor backs off a crash-looping "
                                    "service (the others keep serving)", labels=["unit"])
        restarts = CounterMetricFamily("hotline_unit_restarts", "Restarts of the service by the supervisor",
                                       labels=["unit"])
        for name, unit in (supervision.units() or {}).items():
            up.add_metric([name], 1 if unit.get("ready") else 0)
            backoff.add_metric([name], 1 if unit.get("state") == "backoff" else 0)
            restarts.add_metric([name], float(unit.get("restarts") or 0))
        down = GaugeMetricFamily("hotline_rasa_marked_down", "1 for a Rasa process this web app skips (it refused "
                                 "or died under a call; probed in the background)", labels=["url"])
        for url in rasa_down():
            down.add_metric([url], 1)
        yield up
        yield backoff
        yield restarts
        yield down


_store_collector = StoreCollector()
_process_collector = ProcessCollector()


def render() -> tuple[bytes, str]:
    """The exposition text of this process (or of every worker, in multiprocess mode) plus the store's figures."""
    if get_settings().prometheus_multiproc_dir:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    store = CollectorRegistry()
    store.register(_store_collector)
    store.register(_process_collector)
    return body + generate_latest(store), CONTENT_TYPE_LATEST


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus scrapes this; with HOTLINE_METRICS_TOKEN set, only with `Authorization: Bearer <token>`."""
    import hmac

    import anyio

    token = get_settings().metrics_token
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            return Response('{"detail": "Not authenticated", "message": "没有权限。"}', status_code=401,
                            media_type="application/json", headers={"WWW-Authenticate": "Bearer"})

    body, content_type = await anyio.to_thread.run_sync(render)  # the store's figures are a blocking query
    return Response(body, media_type=content_type)
