"""FastAPI dependencies: one database session per request, and the operator behind a token.

API clients send `Authorization: Bearer TOKEN`. The console holds the same kind of token in an HttpOnly,
SameSite=Strict cookie instead (never in script-readable storage); a cookie-authenticated request that changes
something must also carry the CSRF token (double submit: the `hotline_csrf` cookie echoed in `X-CSRF-Token`) and,
when the browser sends one, an Origin of this site. A console session whose password must still be changed
may only change it (or log out).
"""
from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from hotline.store import operators
from hotline.store.db import session_scope
from hotline.store.models import Operator

SESSION_COOKIE = "hotline_session"
CSRF_COOKIE = "hotline_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# What a console session may do before it has replaced its one-time password.
BEFORE_PASSWORD_CHANGE = {"/api/password", "/api/logout", "/api/me"}


def get_session() -> Iterator[Session]:
    """A session for this request: committed when the handler returns, rolled back when it raises."""
    with session_scope() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

UNAUTHORIZED = HTTPException(
    status_code=401, detail="Not authenticated", headers={"WWW-Authenticate": "Bearer"}
)


def bearer_token(request: Request) -> tuple[str | None, bool]:
    """(token, from_cookie): `Authorization: Bearer …` first, else the console's session cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip(), False
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie, True) if cookie else (None, False)


def check_csrf(request: Request) -> None:
    """403 unless a cookie-authenticated change carries the CSRF token and comes from this site."""
    if request.method in SAFE_METHODS:
        return
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise HTTPException(403, detail="Cross-site request refused")
    cookie, header = request.cookies.get(CSRF_COOKIE, ""), request.headers.get(CSRF_HEADER, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), header.encode()):
        raise HTTPException(403, detail="CSRF token missing or wrong")


def current_operator(request: Request, session: SessionDep) -> Operator:
    """The logged-in operator, or 401 (403 for a console request without its CSRF token)."""
    token, from_cookie = bearer_token(request)
    if not token:
        raise UNAUTHORIZED
    operator = operators.operator_for_token(session=session, token=token)
    if operator is None:
        raise UNAUTHORIZED
    if from_cookie:
        check_csrf(request)
        if operator.must_change_password and request.url.path not in BEFORE_PASSWORD_CHANGE:
            raise HTTPException(403, detail="Password change required")
    request.state.operator = operator.username
    return operator


OperatorDep = Annotated[Operator, Depends(current_operator)]
