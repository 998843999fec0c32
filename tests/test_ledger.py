"""Ledger import: Excel-style CSV, whole-file validation with 'line N: why', all or nothing, idempotent."""
from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from hotline.cli import main
from hotline.codes import SERVICE_OUTCOMES
from hotline.ledger import COLUMNS, LedgerError, LedgerFileError, import_ledger, parse_row, validate
from hotline.store.models import Base, Consultation

SEED = Path(__file__).parent / "data" / "ledger_seed.csv"
HEADER = ",".join(COLUMNS)


def write(path: Path, lines: list[str], *, bom: bool = True, newline: str = "\r\n") -> Path:
    path.write_text(newline.join(lines) + newline, encoding="utf-8-sig" if bom else "utf-8")
    return path


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Consultation)) or 0


def row(**cells: str) -> dict[str, str]:
    base = {"id": "A1", "date": "2023-05-04", "service": "visit", "category": "wage_arrears", "migrant_worker": "1",
            "persons": "3", "street": "城中街道", "community": "五一社区", "outcome": "answered", "amount": "",
            "summary": ""}
    return base | cells


# -- parse_row: one rule at a time -------------------------------------------------------------------------------

def test_parse_row_accepts_labels_and_defaults() -> None:
    parsed = parse_row(row(service="人民调解", category="邻里纠纷", migrant_worker="否", persons="", outcome="调解成功",
                           amount="1,234.50", street=" 城中街道 ", community=""))
    assert (parsed.service, parsed.category, parsed.outcome) == ("mediation", "neighbor_dispute", "success")
    assert parsed.migrant_worker is False and parsed.persons == 1
    assert parsed.amount == Decimal("1234.50") and parsed.street == "城中街道" and parsed.community is None
    assert parsed.occurred_at == datetime(2023, 5, 4, 0, 0)
    assert parsed.source_id == "ledger:A1" and parsed.channel == "import"


@pytest.mark.parametrize(("service", "outcome", "code"), [
    ("认罪认罚", "已指派", "plea_leniency"), ("plea_leniency", "assigned", "plea_leniency"),
    ("普法咨询", "已解答", "publicity"), ("publicity", "answered", "publicity"),
])
def test_parse_row_reads_the_new_services_as_code_or_label(service: str, outcome: str, code: str) -> None:
    parsed = parse_row(row(service=service, outcome=outcome, category="刑事", migrant_worker="否", persons="2"))
    assert (parsed.service, parsed.outcome, parsed.persons, parsed.category) == (
        code, "assigned" if code == "plea_leniency" else "answered", 2, "criminal")


@pytest.mark.parametrize(
    ("cells", "why"),
    [
        ({"service": "telepathy"}, "unknown service 'telepathy'"),
        ({"service": ""}, "missing service"),
        ({"date": "2023-02-30"}, "impossible date '2023-02-30'"),
        ({"date": "2023/2/3"}, "date '2023/2/3' is not YYYY-MM-DD"),
        ({"persons": "0"}, "persons must be at least 1, got 0"),
        ({"persons": "-2"}, "persons must be at least 1, got -2"),
        ({"persons": "two"}, "persons 'two' is not a whole number"),
        ({"service": "hotline_12348", "outcome": "success"},
         "outcome 'success' does not belong to service 'hotline_12348'"),
        ({"service": "12348热线", "outcome": "调解成功"},
         "outcome 'success' does not belong to service 'hotline_12348'"),
        ({"outcome": "won"}, "unknown outcome 'won'"),
        ({"category": "astrology"}, "unknown category 'astrology'"),
        ({"id": ""}, "missing id"),
        ({"migrant_worker": "maybe"}, "bad migrant_worker 'maybe' (use 1/0 or 是/否)"),
        ({"amount": "lots"}, "amount 'lots' is not a number"),
        ({"amount": "-5"}, "amount '-5' is out of range"),
        ({"amount": "1.005"}, "amount '1.005' has more than 2 decimals"),
        ({"id": "", "persons": "0"}, "missing id; persons must be at least 1, got 0"),
        ({"service": "plea_leniency", "outcome": "answered"},
         "outcome 'answered' does not belong to service 'plea_leniency'"),
        ({"service": "认罪认罚", "outcome": "已受理"}, "outcome 'accepted' does not belong to service 'plea_leniency'"),
        ({"service": "普法咨询", "outcome": "调解成功"}, "outcome 'success' does not belong to service 'publicity'"),
        ({"service": "认罪认罚从宽"}, "unknown service '认罪认罚从宽'"),
        ({"service": "publicity", "outcome": "answered", "persons": "0"}, "persons must be at least 1, got 0"),
    ],
)
def test_parse_row_names_the_problem(cells: dict[str, str], why: str) -> None:
    with pytest.raises(ValueError) as exc:
        parse_row(row(**cells))
    assert str(exc.value) == why


# -- the file ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bom", [True, False])
@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_bom_and_line_ends_do_not_matter(tmp_path: Path, bom: bool, newline: str) -> None:
    path = write(tmp_path / "l.csv", [HEADER, "A1,2023-01-02,visit,欠薪,是,,城中街道,,已解答,,"], bom=bom, newline=newline)
    assert validate(path) == 1


def test_line_numbers_are_spreadsheet_rows(tmp_path: Path) -> None:
    """A quoted cell spanning lines is one spreadsheet row; blank rows still count."""
    path = write(tmp_path / "l.csv", [
        HEADER,
        'A1,2023-01-02,visit,,0,,,,,,"两行\n摘要"',
        ",,,,,,,,,,",
        "A3,2023-01-02,telepathy,,0,,,,,,",
    ])
    with pytest.raises(LedgerError) as exc:
        validate(path)
    assert exc.value.problems == ["line 4: unknown service 'telepathy'"]


def test_wrong_header(tmp_path: Path) -> None:
    path = write(tmp_path / "l.csv", ["id,date,service", "A1,2023-01-02,visit"])
    with pytest.raises(LedgerFileError) as exc:
        validate(path)
    assert str(exc.value) == f"line 1: wrong header: expected {HEADER}, got id,date,service"


def test_wrong_width_and_duplicate_id(tmp_path: Path) -> None:
    path = write(tmp_path / "l.csv", [
        HEADER,
        "A1,2023-01-02,visit,,0,,,,,,",
        "A2,2023-01-02,visit",
        "A1,2023-01-03,online,,0,,,,,,",
    ])
    with pytest.raises(LedgerError) as exc:
        validate(path)
    assert exc.value.problems == ["line 3: expected 11 columns, got 3", "line 4: duplicate id 'A1' (first on line 2)"]


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes((HEADER + "\r\nA1,2023-01-02,来访,,0,,,,,,\r\n").encode("gbk"))
    with pytest.raises(LedgerFileError, match=r"the file is not UTF-8 \(in Excel, save as 'CSV UTF-8'\)"):
        validate(path)


def test_values_round_trip(session: Session, tmp_path: Path) -> None:
    """What the bulk insert stores reads back as the ORM types, on every dialect."""
    path = write(tmp_path / "l.csv", [HEADER, "A1,2023-12-31,法律援助,欠薪,是,12,城中街道,五一社区,已指派,\"35,000.50\",讨薪"])
    import_ledger(session=session, path=path)
    session.commit()
    stored = session.scalars(select(Consultation)).one()
    assert (stored.occurred_at, stored.service, stored.category, stored.outcome) == (
        datetime(2023, 12, 31), "legal_aid", "wage_arrears", "assigned")
    assert stored.migrant_worker is True and stored.persons == 12 and stored.amount == Decimal("35000.50")
    assert (stored.street, stored.community, stored.channel, stored.source_id) == (
        "城中街道", "五一社区", "import", "ledger:A1")
    assert stored.purged is False and stored.phone is None and stored.sender_hash is None


def test_summaries_are_masked_on_import(session: Session, tmp_path: Path) -> None:
    path = write(tmp_path / "l.csv", [HEADER, "A1,2023-01-02,visit,,0,,,,,,来电人13977212345讨薪"])
    import_ledger(session=session, path=path)
    assert session.scalar(select(Consultation.summary)) == "来电人139****2345讨薪"


# -- the seed ledger on the database -----------------------------------------------------------------------------

def test_seed_imports_once(session: Session) -> None:
    first = import_ledger(session=session, path=SEED)
    session.commit()
    assert first.read == first.new == count(session) > 5000
    second = import_ledger(session=session, path=SEED)
    session.commit()
    assert (second.read, second.new, second.already_present) == (first.read, 0, first.read)
    assert count(session) == first.read
    assert session.scalar(select(func.count()).where(Consultation.channel != "import")) == 0


def test_dry_run_writes_nothing(session: Session) -> None:
    result = import_ledger(session=session, path=SEED, dry_run=True)
    assert result.new == result.read and result.dry_run
    assert count(session) == 0


def _corrupt(src: Path, dst: Path) -> list[str]:
    """A copy of the seed with seven bad rows; returns the messages the import must give, in line order."""
    with src.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    # rows[i] is spreadsheet line i + 2
    rows[1]["service"] = "telepathy"
    rows[8]["date"] = "2023-02-30"
    rows[18]["persons"] = "0"
    rows[28].update(service="hotline_12348", outcome="success")
    rows[38]["id"] = ""
    rows[48]["id"] = rows[0]["id"]
    rows[58]["migrant_worker"] = "maybe"
    with dst.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    return [
        "line 3: unknown service 'telepathy'",
        "line 10: impossible date '2023-02-30'",
        "line 20: persons must be at least 1, got 0",
        "line 30: outcome 'success' does not belong to service 'hotline_12348'",
        "line 40: missing id",
        f"line 50: duplicate id '{rows[0]['id']}' (first on line 2)",
        "line 60: bad migrant_worker 'maybe' (use 1/0 or 是/否)",
    ]


def test_corrupted_seed_imports_nothing_and_names_each_line(session: Session, tmp_path: Path) -> None:
    expected = _corrupt(SEED, tmp_path / "bad.csv")
    with pytest.raises(LedgerError) as exc:
        import_ledger(session=session, path=tmp_path / "bad.csv")
    assert exc.value.problems == expected
    assert count(session) == 0


def test_cli_import_errors_exit_1_and_write_nothing(engine: object, session: Session, tmp_path: Path) -> None:
    expected = _corrupt(SEED, tmp_path / "bad.csv")
    result = CliRunner().invoke(main, ["ledger", "import", str(tmp_path / "bad.csv")])
    assert result.exit_code == 1
    assert result.output == "Error: bad.csv: 7 bad rows, nothing written\n" + "\n".join(expected) + "\n"
    assert count(session) == 0


def test_bad_rows_of_the_new_services_import_nothing(engine: object, session: Session, tmp_path: Path) -> None:
    """Issue 26: a 认罪认罚 or 普法 row that breaks a rule is refused with its line; good rows around it are not written."""
    path = write(tmp_path / "new.csv", [
        HEADER,
        "P1,2023-03-01,认罪认罚,刑事,否,2,,,已指派,,认罪认罚从宽案件",
        "P2,2023-03-02,plea_leniency,criminal,0,1,,,answered,,",
        "P3,2023-03-03,普法咨询,劳动争议,否,25,城中街道,,已解答,,法治宣传活动",
        "P4,2023-03-04,publicity,,0,0,,,answered,,",
        "P5,2023-03-05,普法咨询,,否,,,,已指派,,",
    ])
    result = CliRunner().invoke(main, ["ledger", "import", str(path)])
    assert result.exit_code == 1
    assert result.output == (
        "Error: new.csv: 3 bad rows, nothing written\n"
        "line 3: outcome 'answered' does not belong to service 'plea_leniency'\n"
        "line 5: persons must be at least 1, got 0\n"
        "line 6: outcome 'assigned' does not belong to service 'publicity'\n")
    assert count(session) == 0


def test_cli_import_twice(engine: object, session: Session) -> None:
    runner = CliRunner()
    dry = runner.invoke(main, ["ledger", "import", str(SEED), "--dry-run"])
    assert dry.exit_code == 0 and count(session) == 0
    first = runner.invoke(main, ["ledger", "import", str(SEED)])
    second = runner.invoke(main, ["ledger", "import", str(SEED)])
    n = count(session)
    assert dry.output == f"read {n} rows: would add {n}, already present 0\n"
    assert first.output == f"read {n} rows: added {n}, already present 0\n"
    assert second.output == f"read {n} rows: added 0, already present {n}\n"


def test_cli_missing_file(engine: object, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ledger", "import", str(tmp_path / "nope.csv")])
    assert result.exit_code == 1
    assert result.output == f"Error: nope.csv: cannot read {tmp_path / 'nope.csv'}: No such file or directory, nothing written\n"


# -- property: importing twice equals importing once -------------------------------------------------------------

_services = st.sampled_from(sorted(SERVICE_OUTCOMES))
_rows = st.lists(
    st.tuples(_services, st.dates(date(2022, 1, 1), date(2024, 12, 31)), st.integers(1, 20), st.booleans(),
              st.integers(0, 2)),
    max_size=30,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_rows, split=st.integers(0, 30))
def test_import_is_idempotent(tmp_path: Path, rows: list[tuple[str, date, int, bool, int]], split: int) -> None:
    lines = [HEADER] + [
        f"R{i},{day},{svc},,{int(mw)},{persons},,,{SERVICE_OUTCOMES[svc][k % len(SERVICE_OUTCOMES[svc])]},,"
        for i, (svc, day, persons, mw, k) in enumerate(rows)
    ]
    part = write(tmp_path / "part.csv", lines[: split + 1])
    full = write(tmp_path / "full.csv", lines)
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        import_ledger(session=s, path=part, batch_size=7)
        again = import_ledger(session=s, path=full, batch_size=7)
        import_ledger(session=s, path=full, batch_size=7)
        stored = s.execute(select(Consultation.source_id, Consultation.persons).order_by(Consultation.source_id)).all()
    assert (again.new, again.already_present) == (len(rows) - min(split, len(rows)), min(split, len(rows)))
    assert sorted(stored) == sorted((f"ledger:R{i}", r[2]) for i, r in enumerate(rows))
