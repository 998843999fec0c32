"""The bureau's historical ledger (CONTRACT §6): parse, validate the whole file, then import all or nothing.

The file is read twice, streaming: once to validate every row (so a user sees every bad line at once and
nothing is written), once to insert in batches inside the caller's transaction (ids already present are looked
up per batch and skipped; hotline.store.consultations runs the SQL). Memory stays flat apart from the set of ids seen, which duplicate detection needs.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from hotline.consultation_record import ConsultationRecord, InvalidConsultation, consultation_record
from hotline.store import consultations

COLUMNS: tuple[str, ...] = (
    "id", "date", "service", "category", "migrant_worker", "persons",
    "street", "community", "outcome", "amount", "summary",
)
SOURCE_PREFIX = "ledger:"
BATCH_SIZE = 2000
_MAX_ID = 128 - len(SOURCE_PREFIX)  # source_id is String(128)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YES = {"1", "是"}
_NO = {"0", "否", ""}


class LedgerError(Exception):
    """The ledger cannot be imported; `problems` holds one 'line N: why' per bad line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class LedgerFileError(LedgerError):
    """The file itself is unreadable (missing, not UTF-8, wrong header): nothing row-level was checked."""

    def __init__(self, problem: str) -> None:
        super().__init__([problem])


@dataclass
class ImportResult:
    read: int = 0
    new: int = 0
    already_present: int = 0
    dry_run: bool = False


def parse_cells(cells: Sequence[str]) -> ConsultationRecord:
    """One ledger row from its raw cells in COLUMNS order; raises ValueError('why; why') naming every problem.

    The cells' own syntax (id, YYYY-MM-DD, 1/0 or 是/否) is read here; what a record may hold is
    hotline.consultation_record's, as for the store and the API.
    """
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

    if migrant not in _YES and migrant not in _NO:
        problems.append(f"bad migrant_worker '{migrant}' (use 1/0 or 是/否)")

    try:
        record = consultation_record(
            service=service_s, channel="import", occurred_at=day, category=category_s or None,
            migrant_worker=migrant in _YES, persons=persons_s or 1, street=street, community=community,
            outcome=outcome_s or None, amount=amount_s or None, summary=summary,
            source_id=SOURCE_PREFIX + row_id if row_id and len(row_id) <= _MAX_ID else None)
    except InvalidConsultation as exc:
        problems.extend(exc.problems)
    if problems:
        raise ValueError("; ".join(problems))
    return record


def parse_row(fields: dict[str, str]) -> ConsultationRecord:
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
            for line, cells in enumerate(reader, start=2):
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


def _rows(path: Path) -> Iterator[ConsultationRecord]:
    for _line, cells in _records(path):
        assert not isinstance(cells, str)  # validate() has passed
        yield parse_cells(cells)


def _batches(rows: Iterator[ConsultationRecord], size: int) -> Iterator[list[ConsultationRecord]]:
    batch: list[ConsultationRecord] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_ledger(*, session: Session, path: Path, dry_run: bool = False, batch_size: int = BATCH_SIZE) -> ImportResult:
    """Validate the whole ledger, then insert the rows not yet present (by source_id) in batches.

    Raises LedgerError before writing anything if any row is bad. Does not commit: the caller's unit of work
    makes the import one transaction. With dry_run, only counts what would be added.
    """
    result = ImportResult(read=validate(path), dry_run=dry_run)
    for batch in _batches(_rows(path), batch_size):
        present = consultations.present_source_ids(session=session, source_ids=[r.source_id or "" for r in batch])
        fresh = [r for r in batch if r.source_id not in present]
        result.already_present += len(batch) - len(fresh)
        result.new += len(fresh)
        if fresh and not dry_run:
            consultations.insert_records(session=session, records=fresh)
    return result
