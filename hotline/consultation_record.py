"""What one consultation record may hold (CONTRACT §5): the one check run by the ledger import, the store's write
and the operators' API, so the three accept and refuse the same records for the same reason.

Pure: values in, a ConsultationRecord (codes, not labels; amounts in Decimal to the fen; naive UTC) or
InvalidConsultation naming every problem out. Each door first turns its own syntax into values (the ledger's CSV
cells, the API's JSON); what a value may be is decided here only.

Caps follow the columns (hotline/store/models.py): String(n) columns hold n characters, Numeric(14, 2) amounts
below a trillion yuan with at most two decimals. The two Text columns get a cap a person's record needs and a
door can hold: a handoff's summary quotes three chat messages of up to 2,000 characters each.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from hotline.codes import CATEGORIES, CHANNELS, ELIGIBILITY_VERDICTS, OUTCOMES, SERVICE_OUTCOMES, SERVICES

PLACE_MAX = 64  # street, community
REFERRAL_MAX = 128
PHONE_MAX = 32  # digits
OPERATOR_MAX = 64
SENDER_HASH_MAX = 64
SOURCE_ID_MAX = 128
LEGAL_BASIS_MAX = 2000
SUMMARY_MAX = 8000
PERSONS_MAX = 10_000  # 人次 in one record: a wage claim's workers, an event's questions
AMOUNT_LIMIT = Decimal("1e12")  # Numeric(14, 2): twelve digits before the point
_CENT = Decimal("0.01")
_WHOLE = re.compile(r"[+-]?[0-9]+")
_SHOWN = 40  # characters of a refused value quoted in a message


class InvalidConsultation(ValueError):
    """A record the log refuses; `problems` holds one short reason per bad field, the message joins them."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class ConsultationRecord(NamedTuple):  # a NamedTuple: the ledger builds 100,000 of them per large import
    """One row of the `consultations` table as validated; `occurred_at` None means "now" to the writer."""

    service: str
    channel: str
    occurred_at: datetime | None
    category: str | None
    migrant_worker: bool
    persons: int
    street: str | None
    community: str | None
    outcome: str | None
    referral: str | None
    amount: Decimal | None
    eligibility: str | None
    legal_basis: str | None
    summary: str | None
    phone: str | None
    sender_hash: str | None
    operator: str | None
    source_id: str | None


def _lookup(table: dict[str, str]) -> dict[str, str]:
    """Code or 中文 label -> code (hotline.codes.code_for as one dict lookup: the ledger calls this per cell)."""
    return {**{label: code for code, label in table.items()}, **{code: code for code in table}}


_SERVICE, _CHANNEL, _CATEGORY, _OUTCOME = _lookup(SERVICES), _lookup(CHANNELS), _lookup(CATEGORIES), _lookup(OUTCOMES)


def _shown(value: object) -> str:
    text = str(value)
    return f"'{text if len(text) <= _SHOWN else text[:_SHOWN] + '…'}'"


def _code(value: str | None, table: dict[str, str], what: str, problems: list[str], *, required: bool = False
          ) -> str | None:
    text = value.strip() if isinstance(value, str) else value
    if text is None or text == "":
        if required:
            problems.append(f"missing {what}")
        return None
    code = table.get(text) if isinstance(text, str) else None
    if code is None:
        problems.append(f"unknown {what} {_shown(text)}")
    return code


def _text(value: str | None, what: str, cap: int, problems: list[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(f"{what} must be text")
        return None
    text = value.strip()
    if len(text) > cap:
        problems.append(f"{what} longer than {cap} characters")
    return text or None


def _persons(value: int | str, problems: list[str]) -> int:
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"persons {_shown(value)} is not a whole number")
        return 1
    if value < 1:
        problems.append(f"persons must be at least 1, got {value}")
    elif value > PERSONS_MAX:
        problems.append(f"persons must be at most {PERSONS_MAX}, got {value}")
    return value


def _amount(value: int | float | Decimal | str | None, problems: list[str]) -> Decimal | None:
    """Yuan to the fen. Text may carry thousands separators (Excel writes 35,000.00); more decimals are refused,
    not rounded: the log keeps what was said or nothing."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        problems.append(f"amount {_shown(value)} is not a number")
        return None
    try:
        amount = Decimal(value.strip().replace(",", "") if isinstance(value, str) else str(value))
    except InvalidOperation:
        problems.append(f"amount {_shown(value)} is not a number")
        return None
    if not amount.is_finite() or amount < 0 or amount >= AMOUNT_LIMIT:
        problems.append(f"amount {_shown(value)} is out of range")
        return None
    if amount != amount.quantize(_CENT):
        problems.append(f"amount {_shown(value)} has more than 2 decimals")
        return None
    return amount.quantize(_CENT)


def _as_utc(value: datetime | date | None, problems: list[str]) -> datetime | None:
    """Naive UTC from an aware datetime, a naive one (taken as UTC already) or a date (its midnight)."""
    if value is None or isinstance(value, datetime):
        if value is not None and value.tzinfo is not None:
            return value.astimezone(timezone.utc).replace(tzinfo=None)
        return value
    if isinstance(value, date):
        return datetime.combine(value, time.min)
    problems.append("occurred_at is not a date")
    return None


def consultation_record(
    *,
    service: str,
    channel: str,
    occurred_at: datetime | date | None = None,
    category: str | None = None,
    migrant_worker: bool = False,
    persons: int | str = 1,
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
) -> ConsultationRecord:
    """The record these values make, or InvalidConsultation naming every problem (in the order of the columns).

    Codes are taken as code or 中文 label and kept as codes; the outcome must belong to the service; text is
    stripped (empty is None); the phone keeps its digits only.
    """
    problems: list[str] = []
    service_code = _code(service, _SERVICE, "service", problems, required=True)
    channel_code = _code(channel, _CHANNEL, "channel", problems, required=True)
    at = _as_utc(occurred_at, problems)
    category_code = _code(category, _CATEGORY, "category", problems)
    if not isinstance(migrant_worker, bool):
        problems.append("migrant_worker must be true or false")
    head_count = _persons(persons, problems)
    street_text = _text(street, "street", PLACE_MAX, problems)
    community_text = _text(community, "community", PLACE_MAX, problems)
    outcome_code = _code(outcome, _OUTCOME, "outcome", problems)
    if outcome_code is not None and service_code is not None and outcome_code not in SERVICE_OUTCOMES[service_code]:
        problems.append(f"outcome '{outcome_code}' does not belong to service '{service_code}'")
    referral_text = _text(referral, "referral", REFERRAL_MAX, problems)
    yuan = _amount(amount, problems)
    verdict = eligibility.strip() if isinstance(eligibility, str) else eligibility
    if verdict is not None and verdict != "" and verdict not in ELIGIBILITY_VERDICTS:
        problems.append(f"unknown eligibility {_shown(verdict)}")
    basis = _text(legal_basis, "legal_basis", LEGAL_BASIS_MAX, problems)
    said = _text(summary, "summary", SUMMARY_MAX, problems)
    digits = re.sub(r"\D", "", phone) if isinstance(phone, str) else None
    if phone is not None and not isinstance(phone, str):
        problems.append("phone must be text")
    elif digits and len(digits) > PHONE_MAX:
        problems.append(f"phone longer than {PHONE_MAX} digits")
    sender = _text(sender_hash, "sender_hash", SENDER_HASH_MAX, problems)
    operator_name = _text(operator, "operator", OPERATOR_MAX, problems)
    source = _text(source_id, "source_id", SOURCE_ID_MAX, problems)
    if problems:
        raise InvalidConsultation(problems)
    assert service_code is not None and channel_code is not None
    return ConsultationRecord(
        service_code, channel_code, at, category_code, bool(migrant_worker), head_count, street_text, community_text,
        outcome_code, referral_text, yuan, verdict or None, basis, said, digits or None, sender, operator_name, source,
    )
