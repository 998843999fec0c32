"""The advisor network report: per street and community, totals equal to `hotline stats`, the XLSX in openpyxl."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import insert
from sqlalchemy.orm import Session

from hotline.advisor_report import MISSING, advisor_report, render_text, summary, write_xlsx
from hotline.cli import main
from hotline.directory import parse_roster
from hotline.ledger import import_ledger
from hotline.settings import PROJECT_ROOT
from hotline.stats import annual_stats
from hotline.store import directory
from hotline.store.models import Advisor, Consultation

SEED = Path(__file__).parent / "data" / "ledger_seed.csv"
ROSTER = PROJECT_ROOT / "data" / "directory_sample.csv"


@pytest.fixture
def seeded(session: Session) -> Session:
    directory.import_directory(session=session, entries=parse_roster(ROSTER.read_text(encoding="utf-8")))
    import_ledger(session=session, path=SEED)
    session.commit()
    return session


def test_xlsx_one_sheet_per_street_totals_equal_the_stats(engine: object, seeded: Session, tmp_path: Path) -> None:
    out = tmp_path / "顾问2023.xlsx"
    runner = CliRunner()
    result = runner.invoke(main, ["advisors", "report", "--year", "2023", "--out", str(out)])
    assert result.exit_code == 0, result.output
    stats = json.loads(runner.invoke(main, ["stats", "--year", "2023", "--json"]).output)
    assert (stats["advisor_consultations"], stats["advisor_mediations"]) == (900, 10)

    book = load_workbook(out)
    streets = [e.street for e in directory.directory_entries(session=seeded)]
    roster_streets = list(dict.fromkeys(streets))
    # 汇总, the roster's seven streets in its order, then the ledger's advisor rows without a street.
    assert book.sheetnames == ["汇总", *roster_streets, MISSING]
    consultations = mediations = 0
    for name in book.sheetnames[1:]:
        rows = list(book[name].iter_rows(values_only=True))
        assert rows[0][0] == f"2023年 {name} 法律顾问工作统计"
        assert rows[1][:5] == ("村（社区）", "法律顾问", "律师事务所", "咨询件数", "调解件数")
        assert rows[1][5:17] == tuple(f"{m}月" for m in range(1, 13))
        body, total = rows[2:-1], rows[-1]
        assert total[0] == "合计" and book[name].cell(book[name].max_row, 1).font.bold
        assert total[3] == sum(r[3] for r in body) and total[4] == sum(r[4] for r in body)
        assert all(r[3] == sum(r[5:17]) for r in body)  # each community's months add up to its year
        consultations += total[3]
        mediations += total[4]
        if name != MISSING:
            assert {r[0] for r in body} == {e.community for e in directory.directory_entries(session=seeded)
                                           if e.street == name}
            assert all(r[1] for r in body)  # the sample roster names an advisor everywhere
    assert (consultations, mediations) == (stats["advisor_consultations"], stats["advisor_mediations"])
    summary_rows = list(book["汇总"].iter_rows(values_only=True))
    total = next(r for r in summary_rows if r and r[0] == "合计")
    assert total[1:5] == (21, 21, 900, 10)
    assert any(r and r[0] and "覆盖率100%，实现全覆盖" in str(r[0]) for r in summary_rows)


def test_communities_without_consultations_coverage_and_places_off_the_roster(session: Session,
                                                                               tmp_path: Path) -> None:
    session.add_all([
        Advisor(street="沿江街道", community="东堤社区", advisor="甲律师"),
        Advisor(street="沿江街道", community="沙街社区", advisor="乙律师"),
        Advisor(street="沿江街道", community="江滨社区", advisor=None),  # no advisor yet
    ])
    at = [datetime(2023, 1, 5), datetime(2023, 1, 20), datetime(2023, 7, 1), datetime(2024, 1, 1)]
    rows = [
        ("沿江街道", "东堤社区", "answered", at[0]), ("沿江街道", "东堤社区", "mediated", at[1]),
        ("水上街道", "东堤社区", "answered", at[2]),  # the street's former name: the same community
        ("沿江街道", "不存在社区", "answered", at[2]),  # not in the roster: a line of its own
        (None, None, "answered", at[2]),
        ("沿江街道", "沙街社区", "answered", at[3]),  # next year: not counted
    ]
    session.execute(insert(Consultation.__table__), [
        {"occurred_at": when, "service": "advisor", "channel": "import", "street": street, "community": community,
         "outcome": outcome, "persons": 1, "migrant_worker": False} for street, community, outcome, when in rows])
    session.execute(insert(Consultation.__table__), [  # other services never count here
        {"occurred_at": at[0], "service": "visit", "channel": "import", "street": "沿江街道", "community": "沙街社区",
         "outcome": "answered", "persons": 1, "migrant_worker": False}])
    session.commit()

    report = advisor_report(session=session, year=2023)
    stats = annual_stats(session=session, year=2023)
    assert (report.consultations, report.mediations) == (stats["advisor_consultations"], stats["advisor_mediations"]) \
        == (5, 1)
    assert (report.communities, report.with_advisor, report.coverage) == (3, 2, 66.67)
    assert report.idle == [("沿江街道", "沙街社区"), ("沿江街道", "江滨社区")]
    river = report.streets[0]
    lines = {line.community: line for line in river.lines}
    assert (lines["东堤社区"].consultations, lines["东堤社区"].mediations) == (3, 1)
    assert lines["东堤社区"].by_month["01"] == 2 and lines["东堤社区"].by_month["07"] == 1
    assert lines["不存在社区"].note == "名册外" and lines["江滨社区"].note == "未配备顾问；全年无咨询"
    assert lines["沙街社区"].note == "全年无咨询"
    assert [b.street for b in report.streets] == ["沿江街道", MISSING]
    assert summary(report) == ("2023年，3个村（社区）中2个配备法律顾问，「一村（社区）一法律顾问」覆盖率66.67%；"
                               "顾问律师共解答居(村)民法律咨询5件，参与纠纷调解1件；"
                               "全年无咨询的村（社区）：沿江街道沙街社区、沿江街道江滨社区。")
    assert "  沙街社区 乙律师：咨询0件，调解0件；1-12月 0 0 0 0 0 0 0 0 0 0 0 0（全年无咨询）" in render_text(report)

    write_xlsx(report, tmp_path / "a.xlsx")
    sheet = load_workbook(tmp_path / "a.xlsx")["沿江街道"]
    body = {r[0]: r for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert body["沙街社区"][-1] == "全年无咨询" and body["合计"][3:5] == (4, 1)
    assert sheet.cell(4, 1).fill.fgColor.rgb.endswith("FCE4D6")  # 沙街社区 is marked


def test_empty_roster_says_so(session: Session) -> None:
    report = advisor_report(session=session, year=2023)
    assert report.coverage is None and report.streets == []
    assert "法律顾问名册为空" in summary(report)


def test_cli_text_json_and_errors(engine: object, seeded: Session, tmp_path: Path) -> None:
    runner = CliRunner()
    text = runner.invoke(main, ["advisors", "report", "--year", "2023"])
    assert text.exit_code == 0 and text.output.startswith("2023年，21个村（社区）中21个配备法律顾问")
    data = json.loads(runner.invoke(main, ["advisors", "report", "--year", "2023", "--json"]).output)
    assert (data["advisor_consultations"], data["coverage"], data["idle_communities"]) == (900, 100.0, [])
    assert sum(sum(s["by_month"].values()) for s in data["streets"]) == 900
    bad = runner.invoke(main, ["advisors", "report", "--year", "2023", "--out", str(tmp_path / "a.pdf")])
    assert (bad.exit_code, bad.output) == (1, "Error: cannot write 'a.pdf': the advisor report is an .xlsx file\n")
    assert runner.invoke(main, ["advisors", "report", "--year", "99999"]).output == \
        "Error: year 99999 is out of range\n"
