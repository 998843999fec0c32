"""The consultation log (CONTRACT §5): one row per consultation, written, refined by a handoff's close, listed.
What a record may hold is hotline.consultation_record's (the ledger import and the API check the same way); this
module writes it: one row, or a ledger's rows in bulk. The only SQL writing the `consultations` table but the
purge's."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timezone
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from hotline.consultation_record import ConsultationRecord, consultation_record
from hotline.privacy import mask_phone, mask_text
from hotline.store.models import Consultation, utcnow

# CONTRACT §5 columns, in order: the keys of consultation_to_dict and of `hotline consultations list --json`.
CONSULTATION_COLUMNS: tuple[str, ...] = (
    "id", "occurred_at", "service", "channel", "category", "migrant_worker", "persons", "street", "community",
    "outcome", "referral", "amount", "eligibility", "legal_basis", "summary", "sender_hash", "operator", "source_id",
)
# Facts a later turn about the same matter may complete on an already-written row.
REFINABLE = ("street", "community", "amount", "eligibility", "legal_basis", "referral", "summary", "phone")
_consultations = cast(Table, Consultation.__table__)


def log_consultation(*, session: Session, **values: Any) -> Consultation:
    """Add one consultation row from the keywords of hotline.consultation_record (service, channel, occurred_at,
    category, ...); with a source_id already logged, return that row and add nothing.

    The values are checked by consultation_record (raises InvalidConsultation), even when the row exists: a caller
    learns its values are bad whether or not it is the first to send them.
    """
    return save_consultation(session=session, record=consultation_record(**values))


def save_consultation(*, session: Session, record: ConsultationRecord) -> Consultation:
    """Add a checked record as a row (its occurred_at None: now); idempotent on its source_id."""
    if record.source_id is not None:
        existing = session.scalar(select(Consultation).where(Consultation.source_id == record.source_id))
        if existing is not None:
            return existing
    row = Consultation(**{**record._asdict(), "occurred_at": record.occurred_at or utcnow()}, purged=False)
    session.add(row)
    session.flush()
    return row


def refine_consultation(*, row: Consultation, record: ConsultationRecord) -> None:
    """Later facts about the same matter complete the row: a referral outranks an answer, more persons count.

    Sets values, never adds to them: applying the same refinement twice leaves the row as once.
    """
    if record.outcome and (record.outcome == "referred" or row.outcome is None):
        row.outcome = record.outcome
    row.migrant_worker = bool(row.migrant_worker or record.migrant_worker)
    if record.persons > (row.persons or 1):
        row.persons = record.persons
    for key in REFINABLE:
        value = getattr(record, key)
        if value is not None:
            setattr(row, key, value)


def present_source_ids(*, session: Session, source_ids: Sequence[str]) -> set[str]:
    """Which of these source ids are logged already (an import adds only the others)."""
    found = session.execute(select(_consultations.c.source_id).where(_consultations.c.source_id.in_(source_ids)))
    return {s for s in found.scalars() if s is not None}


def insert_records(*, session: Session, records: Sequence[ConsultationRecord]) -> None:
    """Insert checked records (occurred_at given) in the session's transaction, in the cheapest bulk form of each
    dialect: 100,000 ledger rows in seconds. Summaries are stored masked. Both forms stay inside the one
    transaction, so any failure still rolls the whole import back."""
    if not records:
        return
    params = [{**r._asdict(), "summary": mask_text(r.summary), "purged": False} for r in records]
    connection = session.connection()
    dialect = connection.dialect
    columns = list(params[0])
    if dialect.name == "postgresql":
        # psycopg's executemany sends one statement per row; COPY is ten times cheaper for 100,000 rows.
        import psycopg

        raw = connection.connection.driver_connection
        if not isinstance(raw, psycopg.Connection):  # the dialect's driver is psycopg 3 (postgresql+psycopg URLs)
            raise TypeError(f"COPY needs psycopg 3, not {type(raw).__name__}")
        with raw.cursor() as cursor, cursor.copy(
                f"COPY {_consultations.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in params:
                copy.write_row([row[c] for c in columns])
    elif dialect.name == "sqlite":
        # SQLAlchemy's per-row parameter handling costs more than SQLite's insert: convert with the dialect's
        # own bind processors (so values are stored exactly as SQLAlchemy stores them) and executemany tuples.
        compiled = insert(_consultations).compile(dialect=dialect, column_keys=columns)
        order = list(compiled.positiontup or ())
        convert = [_consultations.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in order]
        rows = [tuple(f(row[k]) if f else row[k] for k, f in zip(order, convert, strict=True)) for row in params]
        connection.exec_driver_sql(compiled.string, rows)
    else:
        session.execute(insert(_consultations), params)  # executemany


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
    row.outcome = consultation_record(service=row.service, channel=row.channel, outcome=outcome).outcome
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


def count_by_service_and_channel(*, session: Session) -> list[tuple[str, str, int]]:
    """(service, channel, rows) over the whole log: the metrics' counter."""
    rows = session.execute(select(Consultation.service, Consultation.channel, func.count())
                           .group_by(Consultation.service, Consultation.channel))
    return [(service, channel, int(n)) for service, channel, n in rows]


def consultation_to_dict(c: Consultation) -> dict[str, Any]:
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
