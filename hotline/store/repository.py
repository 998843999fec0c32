"""The store's functions: actions, the web app and the CLI call these and write no SQL of their own.

Every function takes the caller's Session and leaves committing to it (one unit of work per request, command
or bot turn). Invalid input raises StoreError subclasses with one-line messages the edges can show as they are.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from hotline import codes
from hotline.directory import AdvisorEntry, lookup
from hotline.privacy import mask_phone, mask_text
from hotline.store.models import (
    Advisor,
    ChatMessage,
    Consultation,
    Handoff,
    LoginFailures,
    Operator,
    OperatorSession,
)

SESSION_LIFETIME = timedelta(hours=12)
SESSION_IDLE = timedelta(hours=2)  # a console left open overnight must log in again
ON_SHIFT_WINDOW = timedelta(minutes=15)  # the console polls every 30 s, so a live operator is seen every minute
LOCKOUT_AFTER = 5  # wrong passwords in a row (OWASP ASVS 2.2.1)
LOCKOUT_FOR = timedelta(minutes=15)
MIN_PASSWORD = 10
HANDOFF_STATUSES = ("waiting", "taken", "closed")
MESSAGE_AUTHORS = ("citizen", "bot", "operator")
# CONTRACT §5 columns, in order: the keys of consultation_to_dict and of `hotline consultations list --json`.
CONSULTATION_COLUMNS: tuple[str, ...] = (
    "id", "occurred_at", "service", "channel", "category", "migrant_worker", "persons", "street", "community",
    "outcome", "referral", "amount", "eligibility", "legal_basis", "summary", "sender_hash", "operator", "source_id",
)
_USERNAME = re.compile(r"^[\w.\-@]{1,64}$")
# scrypt at n=2**14, r=8 costs ~16 MiB and a few tens of ms: fine for a handful of operator logins.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


class StoreError(ValueError):
    """Input the store refuses; the message is one line for the CLI or API to show."""


class InvalidConsultation(StoreError):
    pass


class OperatorExists(StoreError):
    pass


class WrongPassword(StoreError):
    pass


class LoginLocked(StoreError):
    """Too many wrong passwords in a row: no login for this username until `until` (naive UTC)."""

    def __init__(self, until: datetime) -> None:
        super().__init__("too many failed logins; try again later")
        self.until = until


class SampleOverRealRoster(StoreError):
    """Sample advisors must never replace or join the bureau's real roster."""


def utcnow() -> datetime:
    """Naive UTC, as every DateTime column stores it."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


# --- consultations ---------------------------------------------------------------------------------------


def log_consultation(
    *,
    session: Session,
    service: str,
    channel: str,
    occurred_at: datetime | date | None = None,
    category: str | None = None,
    migrant_worker: bool = False,
    persons: int = 1,
    street: str | None = None,
    community: str | None = None,
    outcome: str | None = None,
    referral: str | None = None,
    amount: int | float | Decimal | str | None = None,
    eligibility: str | None = None,
    legal_basis: str | None = None,
    summary: str | None = None,
    phone: str | None = None,
    sender_hash: str | None = None,
    operator: str | None = None,
    source_id: str | None = None,
) -> Consultation:
    """Add one consultation row; with a source_id already logged, return that row and add nothing.

    Codes may be given as code or 中文 label and are stored as codes; the outcome must belong to the service.
    """
    if source_id is not None:
        existing = session.scalar(select(Consultation).where(Consultation.source_id == source_id))
        if existing is not None:
            return existing
    service_code = _code(service, codes.SERVICES, "service")
    row = Consultation(
        occurred_at=_as_utc(occurred_at) if occurred_at is not None else utcnow(),
        service=service_code,
        channel=_code(channel, codes.CHANNELS, "channel"),
        category=_code(category, codes.CATEGORIES, "category") if category else None,
        migrant_worker=bool(migrant_worker),
        persons=_persons(persons),
        street=street or None,
        community=community or None,
        outcome=_outcome(outcome, service_code) if outcome else None,
        referral=referral or None,
        amount=_amount(amount),
        eligibility=_eligibility(eligibility),
        legal_basis=legal_basis or None,
        summary=summary or None,
        phone=_digits(phone),
        sender_hash=sender_hash or None,
        operator=operator or None,
        source_id=source_id,
        purged=False,
    )
    session.add(row)
    session.flush()
    return row


def claim_referral(*, session: Session, sender_hash: str, operator: str, outcome: str = "answered",
                   summary: str | None = None) -> Consultation | None:
    """The bot's "referred to a person" row of this citizen, now the operator's: a handoff is one consultation, not the
    bot's referral plus the operator's answer. None when the bot logged none (e.g. its row still waits in the outbox)."""
    row = session.scalar(
        select(Consultation)
        .where(Consultation.sender_hash == sender_hash, Consultation.outcome == "referred",
               Consultation.operator.is_(None))
        .order_by(Consultation.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    row.operator = operator
    row.outcome = _outcome(outcome, row.service)
    row.referral = None
    if summary:
        row.summary = summary
    return row


def list_consultations(*, session: Session, since: date | None = None, limit: int | None = None) -> list[Consultation]:
    """The log newest first; `since` keeps consultations on or after that (UTC) day."""
    query = select(Consultation).order_by(Consultation.occurred_at.desc(), Consultation.id.desc())
    if since is not None:
        query = query.where(Consultation.occurred_at >= datetime.combine(since, time.min))
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def consultation_to_dict(c: Consultation) -> dict:
    """CONTRACT §5 keys (plus `phone`, masked, and `purged`); phone and ID numbers in the summary masked."""
    amount = c.amount
    return {
        "id": c.id,
        "occurred_at": c.occurred_at.replace(tzinfo=timezone.utc).isoformat() if c.occurred_at else None,
        "service": c.service,
        "channel": c.channel,
        "category": c.category,
        "migrant_worker": bool(c.migrant_worker),
        "persons": c.persons,
        "street": c.street,
        "community": c.community,
        "outcome": c.outcome,
        "referral": c.referral,
        "amount": None if amount is None else (int(amount) if amount == amount.to_integral_value() else float(amount)),
        "eligibility": c.eligibility,
        "legal_basis": c.legal_basis,
        "summary": mask_text(c.summary),
        "sender_hash": c.sender_hash,
        "operator": c.operator,
        "source_id": c.source_id,
        "phone": mask_phone(c.phone),
        "purged": bool(c.purged),
    }


def purge_before(*, session: Session, before: date) -> int:
    """Clear the personal data of consultations dated before `before`; returns how many rows were purged.

    Summary, phone and sender hash go; every column the statistics count (service, category, persons, street,
    outcome, amount, …) and the legal basis stay, so the annual figures do not change.
    """
    result = session.execute(
        update(Consultation)
        .where(Consultation.occurred_at < datetime.combine(before, time.min), Consultation.purged.is_(False))
        .values(summary=None, phone=None, sender_hash=None, purged=True)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0)


def _code(value: str, table: dict[str, str], what: str) -> str:
    code = codes.code_for(str(value), table) if value is not None else None
    if code is None:
        raise InvalidConsultation(f"unknown {what} {value!r}")
    return code


def _outcome(value: str, service: str) -> str:
    code = _code(value, codes.OUTCOMES, "outcome")
    if code not in codes.SERVICE_OUTCOMES[service]:
        raise InvalidConsultation(f"outcome {code!r} does not belong to service {service!r}")
    return code


def _eligibility(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    if value not in codes.ELIGIBILITY_VERDICTS:
        raise InvalidConsultation(f"unknown eligibility {value!r}")
    return value


def _persons(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidConsultation(f"persons must be a whole number of at least 1, not {value!r}")
    return value


def _amount(value: int | float | Decimal | str | None) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidConsultation(f"amount {value!r} is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise InvalidConsultation(f"amount {value!r} must be zero or more")
    return amount.quantize(Decimal("0.01"))


def _digits(phone: str | None) -> str | None:
    digits = re.sub(r"\D", "", phone or "")
    return digits or None


def _as_utc(value: datetime | date) -> datetime:
    """Naive UTC from an aware datetime, a naive one (taken as UTC already) or a date (its midnight)."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time.min)
    if value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


# --- the advisor directory -------------------------------------------------------------------------------


def import_directory(*, session: Session, entries: Sequence[AdvisorEntry]) -> int:
    """Upsert the roster on (street, community); returns how many entries were written.

    Invented advisors must never be shown next to real ones: loading a real roster (no entry marked sample)
    removes every sample row, and loading a sample roster over a real one raises SampleOverRealRoster.
    """
    if any(e.sample for e in entries):
        if session.scalar(select(Advisor.id).where(Advisor.sample.is_(False)).limit(1)) is not None:
            raise SampleOverRealRoster("the directory holds the bureau's roster; sample data was not loaded over it")
    elif entries:
        session.execute(delete(Advisor).where(Advisor.sample.is_(True)))
    existing = {(a.street, a.community): a for a in session.scalars(select(Advisor))}
    for entry in entries:
        row = existing.get((entry.street, entry.community))
        if row is None:
            row = Advisor(street=entry.street, community=entry.community)
            session.add(row)
            existing[(entry.street, entry.community)] = row
        row.kind = entry.kind
        row.aliases = "|".join(entry.aliases) or None
        row.advisor = entry.advisor
        row.advisor_firm = entry.advisor_firm
        row.advisor_phone = entry.advisor_phone
        row.justice_office = entry.justice_office
        row.office_address = entry.office_address
        row.office_phone = entry.office_phone
        row.office_hours = entry.office_hours
        row.sample = entry.sample
    session.flush()
    return len(entries)


def directory_entries(*, session: Session) -> list[AdvisorEntry]:
    """The whole roster, in the order it was loaded."""
    return [_entry(a) for a in session.scalars(select(Advisor).order_by(Advisor.id))]


def find_advisors(*, session: Session, query: str, limit: int = 5) -> list[AdvisorEntry]:
    """Fuzzy lookup on street, community or alias (hotline.directory.lookup over the stored roster)."""
    return lookup(directory_entries(session=session), query, limit)


def _entry(a: Advisor) -> AdvisorEntry:
    return AdvisorEntry(
        street=a.street,
        community=a.community,
        kind=a.kind,
        aliases=tuple(x for x in (a.aliases or "").split("|") if x),
        advisor=a.advisor,
        advisor_firm=a.advisor_firm,
        advisor_phone=a.advisor_phone,
        justice_office=a.justice_office,
        office_address=a.office_address,
        office_phone=a.office_phone,
        office_hours=a.office_hours,
        sample=bool(a.sample),
    )


# --- operators -------------------------------------------------------------------------------------------


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
    operator, op_session = row
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


# --- handoffs and transcripts ----------------------------------------------------------------------------


def open_handoff(
    *, session: Session, channel: str, sender_hash: str, category: str | None = None, summary: str | None = None
) -> Handoff:
    """Queue a citizen who asked for a person; a conversation with a handoff still waiting or taken keeps that one."""
    conversation = f"{channel}:{sender_hash}"
    existing = active_handoff(session=session, conversation_id=conversation)
    if existing is not None:
        if summary:
            existing.summary = summary
        session.flush()
        return existing
    handoff = Handoff(
        created_at=utcnow(),
        channel=_code(channel, codes.CHANNELS, "channel"),
        sender_hash=sender_hash,
        conversation_id=conversation,
        category=_code(category, codes.CATEGORIES, "category") if category else None,
        summary=summary or None,
        status="waiting",
        acknowledged=False,
    )
    session.add(handoff)
    session.flush()
    return handoff


def list_handoffs(*, session: Session, status: str | None = "waiting") -> list[Handoff]:
    """The queue, oldest first; status None lists every handoff."""
    query = select(Handoff).order_by(Handoff.created_at, Handoff.id)
    if status is not None:
        query = query.where(Handoff.status == status)
    return list(session.scalars(query))


def get_handoff(*, session: Session, handoff_id: int) -> Handoff | None:
    return session.get(Handoff, handoff_id)


_ACTIVE_HANDOFF_ID = (select(Handoff.id)
                      .where(Handoff.conversation_id == bindparam("conversation"), Handoff.status.in_(("waiting", "taken")))
                      .order_by(Handoff.id.desc())
                      .limit(1))


def active_handoff(*, session: Session, conversation_id: str) -> Handoff | None:
    """The conversation's handoff that is waiting for or talking with an operator, if any.

    Asked on every citizen turn, before and after Rasa, and nearly always answered "none": the id is looked up with
    a plain column query first and the row loaded only when there is one (the ORM query cost the web app more CPU
    than the database did: reports/profile_web_gil2.md).
    """
    found = session.execute(_ACTIVE_HANDOFF_ID, {"conversation": conversation_id}).scalar()
    return None if found is None else session.get(Handoff, found)


def set_handoff_status(
    *, session: Session, handoff_id: int, status: str, operator: str | None = None
) -> Handoff | None:
    """Mark a handoff taken or closed (by `operator`); None when there is no such handoff."""
    if status not in HANDOFF_STATUSES:
        raise StoreError(f"unknown handoff status {status!r}")
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        return None
    now = utcnow()
    if status == "taken" and handoff.taken_at is None:
        handoff.taken_at = now
    if status == "closed" and handoff.closed_at is None:
        handoff.closed_at = now
        handoff.reply_address = None  # delivery is over: the raw chat id goes
    handoff.status = status
    if operator:
        handoff.operator = operator
    session.flush()
    return handoff


def _next_seq(session: Session, conversation_id: str) -> int:
    last = session.scalar(select(func.max(ChatMessage.seq)).where(ChatMessage.conversation_id == conversation_id))
    return (last or 0) + 1


def _check_authors(lines: Sequence[tuple[str, str, list[dict] | None]]) -> None:
    if any(author not in MESSAGE_AUTHORS for author, _, _ in lines):
        raise StoreError(f"unknown message author in {[a for a, _, _ in lines]!r}")


def record_message(
    *, session: Session, conversation_id: str, author: str, text: str, buttons: list[dict] | None = None,
    operator: str | None = None, pushed: bool = False,
) -> ChatMessage:
    """Append one line to a conversation's transcript (author citizen | bot | operator); the row is returned."""
    _check_authors([(author, text, buttons)])
    row = ChatMessage(conversation_id=conversation_id, seq=_next_seq(session, conversation_id), author=author,
                      text=text, buttons=json.dumps(buttons, ensure_ascii=False) if buttons else None, at=utcnow(),
                      operator=operator or None, pushed=pushed)
    session.add(row)
    session.flush()
    return row


def record_messages(
    *, session: Session, conversation_id: str, lines: Sequence[tuple[str, str, list[dict] | None]],
    operator: str | None = None, pushed: bool = False,
) -> None:
    """Append (author, text, buttons) lines in order: one sequence read and one insert (a turn's words and answers).

    Every citizen turn writes here, so it is a plain insert, not ORM objects (reports/profile_web_gil2.md)."""
    _check_authors(lines)
    first, now = _next_seq(session, conversation_id), utcnow()
    session.execute(insert(ChatMessage), [
        {"conversation_id": conversation_id, "seq": first + i, "author": author, "text": text,
         "buttons": json.dumps(buttons, ensure_ascii=False) if buttons else None, "at": now,
         "operator": operator or None, "pushed": pushed}
        for i, (author, text, buttons) in enumerate(lines)])


def transcript(*, session: Session, conversation_id: str, since: datetime | None = None,
               limit: int = 500) -> list[ChatMessage]:
    """A conversation's lines in order (the last `limit`, from `since` on when given)."""
    query = select(ChatMessage).where(ChatMessage.conversation_id == conversation_id)
    if since is not None:
        query = query.where(ChatMessage.at >= since)
    rows = list(session.scalars(query.order_by(ChatMessage.seq.desc()).limit(limit)))
    return rows[::-1]


def pushed_since(*, session: Session, conversation_id: str, since: int) -> tuple[list[ChatMessage], int]:
    """Lines to push to the web chat after cursor `since`, and the new cursor (the conversation's last seq)."""
    rows = list(session.scalars(
        select(ChatMessage)
        .where(ChatMessage.conversation_id == conversation_id, ChatMessage.seq > since, ChatMessage.pushed.is_(True))
        .order_by(ChatMessage.seq)
    ))
    last = session.scalar(select(func.max(ChatMessage.seq)).where(ChatMessage.conversation_id == conversation_id))
    return rows, max(since, last or 0)


def message_buttons(row: ChatMessage) -> list[dict]:
    try:
        return list(json.loads(row.buttons)) if row.buttons else []
    except ValueError:
        return []
