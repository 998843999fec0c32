"""The console's dashboard: the year's figures (`hotline stats`) beside last year's (同比), the month's file (`hotline
export`), the report paragraph, today's and this month's counts by service and category (labelled as the export
labels them), and the advisor network (`hotline advisors report`). Operators only."""
from __future__ import annotations

import tempfile
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from bot.deps import OperatorDep, SessionDep
from hotline import clock
from hotline.advisor_report import advisor_report
from hotline.advisor_report import write_xlsx as write_advisor_xlsx
from hotline.export import ExportError, month_export, period_counts, write_export
from hotline.report import figure_rows, service_rows
from hotline.stats import StatsError, annual_stats, assistant_sentence, previous_year, render_paragraph

router = APIRouter()
MEDIA = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
Year = Annotated[int, Query(ge=1990, le=2100)]


def _stats(session: Any, year: int) -> dict[str, Any]:
    try:
        return annual_stats(session=session, year=year)
    except StatsError as exc:
        raise HTTPException(422, detail=str(exc)) from exc


@router.get("/api/stats")
def stats(operator: OperatorDep, session: SessionDep, year: Year) -> dict[str, Any]:
    """The object `hotline stats --year YEAR --json` prints."""
    return _stats(session, year)


@router.get("/api/stats/paragraph")
def paragraph(operator: OperatorDep, session: SessionDep, year: Year) -> dict[str, Any]:
    """The year's statistics paragraph in the bureau's wording (`hotline stats --year YEAR`)."""
    return {"year": year, "paragraph": render_paragraph(_stats(session, year))}


@router.get("/api/export")
def export(operator: OperatorDep, session: SessionDep, month: Annotated[str, Query(max_length=7)],
           format: Literal["csv", "xlsx"] = "xlsx") -> Response:
    """The file `hotline export --month MONTH --format FORMAT` writes."""
    try:
        tables = month_export(session=session, month=month)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / f"{month}.{format}"
            write_export(tables, out, format)
            content = out.read_bytes()
    except ExportError as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    name = f"consultations-{month}.{format}"
    return Response(content, media_type=MEDIA[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _utc(local: datetime) -> datetime:
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def _figures(session: Any, stats: dict[str, Any]) -> dict[str, Any]:
    """The report table's figures, each beside last year's and its 同比 when last year has records."""
    before = previous_year(session=session, year=stats["year"])
    return {
        "previous_year": before["year"] if before else None,
        "rows": [{"key": r.key, "label": r.label, "value": r.value, "previous": r.previous, "change": r.change}
                 for r in figure_rows(stats, before)],
    }


def _assistant(stats: dict[str, Any]) -> dict[str, Any]:
    return {"sentence": assistant_sentence(stats), "consultations": stats["assistant_consultations"],
            "persons": stats["assistant_consultation_persons"], "wage_persons": stats["assistant_wage_persons"],
            "by_channel": stats["assistant_by_channel"]}


@router.get("/api/dashboard/figures")
def figures(operator: OperatorDep, session: SessionDep, year: Year) -> dict[str, Any]:
    """A year's report table with 同比, its paragraph, the assistant's own count and the by-service table."""
    stats = _stats(session, year)
    return {"year": year, "paragraph": render_paragraph(stats), "assistant": _assistant(stats),
            "figures": _figures(session, stats),
            "services": [{"label": label, "count": n, "persons": p} for label, n, p in service_rows(stats)]}


@router.get("/api/dashboard/advisors", response_model=None)
def advisors(operator: OperatorDep, session: SessionDep, year: Year,
             format: Literal["json", "xlsx"] = "json") -> dict[str, Any] | Response:
    """The advisor network's year (`hotline advisors report --year YEAR [--out FILE.xlsx]`)."""
    try:
        network = advisor_report(session=session, year=year)
    except StatsError as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    if format == "json":
        return network.to_dict()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "advisors.xlsx"
        write_advisor_xlsx(network, out)
        content = out.read_bytes()
    return Response(content, media_type=MEDIA["xlsx"],
                    headers={"Content-Disposition": f'attachment; filename="advisors-{year}.xlsx"'})


@router.get("/api/dashboard")
def dashboard(operator: OperatorDep, session: SessionDep,
              now: Annotated[datetime | None, Query(include_in_schema=False)] = None) -> dict[str, Any]:
    """Today's and this month's counts (Liuzhou days), the year's months, the report paragraph with the assistant's
    own count, and the year's figures beside last year's."""
    local = clock.local(now) if now else clock.now()
    day = datetime.combine(local.date(), time.min, tzinfo=clock.LIUZHOU)
    month = day.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    year = _stats(session, local.year)
    today = period_counts(session=session, start=_utc(day), end=_utc(day + timedelta(days=1)))
    this_month = period_counts(session=session, start=_utc(month), end=_utc(next_month))
    return {
        "today": {"date": local.date().isoformat(), **today},
        "month": {"month": f"{local.year}-{local.month:02d}", **this_month},
        "year": local.year,
        "by_month": year["by_month"],
        "paragraph": render_paragraph(year),
        "assistant": _assistant(year),
        "figures": _figures(session, year),
    }
