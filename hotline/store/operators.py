"""Operators and their console sessions: logins (scrypt), bearer tokens, lockout after wrong passwords, who is on
shift. The only SQL about the `operators`, `operator_sessions` and `login_failures` tables."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hotline.store.errors import StoreError
from hotline.store.models import LoginFailures, Operator, OperatorSession, utcnow

SESSION_LIFETIME = timedelta(hours=12)
SESSION_IDLE = timedelta(hours=2)  # a console left open overnight must log in again
ON_SHIFT_WINDOW = timedelta(minutes=15)  # the console polls every 30 s, so a live operator is seen every minute
LOCKOUT_AFTER = 5  # wrong passwords in a row (OWASP ASVS 2.2.1)
LOCKOUT_FOR = timedelta(minutes=15)
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[\w.\-@]{1,64}$")
# scrypt at n=2**14, r=8 costs ~16 MiB and a few tens of ms: fine for a handful of operator logins.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


class OperatorExists(StoreError):
    pass


class WrongPassword(StoreError):
    pass


class LoginLocked(StoreError):
    """Too many wrong passwords in a row: no login for this username until `until` (naive UTC)."""

    def __init__(self, until: datetime) -> None:
        super().__init__("too many failed logins; try again later")
        self.until = until


def create_operator(*, session: Session, username: str, display_name: str | None = None) -> str:
    """Create a copilot login and return its one-time password (only a salted scrypt hash is stored).
    `display_name` is what citizens see when this operator answers (1-32 characters), else nothing."""
    username = (username or "").strip()
    display_name = _display_name(display_name)
    if not _USERNAME.match(username):
        raise StoreError(f"invalid operator name {username!r}: 1-64 letters, digits, '.', '-', '_' or '@'")
    if session.scalar(select(Operator.id).where(Operator.username == username)) is not None:
        raise OperatorExists(f"operator {username!r} already exists")
    password = secrets.token_urlsafe(12)
    session.add(Operator(username=username, password_hash=hash_password(password), created_at=utcnow(), active=True,
                         must_change_password=True, display_name=display_name))
    session.flush()
    return password


def _display_name(display_name: str | None) -> str | None:
    """A display name as stored: stripped, 1-32 characters, no markup; None when empty."""
    name = (display_name or "").strip()
    if not name:
        return None
    if len(name) > 32 or re.search(r"[<>\n]", name):
        raise StoreError(f"invalid display name {name!r}: 1-32 characters, no markup")
    return name


def set_display_name(*, session: Session, username: str, display_name: str | None) -> None:
    """Set (or, with None, clear) the name citizens see when this operator answers."""
    operator = session.scalar(select(Operator).where(Operator.username == username))
    if operator is None:
        raise StoreError(f"no operator {username!r}")
    operator.display_name = _display_name(display_name)
    session.flush()


def display_names(*, session: Session, usernames: Sequence[str]) -> dict[str, str]:
    """username → display name, for the operators among `usernames` who have one."""
    if not usernames:
        return {}
    rows = session.execute(select(Operator.username, Operator.display_name)
                           .where(Operator.username.in_(set(usernames)), Operator.display_name.is_not(None)))
    return {u: n for u, n in rows if n}


def login(*, session: Session, username: str, password: str) -> str | None:
    """A bearer token valid for 12 hours, or None for an unknown, inactive or wrong login.

    Raises LoginLocked after LOCKOUT_AFTER wrong passwords in a row for that username, until LOCKOUT_FOR has
    passed — even when the password is right this time.
    """
    name = (username or "").strip()[:64]
    now = utcnow()
    failures = session.get(LoginFailures, name)
    if failures is not None and failures.locked_until is not None and failures.locked_until > now:
        raise LoginLocked(failures.locked_until)
    operator = session.scalar(select(Operator).where(Operator.username == name))
    if operator is None:
        hash_password(password or "")  # same work as a real check, so timing does not reveal usernames
        _count_failure(session=session, username=name, now=now)
        return None
    if not verify_password(password or "", operator.password_hash) or not operator.active:
        _count_failure(session=session, username=name, now=now)
        return None
    if failures is not None:
        session.delete(failures)
    token = secrets.token_urlsafe(32)
    session.add(
        OperatorSession(token_hash=_token_hash(token), operator_id=operator.id, created_at=now,
                        expires_at=now + SESSION_LIFETIME, last_seen_at=now)
    )
    session.flush()
    return token


def _count_failure(*, session: Session, username: str, now: datetime) -> None:
    row = session.get(LoginFailures, username)
    if row is None:
        row = LoginFailures(username=username, failures=0)
        session.add(row)
    if row.locked_until is not None and row.locked_until <= now:
        row.failures, row.locked_until = 0, None  # the lock ran out: a fresh count
    row.failures += 1
    row.last_failed_at = now
    if row.failures >= LOCKOUT_AFTER:
        row.locked_until = now + LOCKOUT_FOR
    session.flush()


def operator_for_token(*, session: Session, token: str) -> Operator | None:
    """The active operator a live token belongs to (not logged out, not expired, not idle), or None.

    Marks the session as seen (at most once a minute, to spare the database a write per request).
    """
    if not token:
        return None
    now = utcnow()
    row = session.execute(
        select(Operator, OperatorSession)
        .join(OperatorSession, OperatorSession.operator_id == Operator.id)
        .where(
            OperatorSession.token_hash == _token_hash(token),
            OperatorSession.expires_at > now,
            OperatorSession.ended_at.is_(None),
            Operator.active.is_(True),
        )
    ).first()
    if row is None:
        return None
    operator: Operator = row[0]
    op_session: OperatorSession = row[1]
    last = op_session.last_seen_at or op_session.created_at
    if now - last > SESSION_IDLE:
        return None
    if now - last > timedelta(minutes=1):
        op_session.last_seen_at = now
        session.flush()
    return operator


def logout(*, session: Session, token: str) -> bool:
    """End a session on the server (the token is refused afterwards); True when it was live."""
    result = session.execute(
        update(OperatorSession)
        .where(OperatorSession.token_hash == _token_hash(token), OperatorSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    return bool(result.rowcount)


def change_password(*, session: Session, operator: Operator, old: str, new: str) -> None:
    """Replace an operator's password (the old one must be right); clears the forced change."""
    if not verify_password(old or "", operator.password_hash):
        raise WrongPassword("the current password is wrong")
    if len(new or "") < MIN_PASSWORD or new == old:
        raise StoreError(f"the new password must have at least {MIN_PASSWORD} characters and differ from the old")
    operator.password_hash = hash_password(new)
    operator.must_change_password = False
    operator.password_changed_at = utcnow()
    session.flush()


def operators_on_shift(*, session: Session, within: timedelta = ON_SHIFT_WINDOW) -> list[str]:
    """Operators with a live session seen in the last `within`: someone who can answer a handoff now."""
    now = utcnow()
    return list(session.scalars(
        select(Operator.username).distinct()
        .join(OperatorSession, OperatorSession.operator_id == Operator.id)
        .where(OperatorSession.ended_at.is_(None), OperatorSession.expires_at > now,
               OperatorSession.last_seen_at >= now - within, Operator.active.is_(True))
    ))


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(
        password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=len(digest) // 2
    )
    return hmac.compare_digest(candidate.hex(), digest)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
