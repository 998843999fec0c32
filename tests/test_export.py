"""Monthly exports: three tables with 合计 rows that agree with the stats; counts only, no personal data."""
from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from hotline.cli import main
from hotline.codes import CATEGORIES, SERVICE_OUTCOMES, SERVICES
from hotline.export import MISSING, ExportError, month_export, parse_month, write_csv, write_xlsx
from hotline.ledger import COLUMNS, import_ledger
from hotline.stats import annual_stats, period
from hotline.store.models import Base, Consultation

SEED = Path(__file__).parent / "data" / "ledger_seed.csv"
SHEETS = ("按服务类型和类别", "按街道", "按渠道")


@pytest.fixture
def seeded(session: Session) -> Session:
    import_ledger(session=session, path=SEED)
    session.commit()
    return session


def month_persons(session: Session, year: int, month: int) -> int:
    start, end = period(year, month)
    query = select(func.sum(Consultation.persons)).where(Consultation.occurred_at >= start,
                                                          Consultation.occurred_at < end)
    return session.scalar(query) or 0


def test_xlsx_totals_match_the_stats(seeded: Session, tmp_path: Path) -> None:
    out = tmp_path / "2023-03.xlsx"
    result = CliRunner().invoke(main, ["export", "--month", "2023-03", "--format", "xlsx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    expected_cases = annual_stats(session=seeded, year=2023)["by_month"]["03"]
    expected_persons = month_persons(seeded, 2023, 3)
    assert expected_cases > 100

    book = load_workbook(out)
    assert tuple(book.sheetnames) == SHEETS
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][0] == f"2023年3月 {sheet.title}统计"
        header, body, total = rows[1], rows[2:-1], rows[-1]
        assert header[-2:] == ("件数", "人次") and all(cell.font.bold for cell in sheet[2])
        assert total[0] == "合计" and sheet.cell(sheet.max_row, 1).font.bold
        assert total[-2:] == (expected_cases, expected_persons)
        assert sum(r[-2] for r in body) == expected_cases
        assert sheet.column_dimensions["A"].width >= 8
    by_service = list(book["按服务类型和类别"].iter_rows(min_row=3, values_only=True))
    assert ("人民调解", "邻里纠纷") in {(r[0], r[1]) for r in by_service}
    assert [r[0] for r in book["按渠道"].iter_rows(min_row=3, values_only=True)] == ["台账导入", "合计"]


def test_the_new_services_in_the_month(seeded: Session, tmp_path: Path) -> None:
    """认罪认罚 and 普法咨询 have rows of their own; their 件 and 人次 add up to the year's report figures."""
    cases = persons = publicity = 0
    for month in range(1, 13):
        export = month_export(session=seeded, month=f"2023-{month:02d}")
        rows = export.tables[0].rows
        cases += sum(r[2] for r in rows if r[0] == "认罪认罚")
        persons += sum(r[3] for r in rows if r[0] == "认罪认罚")
        publicity += sum(r[3] for r in rows if r[0] == "普法咨询")
        assert {r[1] for r in rows if r[0] == "认罪认罚"} <= {"刑事"}
        if month == 6:
            write_xlsx(export, tmp_path / "june.xlsx")
    assert (cases, persons, publicity) == (498, 538, 350)  # the 2023 report's figures
    labels = {r[0] for r in load_workbook(tmp_path / "june.xlsx")["按服务类型和类别"].iter_rows(min_row=3, values_only=True)}
    assert {"认罪认罚", "普法咨询"} <= labels


def test_counts_only(seeded: Session, tmp_path: Path) -> None:
    """No summary, community or phone reaches the spreadsheet."""
    seeded.execute(Consultation.__table__.update().values(phone="13977212345"))
    export = month_export(session=seeded, month="2023-01")
    write_xlsx(export, tmp_path / "m.xlsx")
    text = " ".join(str(v) for ws in load_workbook(tmp_path / "m.xlsx").worksheets
                    for r in ws.iter_rows(values_only=True) for v in r if v is not None)
    assert "咨询" not in text.replace("网络咨询", "").replace("普法咨询", "") and "社区" not in text and "1397721" not in text


def test_csv_has_three_blocks_with_totals(seeded: Session, tmp_path: Path) -> None:
    out = tmp_path / "m.csv"
    write_csv(month_export(session=seeded, month="2023-12"), out)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    totals = [r for r in rows if r and r[0] == "合计"]
    cases = annual_stats(session=seeded, year=2023)["by_month"]["12"]
    assert [int(t[-2]) for t in totals] == [cases] * 3
    assert [r[0] for r in rows if r and r[0].startswith("2023年12月")] == [
        "2023年12月 按服务类型和类别统计", "2023年12月 按街道统计", "2023年12月 按渠道统计"]
    assert ["服务类型", "类别", "件数", "人次"] in rows


def test_empty_month(session: Session) -> None:
    export = month_export(session=session, month="2030-02")
    assert all(t.rows == [] and t.total[-2:] == (0, 0) for t in export.tables)


@pytest.mark.parametrize(("text", "message"), [
    ("2023-13", "month '2023-13' is not YYYY-MM"),
    ("March", "month 'March' is not YYYY-MM"),
    ("0000-01", "year 0 is out of range"),
])
def test_bad_month(text: str, message: str) -> None:
    with pytest.raises(ExportError) as exc:
        parse_month(text)
    assert str(exc.value) == message


def test_cli_bad_month(engine: object, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", "--month", "2023-13", "--format", "csv",
                                       "--out", str(tmp_path / "x.csv")])
    assert (result.exit_code, result.output) == (1, "Error: month '2023-13' is not YYYY-MM\n")
    assert not (tmp_path / "x.csv").exists()


# -- property: a ledger imported and exported gives back its own counts ------------------------------------------

_ledger_rows = st.lists(
    st.tuples(st.sampled_from(sorted(SERVICE_OUTCOMES)), st.sampled_from(["", *sorted(CATEGORIES)]),
              st.sampled_from(["", "静兰街道", "沿江街道", "城中街道"]), st.integers(1, 50),
              st.dates(date(2023, 2, 20), date(2023, 4, 10))),
    max_size=40,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_ledger_rows)
def test_import_then_export_gives_the_ledgers_counts(tmp_path: Path, rows: list[tuple]) -> None:
    lines = [",".join(COLUMNS)] + [
        f"P{i},{day},{svc},{cat},0,{persons},{street},,{SERVICE_OUTCOMES[svc][0]},,"
        for i, (svc, cat, street, persons, day) in enumerate(rows)
    ]
    path = tmp_path / "ledger.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        import_ledger(session=s, path=path)
        s.commit()
        export = month_export(session=s, month="2023-03")
    march = [r for r in rows if (r[4].year, r[4].month) == (2023, 3)]
    cases, persons = len(march), sum(r[3] for r in march)
    for table in export.tables:  # every table adds up to the month, whichever way it is cut
        assert table.total[-2:] == (cases, persons)
    by_service = Counter()
    for svc, cat, _, n, _ in march:
        by_service[(SERVICES[svc], CATEGORIES[cat] if cat else MISSING)] += n
    assert {(r[0], r[1]): r[3] for r in export.tables[0].rows} == dict(by_service)
    by_street = Counter()
    for _, _, street, n, _ in march:
        by_street[street or MISSING] += n
    assert {r[0]: r[2] for r in export.tables[1].rows} == dict(by_street)
