"""The web app on port 8000: citizen web chat, operator console, WeChat callback and the JSON API.

Run: `uvicorn bot.app:app --port 8000`.
"""
from __future__ import annotations

import html
import logging
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot import api, chat, copilot, documents, limits, menu, metrics, rasa_client, security, wechat
from hotline import collector, logs, wording
from hotline.privacy import mask_text

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"

SORRY = wording.door("utter_door_sorry")  # domain/doors.yml
BAD_REQUEST = "请求格式不正确，请检查后重试。"


def _validation_detail(exc: RequestValidationError) -> str:
    """One readable line per problem, e.g. `body.message: Field required`."""
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        lines.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(lines) or "Invalid request"


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    # A chat message over the limit is the citizen's mistake to fix: tell them the limit, in their words.
    too_long = any(e.get("type") == "string_too_long" and tuple(e.get("loc", ()))[-1:] == ("message",)
                   for e in exc.errors())
    return JSONResponse({"detail": _validation_detail(exc), "message": limits.TOO_LONG if too_long else BAD_REQUEST},
                        status_code=422)


async def _on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    messages = {400: BAD_REQUEST, 401: "请先登录。", 403: "没有权限。", 404: "找不到这个地址。", 405: BAD_REQUEST,
                413: limits.BODY_TOO_LARGE, 415: BAD_REQUEST, 422: BAD_REQUEST, 429: limits.TOO_FAST, 503: SORRY}
    return JSONResponse(
        {"detail": exc.detail, "message": messages.get(exc.status_code, SORRY)},
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def _on_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # The traceback may quote what a citizen typed: mask phone and ID numbers before it reaches the log.
    log.error("unhandled error on %s %s\n%s", request.method, request.url.path,
              mask_text("".join(traceback.format_exception(exc))))
    return JSONResponse({"detail": "Internal error", "message": SORRY}, status_code=500)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    collector.settle()  # what starting made, out of the collector's sight (hotline/collector.py)
    yield
    await rasa_client.close_sessions()  # the pooled connections to Rasa and the action server


def create_app() -> FastAPI:
    logs.configure_from_env("web")  # JSON lines without personal data when HOTLINE_LOG_FORMAT=json
    app = FastAPI(title="城中区12348法律服务助手", docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json",
                  lifespan=_lifespan)
    # FastAPI's decorator form: add_exception_handler is typed for handlers of any Exception, these take one kind.
    app.exception_handler(RequestValidationError)(_on_validation_error)
    app.exception_handler(StarletteHTTPException)(_on_http_error)
    app.add_exception_handler(Exception, _on_unexpected_error)
    # Outermost last: metrics see every answer, the guard bounds and cleans the body before the rate limit reads it.
    app.add_middleware(limits.RateLimit)
    app.add_middleware(limits.InputGuard)
    app.add_middleware(metrics.MetricsMiddleware)
    app.add_route("/metrics", metrics.metrics_endpoint, methods=["GET"], include_in_schema=False)
    app.state.calls = copilot.CallMemory()
    app.include_router(api.router)
    app.include_router(chat.router)
    app.include_router(wechat.router)
    app.include_router(documents.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def web_chat() -> HTMLResponse:
        """The citizen web chat page: its office hours, offline line, welcome and message limit filled from their
        homes (doors.yml, bot/limits.py), its service chips from the menu every channel offers (bot/menu.py)."""
        page = (STATIC / "index.html").read_text(encoding="utf-8")
        for marker, name in (("{{footer}}", "utter_door_footer"), ("{{offline}}", "utter_door_offline")):
            page = page.replace(marker, html.escape(wording.door(name)))
        chips = "\n    ".join(f'<button type="button" class="chip" data-payload="{html.escape(b.payload)}">'
                              f"{html.escape(b.title)}</button>" for b in menu.MAIN_MENU)
        for marker, value in (("{{welcome}}", menu.WELCOME), ("{{too_long}}", limits.TOO_LONG),
                              ("{{max_chars}}", str(limits.MAX_MESSAGE_CHARS))):
            page = page.replace(marker, html.escape(value))
        page = page.replace("{{chips}}", chips)
        return HTMLResponse(page, media_type="text/html; charset=utf-8")

    @app.get("/console", include_in_schema=False)
    def console() -> FileResponse:
        """The operator console (it shows its login form until it holds a token)."""
        return FileResponse(STATIC / "console.html", media_type="text/html; charset=utf-8")

    security.install(app)  # CSP and frame headers on every answer; API docs for operators only
    return app


app = create_app()
