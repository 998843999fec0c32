"""A fake Telegram Bot API: records every method call and answers like Telegram does."""
from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "12348助手", "username": "hotline12348_bot",
            "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}


def _multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    """A multipart/form-data body (python-telegram-bot's file uploads) as fields, a file as {filename, content};
    read with the standard library (python-multipart is not a dependency)."""
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    params: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        content = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        params[name] = {"filename": filename, "content": content} if filename else content.decode()
    return params


@dataclass
class FakeBotApi:
    """fail_next: the next N sendMessage calls get 400 Bad Request."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail_next: int = 0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(100))

    def reset(self) -> None:
        self.calls.clear()
        self.fail_next = 0

    def sent(self) -> list[dict[str, Any]]:
        """The sendMessage calls that succeeded, reply_markup decoded."""
        out = []
        for method, params in self.calls:
            if method == "sendMessage" and not params.get("_failed"):
                p = dict(params)
                if isinstance(p.get("reply_markup"), str):
                    p["reply_markup"] = json.loads(p["reply_markup"])
                out.append(p)
        return out

    def documents(self) -> list[dict[str, Any]]:
        """The sendDocument calls: chat_id and the file ({"filename", "content"})."""
        return [params for method, params in self.calls if method == "sendDocument"]

    def methods(self) -> list[str]:
        return [m for m, _ in self.calls]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/bot{token}/{method}")
        async def call(token: str, method: str, request: Request) -> JSONResponse:
            raw = await request.body()
            if request.headers.get("content-type", "").startswith("application/json"):
                params = json.loads(raw or b"{}")
            elif request.headers.get("content-type", "").startswith("multipart/form-data"):
                # sendDocument: fields and the file itself ({"filename", "content"}) as Telegram would receive them
                params = _multipart(request.headers["content-type"], raw)
            else:  # python-telegram-bot posts form-encoded fields, nested objects as JSON strings
                params = dict(parse_qsl(raw.decode()))
            self.calls.append((method, params))
            if method == "getMe":
                return JSONResponse({"ok": True, "result": BOT_USER})
            if method == "sendMessage" and self.fail_next > 0:
                self.fail_next -= 1
                params["_failed"] = True
                return JSONResponse({"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
                                    status_code=400)
            if method == "sendDocument":
                return JSONResponse({"ok": True, "result": {
                    "message_id": next(self._ids), "date": int(time.time()),
                    "chat": {"id": int(params.get("chat_id", 0)), "type": "private"}, "from": BOT_USER,
                    "document": {"file_id": "f1", "file_unique_id": "u1",
                                 "file_name": params.get("document", {}).get("filename")}}})
            if method in ("sendMessage", "editMessageReplyMarkup"):
                return JSONResponse({"ok": True, "result": {
                    "message_id": next(self._ids), "date": int(time.time()),
                    "chat": {"id": int(params.get("chat_id", 0)), "type": "private"},
                    "from": BOT_USER, "text": params.get("text", "")}})
            return JSONResponse({"ok": True, "result": True})

        return app
