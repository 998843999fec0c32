"""FastAPI dependencies: one database session per request, and the operator behind a bearer token."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from hotline.store import repository
from hotline.store.db import session_scope
from hotline.store.models import Operator


def get_session() -> Iterator[Session]:
    """A session for this request: committed when the handler returns, rolled back when it raises."""
    with session_scope() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

UNAUTHORIZED = HTTPException(
    status_code=401, detail="Not authenticated", headers={"WWW-Authenticate": "Bearer"}
)


def bearer_token(request: Request) -> str | None:
    """The token of `Authorization: Bearer …`, else of the `hotline_token` cookie the console may set."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.cookies.get("hotline_token") or None


def current_operator(request: Request, session: SessionDep) -> Operator:
    """The logged-in operator, or 401."""
    token = bearer_token(request)
    if not token:
        raise UNAUTHORIZED
    operator = repository.operator_for_token(session=session, token=token)
    if operator is None:
        raise UNAUTHORIZED
    return operator


OperatorDep = Annotated[Operator, Depends(current_operator)]
