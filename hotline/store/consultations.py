"""The consultation log (CONTRACT §5): one row per consultation, written, refined by a handoff's close, listed.
The only SQL about the `consultations` table but the statistics' reads and the purge."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline import codes
from hotline.privacy import mask_phone, mask_text
from hotline.store.errors import StoreError
from hotline.store.models import Consultation, utcnow

# CONTRACT §5 columns, in order: the keys of consultation_to_dict and of `hotline consultations list --json`.
CONSULTATION_COLUMNS: tuple[str, ...] = (
    "id", "occurred_at", "service", "channel", "category", "migrant_worker", "persons", "street", "community",
    "outcome", "referral", "amount", "eligibility", "legal_basis", "summary", "sender_hash", "operator", "source_id",
)


class InvalidConsultation(StoreError):
    pass


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
