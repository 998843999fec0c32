"""The fake Rasa plus the HTTP API's tracker-events route (`rasa run --enable-api`), and fixtures over it."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from .rasa import FakeRasa
from .server import LoopbackServer


@dataclass
class FakeRasaWithEvents(FakeRasa):
    """event_calls: (conversation id, event body) of every POST to /conversations/{id}/tracker/events, in order;
    event_queries: their query strings; paused: the conversations whose last event recorded here was a pause
    (a resume removes them)."""

    event_calls: list[tuple[str, Any]] = field(default_factory=list)
    event_queries: list[str] = field(default_factory=list)
    paused: set[str] = field(default_factory=set)

    def reset(self) -> None:
        super().reset()
        self.event_calls.clear()
        self.event_queries.clear()
        self.paused.clear()

    def app(self) -> FastAPI:
        app = super().app()

        @app.post("/conversations/{conversation_id}/tracker/events")
        async def append_events(conversation_id: str, request: Request) -> Response:
            body = await request.json()
            self.event_calls.append((conversation_id, body))
            self.event_queries.append(request.url.query)
            if (failure := await self.failure()) is not None:
                return failure
            for event in body if isinstance(body, list) else [body]:
                if event.get("event") == "pause":
                    self.paused.add(conversation_id)
                elif event.get("event") == "resume":
                    self.paused.discard(conversation_id)
            # Rasa answers with the tracker; the fields the web app could read are enough here.
            return JSONResponse({"sender_id": conversation_id, "paused": conversation_id in self.paused,
                                 "events": body if isinstance(body, list) else [body]})

        return app


@pytest.fixture(scope="module")
def rasa_events_server() -> Iterator[tuple[FakeRasaWithEvents, str]]:
    fake = FakeRasaWithEvents()
    with LoopbackServer(fake.app()) as srv:
        yield fake, srv.url


@pytest.fixture
def fake_rasa_events(
    rasa_events_server: tuple[FakeRasaWithEvents, str], monkeypatch: pytest.MonkeyPatch
) -> FakeRasaWithEvents:
    """The fake Rasa with the events route, reset, with RASA_URL pointing at it and a short time-out."""
    fake, url = rasa_events_server
    fake.reset()
    monkeypatch.setenv("RASA_URL", url)
    monkeypatch.setenv("HOTLINE_RASA_TIMEOUT", "1.0")
    from hotline.settings import get_settings

    get_settings.cache_clear()
    return fake
