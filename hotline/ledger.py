"""The bureau's historical ledger (CONTRACT §6): parse, validate the whole file, then import all or nothing.

The file is read twice, streaming: once to validate every row (so a user sees every bad line at once and
nothing is written), once to insert in batches inside the caller's transaction (ids already present are looked
up per batch and skipped). Memory stays flat apart from the set of ids seen, which duplicate detection needs.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from hotline.codes import CATEGORIES, OUTCOMES, SERVICE_OUTCOMES, SERVICES, code_for
from hotline.privacy import mask_text
from hotline.store.models import Consultation

COLUMNS: tuple[str, ...] = (
    "id", "date", "service", "category", "migrant_worker", "persons",
    "street", "community", "outcome", "amount", "summary",
)
SOURCE_PREFIX = "ledger:"
BATCH_SIZE = 2000
_MAX_ID = 128 - len(SOURCE_PREFIX)  # source_id is String(128)
_MAX_PLACE = 64  # street, community are String(64)
_MAX_AMOUNT = Decimal("1e12")  # Numeric(14, 2)
_CENT = Decimal("0.01")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YES = {"1", "是"}
_NO = {"0", "否", ""}

_consultations = Consultation.__table__


class LedgerError(Exception):
    """The ledger cannot be imported; `problems` holds one 'line N: why' per bad line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class LedgerFileError(LedgerError):
    """The file itself is unreadable (missing, not UTF-8, wrong header): nothing row-level was checked."""

    def __init__(self, problem: str) -> None:
        super().__init__([problem])


class LedgerRow(NamedTuple):  # a NamedTuple: built 100,000 times per large import, it must be cheap
    id: str
    date: date
    service: str
    category: str | None
    migrant_worker: bool
    persons: int
    street: str | None
    community: str | None
    outcome: str | None
    amount: Decimal | None
    summary: str | None

    def to_params(self) -> dict[str, object]:
        """Column values for one `consultations` insert (CONTRACT §5); the columns a ledger has no data for
        (referral, eligibility, phone, sender_hash, ...) are left out and so stay NULL. Summaries are masked."""
        return {
            "occurred_at": datetime(self.date.year, self.date.month, self.date.day),  # 00:00, naive UTC
            "service": self.service,
            "channel": "import",
            "category": self.category,
            "migrant_worker": self.migrant_worker,
            "persons": self.persons,
            "street": self.street,
            "community": self.community,
            "outcome": self.outcome,
            "amount": self.amount,
            "summary": mask_text(self.summary),
            "source_id": SOURCE_PREFIX + self.id,
            "purged": False,
        }


@dataclass
class ImportResult:
    read: int = 0
    new: int = 0
    already_present: int = 0
    dry_run: bool = False


def _lookup(table: dict[str, str]) -> dict[str, str]:
    """Code or 中文 label -> code: hotline.codes.code_for as one dict lookup, for speed."""
    return {value: code for value in (*table, *table.values()) if (code := code_for(value, table))}


_SERVICE, _CATEGORY, _OUTCOME = _lookup(SERVICES), _lookup(CATEGORIES), _lookup(OUTCOMES)


def parse_cells(cells: Sequence[str]) -> LedgerRow:
    """One ledger row from its raw cells in COLUMNS order; raises ValueError('why; why') naming every problem."""
    problems: list[str] = []
    (row_id, day_s, service_s, category_s, migrant, persons_s, street, community, outcome_s, amount_s,
     summary) = (c.strip() for c in cells)

    if not row_id:
        problems.append("missing id")
    elif len(row_id) > _MAX_ID:
        problems.append(f"id longer than {_MAX_ID} characters")

    day: date | None = None
    if not day_s:
        problems.append("missing date")
    elif not _DATE.fullmatch(day_s):
        problems.append(f"date '{day_s}' is not YYYY-MM-DD")
    else:
        try:
            day = date.fromisoformat(day_s)
        except ValueError:
            problems.append(f"impossible date '{day_s}'")

    service = _SERVICE.get(service_s)
    if not service_s:
        problems.append("missing service")
    elif service is None:
        problems.append(f"unknown service '{service_s}'")

    category = _CATEGORY.get(category_s)
    if category_s and category is None:
        problems.append(f"unknown category '{category_s}'")

    if migrant not in _YES and migrant not in _NO:
        problems.append(f"bad migrant_worker '{migrant}' (use 1/0 or 是/否)")

    persons = 1
    if persons_s:
        try:
            persons = int(persons_s)
        except ValueError:
            problems.append(f"persons '{persons_s}' is not a whole number")
        else:
            if persons < 1:
                problems.append(f"persons must be at least 1, got {persons}")

    outcome = _OUTCOME.get(outcome_s)
    if outcome_s:
        if outcome is None:
            problems.append(f"unknown outcome '{outcome_s}'")
        elif service is not None and outcome not in SERVICE_OUTCOMES[service]:
            problems.append(f"outcome '{outcome}' does not belong to service '{service}'")

    amount = None
    if amount_s:
        try:
            amount = Decimal(amount_s.replace(",", ""))  # Excel may write 35,000.00
        except InvalidOperation:
            problems.append(f"amount '{amount_s}' is not a number")
        else:
            if not amount.is_finite() or amount < 0 or amount >= _MAX_AMOUNT:
                problems.append(f"amount '{amount_s}' is out of range")
            elif amount != amount.quantize(_CENT):
                problems.append(f"amount '{amount_s}' has more than 2 decimals")

    if len(street) > _MAX_PLACE:
        problems.append(f"street longer than {_MAX_PLACE} characters")
    if len(community) > _MAX_PLACE:
        problems.append(f"community longer than {_MAX_PLACE} characters")

    if problems:
        raise ValueError("; ".join(problems))
    assert day is not None and service is not None
    return LedgerRow(row_id, day, service, category, migrant in _YES, persons, street or None, community or None,
                     outcome, amount, summary or None)


def parse_row(fields: dict[str, str]) -> LedgerRow:
    """parse_cells for a row given by column name (missing columns read as empty)."""
    return parse_cells([fields.get(name) or "" for name in COLUMNS])


def _records(path: Path) -> Iterator[tuple[int, list[str] | str]]:
    """(line, cells) per data row, or (line, problem) for a row of the wrong width.

    `line` counts records, header = 1, as a spreadsheet shows them (a quoted cell may span several physical
    lines). Wholly empty rows, which Excel leaves at the end, are skipped but still counted.
    """
    try:
        handle = path.open(encoding="utf-8-sig", newline="")  # -sig: Excel's BOM, if any
    except OSError as exc:
        raise LedgerFileError(f"cannot read {path}: {exc.strerror}") from None
    width = len(COLUMNS)
    with handle:
        reader = csv.reader(handle)
        line = 1
        try:
            header = [name.strip() for name in next(reader, [])]
            if tuple(header) != COLUMNS:
                raise LedgerFileError(f"line 1: wrong header: expected {','.join(COLUMNS)}, got {','.join(header)}")
            for line, cells in enumerate(reader, start=2):  # noqa: B007 - `line` is read in the handlers below
                if len(cells) == width:
                    if any(cells):
                        yield line, cells
                elif any(c.strip() for c in cells):
                    yield line, f"expected {width} columns, got {len(cells)}"
        except UnicodeDecodeError:
            # Decoding runs ahead in chunks, so the line is approximate.
            raise LedgerFileError(f"near line {line}: the file is not UTF-8 (in Excel, save as 'CSV UTF-8')") from None
        except csv.Error as exc:
            raise LedgerFileError(f"line {line + 1}: unreadable CSV: {exc}") from None


def validate(path: Path) -> int:
    """Check every row; return the number of data rows, or raise LedgerError naming every bad line."""
    problems: list[str] = []
    first_line: dict[str, int] = {}
    count = 0
    for line, cells in _records(path):
        count += 1
        if isinstance(cells, str):
            problems.append(f"line {line}: {cells}")
            continue
        why: list[str] = []
        try:
            parse_cells(cells)
        except ValueError as exc:
            why.append(str(exc))
        row_id = cells[0].strip()
        if row_id:
            if row_id in first_line:
                why.append(f"duplicate id '{row_id}' (first on line {first_line[row_id]})")
            else:
                first_line[row_id] = line
        if why:
            problems.append(f"line {line}: {'; '.join(why)}")
    if problems:
        raise LedgerError(problems)
    return count


def _rows(path: Path) -> Iterator[LedgerRow]:
    for _line, cells in _records(path):
        assert not isinstance(cells, str)  # validate() has passed
        yield parse_cells(cells)


def _batches(rows: Iterator[LedgerRow], size: int) -> Iterator[list[LedgerRow]]:
    batch: list[LedgerRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _existing(session: Session, source_ids: list[str]) -> set[str]:
    found = session.execute(select(_consultations.c.source_id).where(_consultations.c.source_id.in_(source_ids)))
    return set(found.scalars())


def _insert(session: Session, params: list[dict[str, object]]) -> None:
    """Insert rows in the session's transaction, in the cheapest bulk form of each dialect.

    Both stay inside the one transaction, so any failure still rolls the whole import back.
    """
    connection = session.connection()
    dialect = connection.dialect
    columns = list(params[0])
    if dialect.name == "postgresql":
        # psycopg's executemany sends one statement per row; COPY is ten times cheaper for 100,000 rows.
        with connection.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy(f"COPY {_consultations.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in params:
                    copy.write_row([row[c] for c in columns])
    elif dialect.name == "sqlite":
        # SQLAlchemy's per-row parameter handling costs more than SQLite's insert: convert with the dialect's
        # own bind processors (so values are stored exactly as SQLAlchemy stores them) and executemany tuples.
        compiled = insert(_consultations).compile(dialect=dialect, column_keys=columns)
        order = list(compiled.positiontup or ())
        convert = [_consultations.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in order]
        rows = [tuple(f(row[k]) if f else row[k] for k, f in zip(order, convert)) for row in params]
        connection.exec_driver_sql(compiled.string, rows)
    else:
        session.execute(insert(_consultations), params)  # executemany


def import_ledger(*, session: Session, path: Path, dry_run: bool = False, batch_size: int = BATCH_SIZE) -> ImportResult:
    """Validate the whole ledger, then insert the rows not yet present (by source_id) in batches.

    Raises LedgerError before writing anything if any row is bad. Does not commit: the caller's unit of work
    makes the import one transaction. With dry_run, only counts what would be added.
    """
    result = ImportResult(read=validate(path), dry_run=dry_run)
    for batch in _batches(_rows(path), batch_size):
        present = _existing(session, [SOURCE_PREFIX + row.id for row in batch])
        fresh = [row.to_params() for row in batch if SOURCE_PREFIX + row.id not in present]
        result.already_present += len(batch) - len(fresh)
        result.new += len(fresh)
        if fresh and not dry_run:
            _insert(session, fresh)
    return result
