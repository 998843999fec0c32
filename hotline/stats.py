"""The bureau's annual figures (CONTRACT §6), computed in SQL, and the report paragraph in its own wording.

Every figure and breakdown cell is a count (or sum) over rows with one key value in a half-open occurred_at
range: with a (key, occurred_at, ...) index (revision 0002) that is one contiguous index range, read once and
never sorted. A plain GROUP BY over a year must sort every row of it (3 s for a million rows on SQLite).
"""
from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, null, select
from sqlalchemy.orm import Session

from hotline.codes import ASSISTANT_CHANNELS, CHANNELS
from hotline.store.models import Consultation

UNSPECIFIED = "unspecified"  # the by_category / by_street key of rows with no category / street

_c = Consultation.__table__.c


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


def _in(start: datetime, end: datetime, table: Any = _c) -> ColumnElement[bool]:
    return and_(table.occurred_at >= start, table.occurred_at < end)


def _seek(aggregate: ColumnElement[int], *conditions: ColumnElement[bool]) -> Any:
    """A scalar subquery over the rows matching `conditions`, which must pin an index prefix (see module doc)."""
    return select(func.coalesce(aggregate, 0)).where(*conditions).scalar_subquery()


def _figures(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """The headline figures, each a count or sum over one service's rows of the year.

    service = X AND occurred_at in the year is one range of ix_consultations_service_occurred, and outcome,
    migrant_worker and persons are in the index: no table row is read and no CASE runs on the other services.
    """
    def count(service: str, *more: ColumnElement[bool]) -> Any:
        return _seek(func.count(), _c.service == service, _in(start, end), *more)

    def persons(service: str, *more: ColumnElement[bool]) -> Any:
        return _seek(func.sum(_c.persons), _c.service == service, _in(start, end), *more)

    migrant_case = (_c.migrant_worker.is_(True), _c.outcome.in_(("accepted", "assigned")))
    columns = {
        "hotline_12348_consultations": count("hotline_12348"),
        "migrant_worker_cases": count("legal_aid", *migrant_case),
        "migrant_worker_case_persons": persons("legal_aid", *migrant_case),
        "migrant_worker_visit_persons": persons("visit", _c.migrant_worker.is_(True)),
        "advisor_consultations": count("advisor"),
        "advisor_mediations": count("advisor", _c.outcome == "mediated"),
        "legal_aid_assigned": count("legal_aid", _c.outcome == "assigned"),
        "disputes_found": count("mediation"),
        "disputes_handled": count("mediation", _c.outcome.in_(("success", "failed"))),
        "disputes_mediated_success": count("mediation", _c.outcome == "success"),
        "online_consultations": count("online"),
        "plea_leniency_cases": count("plea_leniency"),
        "plea_leniency_help_persons": persons("plea_leniency"),
        "publicity_consultation_persons": persons("publicity"),
    }
    row = session.execute(select(*(col.label(name) for name, col in columns.items()))).one()
    return {name: int(row._mapping[name]) for name in columns}


def _assistant(session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    """The assistant's own consultations (service online on its chat channels, not taken over by an operator: a
    closed handoff is the operator's consultation), by channel and wage claims.

    人次 is the sum of persons, as for every other figure: a wage claim counts the workers it covers (CONTRACT §5).
    A GROUP BY here reads only the year's online rows of the service index range, a small share of the year.
    """
    wage = _c.category == "wage_arrears"
    query = (
        select(_c.channel, wage.label("wage"), func.count(), func.coalesce(func.sum(_c.persons), 0))
        .where(_c.service == "online", _in(start, end), _c.channel.in_(ASSISTANT_CHANNELS), _c.operator.is_(None))
        .group_by(_c.channel, wage)
    )
    by_channel = dict.fromkeys(ASSISTANT_CHANNELS, 0)
    out = {"assistant_consultations": 0, "assistant_consultation_persons": 0,
           "assistant_wage_consultations": 0, "assistant_wage_persons": 0}
    for channel, is_wage, n, persons in session.execute(query):
        by_channel[channel] += int(persons)
        out["assistant_consultations"] += int(n)
        out["assistant_consultation_persons"] += int(persons)
        if is_wage:
            out["assistant_wage_consultations"] += int(n)
            out["assistant_wage_persons"] += int(persons)
    return {**out, "assistant_by_channel": by_channel}


def _distinct(column: str) -> Any:
    """The distinct non-null values of an indexed column as a recursive CTE: one index seek per value
    ("loose index scan"), where SELECT DISTINCT would read every row and sort."""
    probe = Consultation.__table__.alias("probe")
    values = select(func.min(_c[column]).label("value")).cte(f"{column}_values", recursive=True)
    following = select(func.min(probe.c[column])).where(probe.c[column] > values.c.value).scalar_subquery()
    return values.union_all(select(following).where(values.c.value.is_not(None)))


def _by_service_month(session: Session, year: int, start: datetime, end: datetime) -> list[Any]:
    """Per service: its count in each month (columns '01'..'12') and its persons in the year.

    Each cell is one range of ix_consultations_service_occurred (service = s AND occurred_at in the month), so
    the year's rows are counted once in index order and never sorted, as a GROUP BY on the month would need.
    """
    services = _distinct("service")
    months = [period(year, month) for month in range(1, 13)]
    cells = [
        _seek(func.count(), _c.service == services.c.value, _in(low, high)).label(f"{m:02d}")
        for m, (low, high) in enumerate(months, start=1)
    ]
    persons = _seek(func.sum(_c.persons), _c.service == services.c.value, _in(start, end)).label("persons")
    query = select(services.c.value, *cells, persons).where(services.c.value.is_not(None))
    return list(session.execute(query))


def _by_value(session: Session, column: str, start: datetime, end: datetime) -> list[tuple[str | None, int]]:
    """(value, count) of one column over the year, None for rows without a value; values absent that year
    are left out as a GROUP BY would. Each count is one range of ix_consultations_<column>_occurred."""
    values = _distinct(column)
    present = select(values.c.value, _seek(func.count(), _c[column] == values.c.value, _in(start, end)))
    missing = select(null(), _seek(func.count(), _c[column].is_(None), _in(start, end)))
    rows = session.execute(present.where(values.c.value.is_not(None)).union_all(missing))
    return [(value, int(n)) for value, n in rows if n]


def _tally(pairs: list[tuple[str | None, int]]) -> dict[str, int]:
    """Counts per value, largest first; a missing value is UNSPECIFIED."""
    counts: dict[str, int] = {}
    for value, n in pairs:
        key = value if value is not None else UNSPECIFIED
        counts[key] = counts.get(key, 0) + n
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def annual_stats(*, session: Session, year: int) -> dict[str, Any]:
    """Every figure of CONTRACT §6 for records dated in `year`, plus breakdowns and two rates.

    No query reads a table row or sorts the year: each figure and each breakdown cell is a count over one range
    of a (key, occurred_at, ...) index, the keys found by a loose index scan. The Python below only reshapes
    the few dozen cells those queries return.
    """
    start, end = period(year)
    stats: dict[str, Any] = {"year": year, **_figures(session, start, end), **_assistant(session, start, end)}

    by_month = {f"{m:02d}": 0 for m in range(1, 13)}
    by_month_service: dict[str, dict[str, int]] = {key: {} for key in by_month}
    by_service: list[tuple[str | None, int]] = []
    persons_by_service: dict[str, int] = {}
    persons_total = 0
    for row in _by_service_month(session, year, start, end):
        service, cells = row[0], row._mapping
        for key in by_month:
            if cells[key]:
                by_month[key] += cells[key]
                by_month_service[key][service] = cells[key]
        by_service.append((service, sum(cells[key] for key in by_month)))
        persons_total += int(cells["persons"])
        if cells["persons"]:
            persons_by_service[service] = int(cells["persons"])
    stats["records_total"] = sum(by_month.values())
    stats["persons_total"] = persons_total
    stats["mediation_success_rate"] = percent(stats["disputes_mediated_success"], stats["disputes_handled"])
    stats["disputes_handled_rate"] = percent(stats["disputes_handled"], stats["disputes_found"])  # 调处率
    stats["by_month"] = by_month
    stats["by_month_service"] = by_month_service
    stats["by_service"] = _tally([pair for pair in by_service if pair[1]])
    stats["persons_by_service"] = {key: persons_by_service.get(key, 0) for key in stats["by_service"]}
    stats["by_category"] = _tally(_by_value(session, "category", start, end))
    stats["by_street"] = _tally(_by_value(session, "street", start, end))
    return stats


def format_rate(value: float) -> str:
    """99.87 -> '99.87', 100.0 -> '100', 99.5 -> '99.5'."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def assistant_sentence(stats: dict[str, Any]) -> str:
    """「智能助手在线解答法律咨询N人次（微信a人次、网页b人次），其中讨薪M人次」, or '' in a year without any."""
    s = stats
    if not s.get("assistant_consultations"):
        return ""
    channels = "、".join(f"{CHANNELS[ch]}{n}人次" for ch, n in s["assistant_by_channel"].items() if n)
    sentence = f"智能助手在线解答法律咨询{s['assistant_consultation_persons']}人次（{channels}）"
    if s["assistant_wage_persons"]:
        sentence += f"，其中讨薪{s['assistant_wage_persons']}人次"
    return sentence


def render_paragraph(stats: dict[str, Any]) -> str:
    """The statistics paragraph of the bureau's annual report, in its own wording and order, filled from `stats`.

    The ledger's figures first, as the report tells them (法律服务, 顾问律师, 法律援助 with 认罪认罚, 人民调解, 普法),
    then what the assistant answered itself, which the historical reports did not have.
    """
    s = stats
    disputes = f"排查出矛盾纠纷{s['disputes_found']}件，调处{s['disputes_handled']}件"
    if s.get("disputes_handled_rate") is not None:
        disputes += f"，调处率{format_rate(s['disputes_handled_rate'])}%"
    disputes += f"，调解成功{s['disputes_mediated_success']}件"
    if s["mediation_success_rate"] is not None:
        disputes += f"，调解成功率{format_rate(s['mediation_success_rate'])}%"
    assistant = assistant_sentence(s)
    return (
        f"{s['year']}年，受理的农民工案件共{s['migrant_worker_cases']}件{s['migrant_worker_case_persons']}人次、"
        f"解答“12348”电话咨询{s['hotline_12348_consultations']}个、"
        f"接待农民工来访{s['migrant_worker_visit_persons']}人次。"
        f"顾问律师共解答居(村)民法律咨询{s['advisor_consultations']}件，参与纠纷调解{s['advisor_mediations']}件。"
        f"法律援助中心共指派法律援助案件{s['legal_aid_assigned']}件；"
        f"共指派律师到检察院办理认罪认罚从宽案{s['plea_leniency_cases']}件、"
        f"提供法律帮助{s['plea_leniency_help_persons']}人次。"
        f"{disputes}。"
        f"法治宣传活动中提供各类法律咨询{s['publicity_consultation_persons']}人次。"
        + (f"{assistant}。" if assistant else "")
    )


# -- year over year (同比) ------------------------------------------------------------------------------------

def previous_year(*, session: Session, year: int) -> dict[str, Any] | None:
    """The figures of year - 1 when that year has any record, else None (no 同比 is shown then)."""
    if year - 1 < 1900:
        return None
    before = annual_stats(session=session, year=year - 1)
    return before if before["records_total"] else None


def change(current: float | int | None, previous: float | int | None, *, rate: bool = False) -> str:
    """同比 in the report's words: 增长12.5% / 下降3% / 持平; a rate moves in 个百分点; '—' when undefined."""
    if current is None or previous is None:
        return "—"
    if rate:
        delta = Decimal(str(current)) - Decimal(str(previous))
        if delta == 0:
            return "持平"
        return f"{'上升' if delta > 0 else '下降'}{format_rate(float(abs(delta)))}个百分点"
    if previous == 0:
        return "—" if current == 0 else "新增"
    if current == previous:
        return "持平"
    moved = percent(abs(int(current) - int(previous)), int(previous))
    assert moved is not None
    return f"{'增长' if current > previous else '下降'}{format_rate(moved)}%"
