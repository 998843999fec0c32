"""A fake Rasa server: the REST channel webhook, /model/parse and the root health answer."""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

Reply = Callable[[str, str], list[dict[str, Any]]]


def echo_reply(sender: str, message: str) -> list[dict[str, Any]]:
    """What the fake bot says by default: one line that echoes the message."""
    return [{"recipient_id": sender, "text": f"收到：{message}"}]


@dataclass
class FakeRasa:
    """mode: ok | error (HTTP 500) | garbage (not JSON) | down (every route 503). delay_s: answer late. hold: answer
    only once the test sets this event (at most 30 s): "slower than any time-out" without a race against the clock."""

    mode: str = "ok"
    delay_s: float = 0.0
    hold: threading.Event | None = None
    reply: Reply = echo_reply
    parse_result: Callable[[str], dict[str, Any]] | None = None
    webhook_calls: list[dict[str, Any]] = field(default_factory=list)
    # The turn id each webhook call carried in its metadata (bot/rasa_client.py), apart from webhook_calls.
    turn_ids: list[str | None] = field(default_factory=list)
    parse_calls: list[str] = field(default_factory=list)
    # Webhook calls being answered now, and the most there were at once since the last reset.
    inside: int = 0
    most_inside: int = 0

    def reset(self) -> None:
        self.mode, self.delay_s, self.reply, self.parse_result = "ok", 0.0, echo_reply, None
        self.hold = None
        self.webhook_calls.clear()
        self.turn_ids.clear()
        self.parse_calls.clear()
        self.inside = self.most_inside = 0

    async def failure(self) -> Response | None:
        """The slow or broken answer the current mode asks for, or None to answer normally."""
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.hold is not None:
            await asyncio.to_thread(self.hold.wait, 30)
        if self.mode in ("error", "down"):
            return JSONResponse({"error": "boom"}, status_code=500 if self.mode == "error" else 503)
        if self.mode == "garbage":
            return PlainTextResponse("<html>not json</html>")
        return None

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/")
        async def root() -> Response:
            if self.mode == "down":
                return PlainTextResponse("down", status_code=503)
            return PlainTextResponse("Hello from Rasa: 3.6.21")

        @app.post("/webhooks/rest/webhook")
        async def webhook(request: Request) -> Response:
            body = await request.json()
            self.turn_ids.append((body.pop("metadata", None) or {}).get("hotline_turn"))
            self.webhook_calls.append(body)
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            try:
                if (failure := await self.failure()) is not None:
                    return failure
            finally:
                self.inside -= 1
            return JSONResponse(self.reply(body["sender"], body["message"]))

        @app.post("/model/parse")
        async def parse(request: Request) -> Response:
            body = await request.json()
            self.parse_calls.append(body["text"])
            if (failure := await self.failure()) is not None:
                return failure
            if self.parse_result is None:
                return JSONResponse({"text": body["text"], "intent": {"name": "other_legal_question", "confidence": 0.5},
                                     "entities": []})
            return JSONResponse(self.parse_result(body["text"]))

        return app
