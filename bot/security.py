"""Headers every answer carries (CSP, framing, sniffing, referrer) and the API docs behind an operator login."""
from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.types import Message, Receive, Scope, Send

from bot.deps import current_operator
from bot.limits import HttpMiddleware

# Nothing from elsewhere: scripts, styles, images and calls come from this site only (the pages have no inline
# script or style), and no other site may frame the console.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    b"content-security-policy": CSP.encode(),
    b"x-frame-options": b"DENY",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"permissions-policy": b"camera=(), microphone=(), geolocation=()",
}
PUBLIC_DOCS = {"/api/docs", "/api/docs/oauth2-redirect", "/api/openapi.json", "/docs", "/redoc", "/openapi.json"}


class SecurityHeaders(HttpMiddleware):
    """Pure ASGI (no body buffering): adds HEADERS to every HTTP answer that does not set them itself."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *[(k, v) for k, v in HEADERS.items() if k not in present]]
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: FastAPI) -> None:
    """Security headers on every answer; the OpenAPI schema and docs for logged-in operators only."""
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) not in PUBLIC_DOCS]
    app.openapi_url = app.docs_url = app.redoc_url = None

    @app.get("/api/openapi.json", include_in_schema=False, dependencies=[Depends(current_operator)])
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/api/docs", include_in_schema=False, dependencies=[Depends(current_operator)])
    def docs() -> HTMLResponse:
        # Swagger UI loads its script from a CDN, which the CSP refuses: operators read the schema instead.
        return HTMLResponse('<!doctype html><meta charset="utf-8"><title>API</title>'
                            '<p>API schema: <a href="/api/openapi.json">/api/openapi.json</a></p>')

    app.add_middleware(SecurityHeaders)

