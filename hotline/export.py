"""Monthly consultation counts for the bureau's spreadsheets (CONTRACT §6 `hotline export`).

Three tables — 服务类型 × 类别, 街道, 渠道 — each with 件 and 人次 and a 合计 row. Counts only: no names, phones or
summaries ever leave the database this way.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from hotline.codes import CATEGORIES, CHANNELS, SERVICES
from hotline.stats import StatsError, period
from hotline.store.models import Consultation

FORMATS = ("csv", "xlsx")
MISSING = "未填写"
TOTAL = "合计"

_c = Consultation.__table__.c


class ExportError(ValueError):
    """An export that cannot be made (bad month, unknown format)."""


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]  # label columns, then 件数, 人次
    rows: list[tuple[Any, ...]]

    @property
    def total(self) -> tuple[Any, ...]:
        """The 合计 row: label columns blank but the first, counts summed."""
        labels = len(self.headers) - 2
        cases = sum(r[-2] for r in self.rows)
        persons = sum(r[-1] for r in self.rows)
        return (TOTAL,) + ("",) * (labels - 1) + (cases, persons)


@dataclass(frozen=True)
class MonthExport:
    year: int
    month: int
    tables: tuple[Table, ...]

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"


def parse_month(text: str) -> tuple[int, int]:
    """'2023-03' -> (2023, 3); raises ExportError otherwise."""
    try:
        year_s, month_s = text.strip().split("-")
        year, month = int(year_s), int(month_s)
        if len(year_s) != 4 or not 1 <= month <= 12:
            raise ValueError
        period(year, month)
    except StatsError as exc:
        raise ExportError(str(exc)) from None
    except ValueError:
        raise ExportError(f"month '{text}' is not YYYY-MM") from None
    return year, month


def _label(table: dict[str, str], code: str | None) -> str:
    if code is None:
        return MISSING
    return table.get(code, code)


def _counts(session: Session, year: int, month: int, *keys: ColumnElement[Any]) -> list[Any]:
    start, end = period(year, month)
    query = (
        select(*keys, func.count(), func.coalesce(func.sum(_c.persons), 0))
        .where(_c.occurred_at >= start, _c.occurred_at < end)
        .group_by(*keys)
    )
    return list(session.execute(query))


def _order(table: dict[str, str], code: str | None) -> tuple[int, str]:
    """Codes in the order of hotline.codes, unknown codes after, missing last."""
    order = list(table)
    if code is None:
        return (len(order) + 1, "")
    return (order.index(code), code) if code in table else (len(order), code)


def month_export(*, session: Session, month: str) -> MonthExport:
    """The three count tables for one month given as YYYY-MM."""
    year, mon = parse_month(month)
    by_service = _counts(session, year, mon, _c.service, _c.category)
    by_service.sort(key=lambda r: (_order(SERVICES, r[0]), _order(CATEGORIES, r[1])))
    by_street = sorted(_counts(session, year, mon, _c.street), key=lambda r: (r[0] is None, -r[1], r[0] or ""))
    by_channel = sorted(_counts(session, year, mon, _c.channel), key=lambda r: _order(CHANNELS, r[0]))
    tables = (
        Table("按服务类型和类别", ("服务类型", "类别", "件数", "人次"),
              [(_label(SERVICES, s), _label(CATEGORIES, c), n, int(p)) for s, c, n, p in by_service]),
        Table("按街道", ("街道", "件数", "人次"), [(s or MISSING, n, int(p)) for s, n, p in by_street]),
        Table("按渠道", ("渠道", "件数", "人次"), [(_label(CHANNELS, ch), n, int(p)) for ch, n, p in by_channel]),
    )
    return MonthExport(year, mon, tables)


def period_counts(*, session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    """件 and 人次 in [start, end) by service and by category, with the export's labels (a record without a category
    is 未填写 here as in the file), largest first: the console's today and this-month tables."""
    def by(column: ColumnElement[Any], table: dict[str, str]) -> list[dict[str, Any]]:
        rows = session.execute(
            select(column, func.count(), func.coalesce(func.sum(_c.persons), 0))
            .where(_c.occurred_at >= start, _c.occurred_at < end).group_by(column))
        out = [{"code": code, "label": _label(table, code), "count": int(n), "persons": int(p)} for code, n, p in rows]
        return sorted(out, key=lambda r: (-r["count"], _order(table, r["code"])))

    by_service = by(_c.service, SERVICES)
    return {"total": sum(r["count"] for r in by_service), "persons": sum(r["persons"] for r in by_service),
            "by_service": by_service, "by_category": by(_c.category, CATEGORIES)}


def write_csv(export: MonthExport, out: Path) -> None:
    """The three tables one under another, each under its title, separated by a blank line.

    UTF-8 with a BOM and CRLF, so Excel opens the Chinese text correctly by double-click.
    """
    with out.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        for i, table in enumerate(export.tables):
            if i:
                writer.writerow([])
            writer.writerow([f"{export.label} {table.title}统计"])
            writer.writerow(table.headers)
            writer.writerows(table.rows)
            writer.writerow(table.total)


def write_xlsx(export: MonthExport, out: Path) -> None:
    """One sheet per table: a title line, bold header, the rows, a bold 合计 row; widths fit the text."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.worksheets[0])  # a new book's one empty sheet: each table adds its own
    bold = Font(bold=True)
    shade = PatternFill("solid", fgColor="DDEBF7")
    for table in export.tables:
        sheet = book.create_sheet(table.title)
        sheet.append([f"{export.label} {table.title}统计"])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append(list(table.headers))
        for cell in sheet[2]:
            cell.font, cell.fill = bold, shade
            cell.alignment = Alignment(horizontal="center")
        for row in table.rows:
            sheet.append(list(row))
        sheet.append(list(table.total))
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        sheet.freeze_panes = "A3"
        for col, header in enumerate(table.headers, start=1):
            cells = [header, *(row[col - 1] for row in table.rows)]
            # A CJK character is about two Latin widths.
            width = max(sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(v)) for v in cells)
            sheet.column_dimensions[get_column_letter(col)].width = max(8, width + 4)
    book.save(out)


def write_export(export: MonthExport, out: Path, fmt: str) -> None:
    if fmt not in FORMATS:
        raise ExportError(f"unknown format '{fmt}' (use csv or xlsx)")
    (write_csv if fmt == "csv" else write_xlsx)(export, out)
