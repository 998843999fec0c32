"""The bureau's annual figures (CONTRACT §6), computed in SQL, and the report paragraph in its own wording.

Every query filters on a half-open occurred_at range so the occurred_at indexes serve it; the figures are
conditional aggregates in one pass, the breakdowns one GROUP BY.
"""
from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from hotline.store.models import Consultation

UNSPECIFIED = "unspecified"  # the by_category / by_street key of rows with no category / street

_c = Consultation.__table__.c


class month_of(FunctionElement[str]):  # noqa: N801 - SQL function style
    """'01'..'12' of a DateTime column, in the cheapest form each dialect offers."""

    type = String()
    inherit_cache = True


@compiles(month_of, "sqlite")
def _month_sqlite(element: month_of, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLAlchemy stores DateTime as 'YYYY-MM-DD HH:MM:SS.ffffff' text: slicing beats strftime on a million rows.
    return f"substr({compiler.process(element.clauses, **kw)}, 6, 2)"


@compiles(month_of, "postgresql")
def _month_postgresql(element: month_of, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'MM')"


class StatsError(ValueError):
    """A request for figures that cannot be answered (e.g. a year out of range)."""


def period(year: int, month: int | None = None) -> tuple[datetime, datetime]:
    """The half-open [start, end) occurred_at range of a year, or of one month of it."""
    if not 1900 <= year <= 9998:
        raise StatsError(f"year {year} is out of range")
    if month is None:
        return datetime(year, 1, 1), datetime(year + 1, 1, 1)
    if not 1 <= month <= 12:
        raise StatsError(f"month {month} is out of range")
    end = datetime(year + 1, 1, 1) if month == 12 else datetime(year, month + 1, 1)
    return datetime(year, month, 1), end


def percent(part: int, whole: int) -> float | None:
    """100 × part / whole to 2 decimals, rounded half up as the report does (None when whole is 0)."""
    if whole == 0:
        return None
    return float((Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _persons_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, _c.persons), else_=0)), 0)


def _figures(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    migrant_case = and_(
        _c.service == "legal_aid", _c.migrant_worker.is_(True), _c.outcome.in_(("accepted", "assigned"))
    )
    columns = {
        "hotline_12348_consultations": _count_if(_c.service == "hotline_12348"),
        "migrant_worker_cases": _count_if(migrant_case),
        "migrant_worker_case_persons": _persons_if(migrant_case),
        "migrant_worker_visit_persons": _persons_if(and_(_c.service == "visit", _c.migrant_worker.is_(True))),
        "advisor_consultations": _count_if(_c.service == "advisor"),
        "advisor_mediations": _count_if(and_(_c.service == "advisor", _c.outcome == "mediated")),
        "legal_aid_assigned": _count_if(and_(_c.service == "legal_aid", _c.outcome == "assigned")),
        "disputes_found": _count_if(_c.service == "mediation"),
        "disputes_handled": _count_if(and_(_c.service == "mediation", _c.outcome.in_(("success", "failed")))),
        "disputes_mediated_success": _count_if(and_(_c.service == "mediation", _c.outcome == "success")),
        "online_consultations": _count_if(_c.service == "online"),
        "records_total": func.count(),
        "persons_total": func.coalesce(func.sum(_c.persons), 0),
    }
    query = select(*(col.label(name) for name, col in columns.items())).where(
        _c.occurred_at >= start, _c.occurred_at < end
    )
    row = session.execute(query).one()
    return {name: int(row._mapping[name]) for name in columns}


def _grouped(session: Session, start: datetime, end: datetime, *keys: ColumnElement[Any]) -> list[Any]:
    query = (
        select(*keys, func.count().label("n"))
        .where(_c.occurred_at >= start, _c.occurred_at < end)
        .group_by(*keys)
    )
    return list(session.execute(query))


def _tally(groups: list[Any], index: int) -> dict[str, int]:
    """Counts per value of one key column of the grouped rows, largest first; a missing value is UNSPECIFIED."""
    counts: dict[str, int] = {}
    for group in groups:
        key = group[index] if group[index] is not None else UNSPECIFIED
        counts[key] = counts.get(key, 0) + group[-1]
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def annual_stats(*, session: Session, year: int) -> dict[str, Any]:
    """Every figure of CONTRACT §6 for records dated in `year`, plus breakdowns and two rates.

    Two scans of the year: the figures as conditional aggregates, and one GROUP BY month × service × category
    × street (at most a few thousand groups) from which every breakdown is summed.
    """
    start, end = period(year)
    stats: dict[str, Any] = {"year": year, **_figures(session, start, end)}
    stats["mediation_success_rate"] = percent(stats["disputes_mediated_success"], stats["disputes_handled"])
    stats["disputes_handled_rate"] = percent(stats["disputes_handled"], stats["disputes_found"])  # 调处率

    groups = _grouped(session, start, end, month_of(_c.occurred_at), _c.service, _c.category, _c.street)
    by_month = {f"{m:02d}": 0 for m in range(1, 13)}
    by_month_service: dict[str, dict[str, int]] = {key: {} for key in by_month}
    for key, service, _category, _street, n in groups:
        by_month[key] += n
        by_month_service[key][service] = by_month_service[key].get(service, 0) + n
    stats["by_month"] = by_month
    stats["by_month_service"] = by_month_service
    stats["by_service"] = _tally(groups, 1)
    stats["by_category"] = _tally(groups, 2)
    stats["by_street"] = _tally(groups, 3)
    return stats


def format_rate(value: float) -> str:
    """99.87 -> '99.87', 100.0 -> '100', 99.5 -> '99.5'."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def render_paragraph(stats: dict[str, Any]) -> str:
    """The statistics paragraph of the bureau's annual report, in its own wording, filled from `stats`."""
    s = stats
    disputes = f"排查出矛盾纠纷{s['disputes_found']}件，调处{s['disputes_handled']}件"
    if s.get("disputes_handled_rate") is not None:
        disputes += f"，调处率{format_rate(s['disputes_handled_rate'])}%"
    disputes += f"，调解成功{s['disputes_mediated_success']}件"
    if s["mediation_success_rate"] is not None:
        disputes += f"，调解成功率{format_rate(s['mediation_success_rate'])}%"
    return (
        f"{s['year']}年，受理的农民工案件共{s['migrant_worker_cases']}件{s['migrant_worker_case_persons']}人次、"
        f"解答“12348”电话咨询{s['hotline_12348_consultations']}个、"
        f"接待农民工来访{s['migrant_worker_visit_persons']}人次。"
        f"顾问律师共解答居(村)民法律咨询{s['advisor_consultations']}件，参与纠纷调解{s['advisor_mediations']}件。"
        f"法律援助中心共指派法律援助案件{s['legal_aid_assigned']}件。"
        f"{disputes}。"
    )
