"""The console's dashboard: the year's figures (`hotline stats`), the month's file (`hotline export`), the report
paragraph, and today's and this month's counts by service and category. Operators only."""
from __future__ import annotations

import tempfile
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from bot.deps import OperatorDep, SessionDep
from hotline.codes import CATEGORIES, SERVICES
from hotline.export import ExportError, month_export, write_export
from hotline.stats import StatsError, annual_stats, render_paragraph

router = APIRouter()
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
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


def _counts(session: Any, start: datetime, end: datetime) -> dict[str, Any]:
    from hotline.store import repository

    by_service = repository.counts_by(session=session, column="service", start=start, end=end)
    by_category = repository.counts_by(session=session, column="category", start=start, end=end)
    return {
        "total": sum(by_service.values()),
        "by_service": [{"code": k, "label": SERVICES.get(k, k), "count": n}
                       for k, n in sorted(by_service.items(), key=lambda kv: -kv[1])],
        "by_category": [{"code": k, "label": CATEGORIES.get(k, k), "count": n}
                        for k, n in sorted(by_category.items(), key=lambda kv: -kv[1])],
    }


@router.get("/api/dashboard")
def dashboard(operator: OperatorDep, session: SessionDep,
              now: Annotated[datetime | None, Query(include_in_schema=False)] = None) -> dict[str, Any]:
    """Today's and this month's counts (Liuzhou days), the year's months, and the report paragraph."""
    local = (now.replace(tzinfo=now.tzinfo or timezone.utc) if now else datetime.now(timezone.utc)).astimezone(LOCAL_TZ)
    day = datetime.combine(local.date(), time.min, tzinfo=LOCAL_TZ)
    month = day.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    year = _stats(session, local.year)
    return {
        "today": {"date": local.date().isoformat(), **_counts(session, _utc(day), _utc(day + timedelta(days=1)))},
        "month": {"month": f"{local.year}-{local.month:02d}", **_counts(session, _utc(month), _utc(next_month))},
        "year": local.year,
        "by_month": year["by_month"],
        "paragraph": render_paragraph(year),
    }
