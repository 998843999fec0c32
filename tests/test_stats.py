"""Annual figures: the seed ledger reproduces the 2023 report exactly; figures agree with a plain-Python model."""
from __future__ import annotations

import json
import math
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, insert
from sqlalchemy.orm import Session

from hotline.cli import main
from hotline.codes import ASSISTANT_CHANNELS, CATEGORIES, SERVICE_OUTCOMES
from hotline.ledger import import_ledger
from hotline.stats import UNSPECIFIED, annual_stats, change, percent, previous_year, render_paragraph
from hotline.store.models import Base, Consultation

SEED = Path(__file__).parent / "data" / "ledger_seed.csv"

# The bureau's 2023 report, figure by figure (900多件 taken as exactly 900).
REPORT_2023 = {
    "migrant_worker_cases": 74,
    "migrant_worker_case_persons": 182,
    "hotline_12348_consultations": 197,
    "migrant_worker_visit_persons": 214,
    "advisor_consultations": 900,
    "advisor_mediations": 10,
    "legal_aid_assigned": 127,
    "disputes_found": 749,
    "disputes_handled": 749,
    "disputes_mediated_success": 748,
    "mediation_success_rate": 99.87,
    # 「共指派律师到检察院办理认罪认罚从宽案498件、提供法律帮助538人次」「提供各类法律咨询350余人次」(350余 as 350)
    "plea_leniency_cases": 498,
    "plea_leniency_help_persons": 538,
    "publicity_consultation_persons": 350,
}
REPORT_FRAGMENTS = (
    "受理的农民工案件共74件182人次、解答“12348”电话咨询197个、接待农民工来访214人次",
    "顾问律师共解答居(村)民法律咨询900件，参与纠纷调解10件",
    "法律援助中心共指派法律援助案件127件；共指派律师到检察院办理认罪认罚从宽案498件、提供法律帮助538人次。",
    "排查出矛盾纠纷749件，调处749件，调处率100%，调解成功748件，调解成功率99.87%",
    "提供各类法律咨询350人次",
)
CONTRACT_KEYS = {
    *REPORT_2023, "online_consultations", "records_total", "by_month", "by_service", "by_category", "by_street",
}


@pytest.fixture
def seeded(session: Session) -> Session:
    import_ledger(session=session, path=SEED)
    session.commit()
    return session


def test_seed_reproduces_the_2023_report(seeded: Session) -> None:
    stats = annual_stats(session=seeded, year=2023)
    assert stats.keys() >= CONTRACT_KEYS
    assert {key: stats[key] for key in REPORT_2023} == REPORT_2023
    assert sum(stats["by_month"].values()) == stats["records_total"] == sum(stats["by_service"].values())
    assert sum(stats["by_category"].values()) == sum(stats["by_street"].values()) == stats["records_total"]
    assert list(stats["by_month"]) == [f"{m:02d}" for m in range(1, 13)]
    paragraph = render_paragraph(stats)
    for fragment in REPORT_FRAGMENTS:
        assert fragment in paragraph
    # The report's order: 法律服务, 顾问律师, 法律援助 and 认罪认罚, 人民调解, 普法; the ledger has no assistant rows.
    assert [paragraph.index(f) for f in REPORT_FRAGMENTS] == sorted(paragraph.index(f) for f in REPORT_FRAGMENTS)
    assert "智能助手" not in paragraph and stats["assistant_consultations"] == 0


def test_other_years_differ(seeded: Session) -> None:
    """The 2023 figures come from the 2023 rows only: the neighbouring years are in the file but not counted."""
    y2022, y2023 = annual_stats(session=seeded, year=2022), annual_stats(session=seeded, year=2023)
    assert y2022["records_total"] > 1000 and y2022["advisor_consultations"] != y2023["advisor_consultations"]
    assert annual_stats(session=seeded, year=2021)["records_total"] == 0


def test_cli_stats(engine: object, seeded: Session) -> None:
    runner = CliRunner()
    as_json = runner.invoke(main, ["stats", "--year", "2023", "--json"])
    assert as_json.exit_code == 0
    figures = json.loads(as_json.output)
    assert {key: figures[key] for key in REPORT_2023} == REPORT_2023
    text = runner.invoke(main, ["stats", "--year", "2023"])
    assert text.output == render_paragraph(annual_stats(session=seeded, year=2023)) + "\n"


def test_cli_stats_errors(engine: object) -> None:
    result = CliRunner().invoke(main, ["stats", "--year", "99999"])
    assert (result.exit_code, result.output) == (1, "Error: year 99999 is out of range\n")


def test_cli_without_schema() -> None:
    result = CliRunner().invoke(main, ["stats", "--year", "2023"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: the database at ")
    assert result.output.endswith("has no tables yet: run `hotline db upgrade` first\n")


def test_empty_year(session: Session) -> None:
    stats = annual_stats(session=session, year=2023)
    assert stats["records_total"] == 0 and stats["mediation_success_rate"] is None
    assert stats["by_month"] == {f"{m:02d}": 0 for m in range(1, 13)}
    paragraph = render_paragraph(stats)
    assert "调解成功率" not in paragraph and "调处率" not in paragraph and "排查出矛盾纠纷0件" in paragraph


def test_the_assistants_own_consultations_are_named_by_channel(session: Session) -> None:
    """Issue 21: the paragraph names what the assistant answered itself, beside the ledger's figures."""
    at = datetime(2023, 3, 1, 10)
    rows = [("online", "wechat", "wage_arrears", 12), ("online", "wechat", "family_dispute", 1),
            ("online", "web", "wage_arrears", 3), ("online", "web", "labor_dispute", 1),
            ("online", "import", "wage_arrears", 5),  # the ledger's 网络咨询: not the assistant
            ("hotline_12348", "phone", "wage_arrears", 2)]  # a call logged by an operator: 12348
    session.execute(insert(Consultation.__table__), [
        {"occurred_at": at, "service": svc, "channel": ch, "category": cat, "persons": p, "migrant_worker": False,
         "outcome": "answered"} for svc, ch, cat, p in rows])
    # A chat an operator took over and closed is the operator's consultation, not the assistant's.
    session.execute(insert(Consultation.__table__), [
        {"occurred_at": at, "service": "online", "channel": "wechat", "category": "wage_arrears", "persons": 4,
         "migrant_worker": False, "outcome": "answered", "operator": "op.wang"}])
    stats = annual_stats(session=session, year=2023)
    assert (stats["assistant_consultations"], stats["assistant_consultation_persons"]) == (4, 17)
    assert (stats["assistant_wage_consultations"], stats["assistant_wage_persons"]) == (2, 15)
    assert stats["assistant_by_channel"] == {"wechat": 13, "web": 4, "telegram": 0}
    assert stats["online_consultations"] == 6 and stats["hotline_12348_consultations"] == 1
    paragraph = render_paragraph(stats)
    assert "智能助手在线解答法律咨询17人次（微信13人次、网页4人次），其中讨薪15人次。" in paragraph
    assert paragraph.index("解答“12348”电话咨询1个") < paragraph.index("智能助手")


def test_year_over_year() -> None:
    assert change(110, 100) == "增长10%" and change(90, 120) == "下降25%" and change(7, 7) == "持平"
    assert change(5, 0) == "新增" and change(0, 0) == "—" and change(3, None) == "—"
    assert change(99.87, 99.5, rate=True) == "上升0.37个百分点" and change(100.0, 100.0, rate=True) == "持平"
    assert change(98.0, 99.87, rate=True) == "下降1.87个百分点" and change(None, 99.0, rate=True) == "—"


def test_previous_year_only_when_it_has_records(seeded: Session) -> None:
    before = previous_year(session=seeded, year=2023)
    assert before is not None and before["year"] == 2022 and before["records_total"] > 1000
    assert previous_year(session=seeded, year=2022) is None  # 2021 has no records


def test_percent_rounds_half_up() -> None:
    assert percent(748, 749) == 99.87
    assert percent(1, 800) == 0.13  # 0.125: the report rounds 四舍五入, not to even
    assert percent(749, 749) == 100.0
    assert percent(0, 0) is None


def test_year_boundaries(session: Session) -> None:
    edges = [datetime(2022, 12, 31, 23, 59, 59), datetime(2023, 1, 1), datetime(2023, 12, 31, 23, 59, 59),
             datetime(2024, 1, 1)]
    session.execute(insert(Consultation.__table__), [
        {"occurred_at": at, "service": "online", "channel": "web", "persons": 1, "migrant_worker": False}
        for at in edges
    ])
    stats = annual_stats(session=session, year=2023)
    assert stats["records_total"] == 2 and stats["by_month"]["01"] == 1 and stats["by_month"]["12"] == 1


# -- property: the SQL figures equal a plain-Python reading of the same rows --------------------------------------

_record = st.fixed_dictionaries({
    "service": st.sampled_from(sorted(SERVICE_OUTCOMES)),
    "occurred_at": st.datetimes(datetime(2022, 12, 25), datetime(2024, 1, 5)),
    "migrant_worker": st.booleans(),
    "persons": st.integers(1, 9),
    "category": st.one_of(st.none(), st.sampled_from(sorted(CATEGORIES))),
    "street": st.one_of(st.none(), st.sampled_from(["城中街道", "河东街道"])),
    "k": st.integers(0, 3),
    "channel": st.sampled_from(["import", "phone", *ASSISTANT_CHANNELS]),
})


def _model(records: list[dict], year: int) -> dict:
    rows = [r for r in records if r["occurred_at"].year == year]

    def n(pred) -> int:  # type: ignore[no-untyped-def]
        return sum(1 for r in rows if pred(r))

    def persons(pred) -> int:  # type: ignore[no-untyped-def]
        return sum(r["persons"] for r in rows if pred(r))

    migrant_case = lambda r: (r["service"] == "legal_aid" and r["migrant_worker"]  # noqa: E731
                              and r["outcome"] in ("accepted", "assigned"))
    handled = n(lambda r: r["service"] == "mediation" and r["outcome"] in ("success", "failed"))
    success = n(lambda r: r["service"] == "mediation" and r["outcome"] == "success")
    return {
        "hotline_12348_consultations": n(lambda r: r["service"] == "hotline_12348"),
        "migrant_worker_cases": n(migrant_case),
        "migrant_worker_case_persons": persons(migrant_case),
        "migrant_worker_visit_persons": persons(lambda r: r["service"] == "visit" and r["migrant_worker"]),
        "advisor_consultations": n(lambda r: r["service"] == "advisor"),
        "advisor_mediations": n(lambda r: r["service"] == "advisor" and r["outcome"] == "mediated"),
        "legal_aid_assigned": n(lambda r: r["service"] == "legal_aid" and r["outcome"] == "assigned"),
        "disputes_found": n(lambda r: r["service"] == "mediation"),
        "disputes_handled": handled,
        "disputes_mediated_success": success,
        # exact half-up rounding to 2 decimals
        "mediation_success_rate": math.floor(Fraction(100 * success, handled) * 100 + Fraction(1, 2)) / 100
        if handled else None,
        "online_consultations": n(lambda r: r["service"] == "online"),
        "plea_leniency_cases": n(lambda r: r["service"] == "plea_leniency"),
        "plea_leniency_help_persons": persons(lambda r: r["service"] == "plea_leniency"),
        "publicity_consultation_persons": persons(lambda r: r["service"] == "publicity"),
        "assistant_consultations": n(lambda r: r["service"] == "online" and r["channel"] in ASSISTANT_CHANNELS),
        "assistant_wage_persons": persons(lambda r: r["service"] == "online" and r["channel"] in ASSISTANT_CHANNELS
                                          and r["category"] == "wage_arrears"),
        "assistant_by_channel": {ch: persons(lambda r, ch=ch: r["service"] == "online" and r["channel"] == ch)
                                 for ch in ASSISTANT_CHANNELS},
        "records_total": len(rows),
        "by_category": {c: n(lambda r, c=c: (r["category"] or UNSPECIFIED) == c)
                        for c in {r["category"] or UNSPECIFIED for r in rows}},
        "by_month": {f"{m:02d}": n(lambda r, m=m: r["occurred_at"].month == m) for m in range(1, 13)},
    }


@settings(max_examples=40, deadline=None)
@given(records=st.lists(_record, max_size=60))
def test_stats_match_a_python_model(records: list[dict]) -> None:
    for r in records:
        outcomes = SERVICE_OUTCOMES[r["service"]] + (None,)
        r["outcome"] = outcomes[r.pop("k") % len(outcomes)]
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        if records:
            s.execute(insert(Consultation.__table__), records)
        stats = annual_stats(session=s, year=2023)
    expected = _model(records, 2023)
    assert {key: stats[key] for key in expected} == expected

