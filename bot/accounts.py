"""Operator accounts (OWASP): login with lock-out, server-side sessions that logout ends, the console's cookie,
and the forced change of the one-time password."""
from __future__ import annotations

import math
import secrets
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from bot.deps import CSRF_COOKIE, SESSION_COOKIE, OperatorDep, SessionDep, bearer_token
from hotline.store import operators
from hotline.store.errors import StoreError
from hotline.store.models import utcnow

router = APIRouter()


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


def _https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def _set_console_cookies(response: Response, request: Request, token: str) -> None:
    """The session (HttpOnly: no script reads it) and the CSRF token the console echoes in a header."""
    secure = _https(request)
    lifetime = int(operators.SESSION_LIFETIME.total_seconds())
    response.set_cookie(SESSION_COOKIE, token, max_age=lifetime, httponly=True, samesite="strict", secure=secure,
                        path="/")
    response.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(24), max_age=lifetime, httponly=False,
                        samesite="strict", secure=secure, path="/")


@router.post("/api/login")
def login(body: LoginIn, session: SessionDep, request: Request, response: Response) -> dict[str, Any]:
    """A bearer token for an operator's username and password (and the console's cookies)."""
    try:
        token = operators.login(session=session, username=body.username, password=body.password)
    except operators.LoginLocked as locked:
        # Commit nothing more, say when to come back; the same answer whether or not the password was right.
        wait = max(1, math.ceil((locked.until - utcnow()).total_seconds()))
        raise HTTPException(429, detail="Too many failed logins; try again later",
                            headers={"Retry-After": str(wait)}) from None
    if token is None:
        # The failure count must survive the 401: commit it before raising (the session would roll back).
        session.commit()
        raise HTTPException(401, detail="Wrong username or password")
    operator = operators.operator_for_token(session=session, token=token)
    _set_console_cookies(response, request, token)
    return {"token": token, "username": body.username.strip(),
            "must_change_password": bool(operator and operator.must_change_password)}


@router.post("/api/logout")
def logout(operator: OperatorDep, session: SessionDep, request: Request, response: Response) -> dict[str, Any]:
    """End this session on the server: its token is refused from now on."""
    token, _ = bearer_token(request)
    ended = operators.logout(session=session, token=token or "")
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return {"ended": ended, "username": operator.username}


@router.get("/api/me")
def me(operator: OperatorDep) -> dict[str, Any]:
    """Who is logged in (the console asks on load, since it cannot read its own cookie)."""
    return {"username": operator.username, "must_change_password": bool(operator.must_change_password)}


class PasswordIn(BaseModel):
    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


@router.post("/api/password")
def change_password(body: PasswordIn, operator: OperatorDep, session: SessionDep) -> dict[str, Any]:
    """Replace the password (required before a console session may do anything else after the first login)."""
    try:
        operators.change_password(session=session, operator=operator, old=body.old_password, new=body.new_password)
    except operators.WrongPassword as exc:
        raise HTTPException(403, detail=str(exc)) from exc
    except StoreError as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    return {"username": operator.username, "must_change_password": False}
