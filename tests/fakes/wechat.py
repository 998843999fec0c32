"""A fake of the WeChat API: access tokens and customer-service messages."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass
class FakeWeChatApi:
    """fail_sends: how many sends to refuse first (errcode 45047, "too many"); stale_once: refuse the first
    token as expired (40001)."""

    app_id: str = "wx-test-app"
    secret: str = "wx-test-secret"
    fail_sends: int = 0
    stale_once: bool = False
    token_calls: int = 0
    sends: list[dict[str, Any]] = field(default_factory=list)  # accepted messages
    send_tokens: list[str] = field(default_factory=list)  # the token of every send attempt
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def reset(self) -> None:
        self.fail_sends, self.stale_once, self.token_calls = 0, False, 0
        self._counter = itertools.count(1)
        self.sends.clear()
        self.send_tokens.clear()

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/cgi-bin/token")
        async def token(grant_type: str, appid: str, secret: str) -> JSONResponse:
            if grant_type != "client_credential" or appid != self.app_id or secret != self.secret:
                return JSONResponse({"errcode": 40013, "errmsg": "invalid appid"})
            self.token_calls += 1
            return JSONResponse({"access_token": f"TOKEN{next(self._counter)}", "expires_in": 7200})

        @app.post("/cgi-bin/message/custom/send")
        async def send(access_token: str, request: Request) -> JSONResponse:
            self.send_tokens.append(access_token)
            body = await request.json()
            if self.stale_once:
                self.stale_once = False
                return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
            if self.fail_sends > 0:
                self.fail_sends -= 1
                return JSONResponse({"errcode": 45047, "errmsg": "out of response count limit"})
            self.sends.append(body)
            return JSONResponse({"errcode": 0, "errmsg": "ok"})

        return app
