"""`hotline db|directory|consultations|operators|purge` through click's CliRunner, error texts pinned."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline import cli_store
from hotline.cli import main
from hotline.store import consultations, migrate, operators
from hotline.store.db import make_engine
from hotline.store.models import Advisor, Consultation

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "directory_sample.csv"
SECTION5 = ["id", "occurred_at", "service", "channel", "category", "migrant_worker", "persons", "street",
            "community", "outcome", "referral", "amount", "eligibility", "legal_basis", "summary", "sender_hash",
            "operator", "source_id"]


@pytest.fixture
def url(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """db_url, migrated to head and made the CLI's database through HOTLINE_DATABASE_URL."""
    from hotline import settings
    from hotline.store import db

    monkeypatch.setenv("HOTLINE_DATABASE_URL", db_url)
    settings.get_settings.cache_clear()
    db.get_engine.cache_clear()
    migrate.upgrade(db_url)
    yield db_url
    db.get_engine(None).dispose()
    db.get_engine.cache_clear()


@pytest.fixture
def session(url: str) -> Iterator[Session]:
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as s:
        yield s
    engine.dispose()


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def count(session: Session, model: type) -> int:
    session.rollback()  # see what the CLI committed
    return session.scalar(select(func.count()).select_from(model)) or 0


# --- help ------------------------------------------------------------------------------------------------


def _walk(command: click.Command, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _walk(sub, (*path, name))


ALL = [p for c in cli_store.COMMANDS for p in _walk(c, (c.name or "",))]


@pytest.mark.parametrize(("path", "command"), ALL, ids=[" ".join(p) for p, _ in ALL])
def test_every_command_has_an_example(path: tuple[str, ...], command: click.Command) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0
    assert "Example: hotline " in result.output


def test_commands_are_registered() -> None:
    assert {"db", "directory", "consultations", "operators", "purge"} <= set(main.commands)


# --- db --------------------------------------------------------------------------------------------------


def test_db_upgrade_twice_and_downgrade(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline import settings

    monkeypatch.setenv("HOTLINE_DATABASE_URL", db_url)
    settings.get_settings.cache_clear()
    first, second = run("db", "upgrade"), run("db", "upgrade")
    assert first.exit_code == second.exit_code == 0
    assert second.output.endswith(f"is at revision {migrate.head()} (head).\n")
    assert migrate.current(db_url) == migrate.head()
    down = run("db", "downgrade", "base")
    assert down.exit_code == 0 and down.output.endswith("is at revision base.\n")
    assert migrate.current(db_url) is None


def test_db_messages_hide_the_password() -> None:
    assert "***" in migrate.display_url("postgresql+psycopg://u:secret@h/db")
    assert "secret" not in migrate.display_url("postgresql+psycopg://u:secret@h/db")


def test_db_downgrade_unknown_revision(url: str) -> None:
    result = CliRunner().invoke(main, ["db", "downgrade", "nonsense"])
    assert result.exit_code == 1
    assert result.output == "Error: Can't locate revision identified by 'nonsense'\n"


def test_commands_before_upgrade_say_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["consultations", "list"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: the database at sqlite:///")
    assert result.output.endswith("has no tables yet: run `hotline db upgrade` first\n")


# --- directory -------------------------------------------------------------------------------------------


def test_directory_import_sample(url: str, session: Session) -> None:
    result = run("directory", "import", str(SAMPLE))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "Imported 21 advisor entries in 7 streets from directory_sample.csv."
    assert "SAMPLE data (示例)" in lines[1]
    assert count(session, Advisor) == 21
    assert run("directory", "import", str(SAMPLE)).exit_code == 0  # upsert: nothing doubles
    assert count(session, Advisor) == 21


def test_roster_then_ledger_then_advisors_report_on_the_migrated_schema(url: str, tmp_path: Path) -> None:
    """Issue 26 needs no schema change: the roster and a ledger with 认罪认罚 and 普法 rows, on the Alembic head."""
    roster = tmp_path / "roster.csv"
    roster.write_text("street,community,advisor\n公园街道,东台社区,莫律师\n公园街道,映山社区,\n", encoding="utf-8")
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("id,date,service,category,migrant_worker,persons,street,community,outcome,amount,summary\n"
                      "A1,2023-02-01,法律顾问,邻里纠纷,否,,公园街道,东台社区,参与调解,,\n"
                      "A2,2023-02-03,认罪认罚,刑事,否,3,,,已指派,,\n"
                      "A3,2023-05-04,普法咨询,,否,40,公园街道,,已解答,,\n", encoding="utf-8")
    assert run("directory", "import", str(roster)).exit_code == 0
    assert run("ledger", "import", str(ledger)).output == "read 3 rows: added 3, already present 0\n"
    figures = json.loads(run("stats", "--year", "2023", "--json").output)
    assert (figures["plea_leniency_cases"], figures["plea_leniency_help_persons"],
            figures["publicity_consultation_persons"], figures["advisor_mediations"]) == (1, 3, 40, 1)
    report = run("advisors", "report", "--year", "2023")
    assert report.output.splitlines()[0] == (
        "2023年，2个村（社区）中1个配备法律顾问，「一村（社区）一法律顾问」覆盖率50%；"
        "顾问律师共解答居(村)民法律咨询1件，参与纠纷调解1件；全年无咨询的村（社区）：公园街道映山社区。")


def test_directory_import_real_roster_says_nothing_about_samples(url: str, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("\ufeffstreet,community,advisor\n公园街道,东台社区,莫律师\n", encoding="utf-8")
    result = run("directory", "import", str(roster))
    assert result.output == "Imported 1 advisor entries in 1 streets from roster.csv.\n"


def test_directory_import_sample_keeps_a_real_roster(url: str, tmp_path: Path, session: Session) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("street,community,advisor\n公园街道,东台社区,莫律师\n", encoding="utf-8")
    run("directory", "import", str(roster))
    result = run("directory", "import", str(SAMPLE))
    assert (result.exit_code, result.output) == (
        0, "Kept the bureau's roster: directory_sample.csv is sample data and was not loaded.\n")
    assert count(session, Advisor) == 1


def test_directory_import_gb18030(url: str, tmp_path: Path, session: Session) -> None:
    roster = tmp_path / "excel.csv"
    roster.write_bytes("street,community\n公园街道,东台社区\n".encode("gb18030"))
    assert run("directory", "import", str(roster)).exit_code == 0
    assert session.scalar(select(Advisor.community)) == "东台社区"


def test_directory_import_bad_rows_write_nothing(url: str, tmp_path: Path, session: Session) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    lines[2] = ",解放社区,社区,解放,覃丽,,,,,,"
    lines[5] = "公园街道,映山社区,社区,映山,梁晓燕,,not-a-phone,,,,"
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["directory", "import", str(bad)])
    assert result.exit_code == 1
    assert result.output == "Error: bad.csv: line 3: street is empty; line 6: bad advisor_phone 'not-a-phone'\n"
    assert count(session, Advisor) == 0


def test_directory_find(url: str) -> None:
    run("directory", "import", str(SAMPLE))
    result = run("directory", "find", "东苔")
    assert result.output.splitlines()[0].startswith("公园街道 东台社区: 莫家宁 0772-0002101")
    missing = CliRunner().invoke(main, ["directory", "find", "北京"])
    assert (missing.exit_code, missing.output) == (1, "Error: no street or community matches '北京'\n")


# --- consultations ---------------------------------------------------------------------------------------


def _seed(session: Session) -> None:
    for day, phone in ((1, "13812345678"), (3, None), (2, "0772-1234567")):
        consultations.log_consultation(session=session, service="hotline_12348", channel="phone",
                                       occurred_at=datetime(2024, 5, day, 9), phone=phone, amount=20000 + day,
                                       category="wage_arrears", persons=day)
    session.commit()


def test_consultations_list_json(url: str, session: Session) -> None:
    _seed(session)
    result = run("consultations", "list", "--json")
    rows = json.loads(result.output)
    assert [r["occurred_at"][:10] for r in rows] == ["2024-05-03", "2024-05-02", "2024-05-01"]
    assert all(list(r)[: len(SECTION5)] == SECTION5 for r in rows)
    assert [r["phone"] for r in rows] == [None, "077****4567", "138****5678"]
    assert "13812345678" not in result.output
    assert [r["amount"] for r in rows] == [20003, 20002, 20001]


def test_consultations_list_since(url: str, session: Session) -> None:
    _seed(session)
    rows = json.loads(run("consultations", "list", "--since", "2024-05-02", "--json").output)
    assert [r["persons"] for r in rows] == [3, 2]
    bad = CliRunner().invoke(main, ["consultations", "list", "--since", "May 2"])
    assert bad.exit_code == 2 and "'May 2' does not match the format '%Y-%m-%d'" in bad.output


def test_consultations_list_table(url: str, session: Session) -> None:
    assert run("consultations", "list").output == "No consultations.\n"
    _seed(session)
    lines = run("consultations", "list").output.splitlines()
    assert lines[0].split("\t")[:3] == ["id", "occurred_at", "service"]
    assert len(lines) == 4
    assert "12348热线" in lines[1] and "138****5678" in lines[3] and "13812345678" not in "\n".join(lines)


# --- operators and purge ---------------------------------------------------------------------------------


def test_operators_add_prints_the_password_last(url: str, session: Session) -> None:
    result = run("operators", "add", "wang.li")
    password = result.output.splitlines()[-1]
    assert result.exit_code == 0 and len(password) >= 16 and " " not in password
    assert operators.login(session=session, username="wang.li", password=password)
    again = CliRunner().invoke(main, ["operators", "add", "wang.li"])
    assert (again.exit_code, again.output) == (1, "Error: operator 'wang.li' already exists\n")


def test_purge(url: str, session: Session) -> None:
    _seed(session)
    result = run("purge", "--before", "2024-05-03")
    # The first line is the consultation log; transcripts and Rasa's tracker store follow (tests/test_purge.py).
    assert result.output.splitlines()[0] == "Purged 2 consultations dated before 2024-05-03."
    session.rollback()
    phones = session.execute(select(Consultation.occurred_at, Consultation.phone, Consultation.purged)
                             .order_by(Consultation.occurred_at)).all()
    assert [(p, purged) for _, p, purged in phones] == [(None, True), (None, True), (None, False)]
    assert count(session, Consultation) == 3
    future = CliRunner().invoke(main, ["purge", "--before", "2999-01-01"])
    assert (future.exit_code, future.output) == (1, "Error: --before 2999-01-01 is in the future\n")
