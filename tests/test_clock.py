"""One Liuzhou clock (issue 24): at 20:00 UTC on 31 December 2026 it is already 1 January 2027 in Liuzhou, and every
caller that dates a consultation, a deadline or a law-in-force lookup gets that day — frozen once, in hotline.clock,
never patched module by module."""
from __future__ import annotations

import ast
import asyncio
import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from hotline import clock

ROOT = Path(__file__).resolve().parent.parent
EVE = dt.datetime(2026, 12, 31, 20, 0, tzinfo=dt.timezone.utc)  # Liuzhou: 2027-01-01 04:00
NEW_YEAR = dt.date(2027, 1, 1)


@pytest.fixture
def eve() -> Any:
    with clock.frozen(EVE):
        yield


def test_the_clock_itself(eve: None) -> None:
    assert clock.today() == NEW_YEAR
    assert clock.now() == EVE and clock.now().utcoffset() == dt.timedelta(hours=8)
    assert clock.utcnow() == dt.datetime(2026, 12, 31, 20, 0)  # the store's naive UTC: the same moment
    assert clock.local(dt.datetime(2026, 12, 31, 16, 0)).date() == dt.date(2027, 1, 1)  # naive means UTC
    assert clock.local(dt.datetime(2026, 12, 31, 15, 59)).date() == dt.date(2026, 12, 31)


def test_frozen_ends_with_its_block() -> None:
    with clock.frozen(EVE):
        pass
    assert abs(clock.utcnow() - dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)) < dt.timedelta(minutes=1)


def test_the_actions_apply_the_law_on_liuzhous_day(eve: None) -> None:
    from actions.common import today

    assert today() == NEW_YEAR


def test_a_said_day_is_read_against_liuzhous_day(eve: None) -> None:
    from hotline.flows.fact_readers import read_date_slot

    assert read_date_slot("end_date", "昨天") == "2026-12-31"  # the server's UTC day would make it the 30th
    assert read_date_slot("last_demand_date", "今天") == "2027-01-01"


def test_the_api_assesses_eligibility_on_liuzhous_day(eve: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import api
    from hotline import legal_aid

    days: list[dt.date] = []
    real = legal_aid.assess

    def spy(facts: Any, on: dt.date) -> Any:
        days.append(on)
        return real(facts, on=on)

    monkeypatch.setattr(legal_aid, "assess", spy)  # watched, not frozen: the day comes from the clock
    api.eligibility({"matter": "wage_arrears", "migrant_worker": True})
    assert days == [NEW_YEAR]


def test_the_operators_draft_counts_its_deadline_from_liuzhous_day(eve: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import documents

    days: list[dt.date] = []
    monkeypatch.setattr(documents, "_make", lambda facts, applicant, today, *rest: days.append(today) or [])
    body = documents.DraftIn(slots={"employer": "恒通建筑公司", "amount": 35000}, extra={"end_date": "2026-10-31"})
    asyncio.run(documents.draft_for_caller(body, operator=SimpleNamespace(username="op.li"), session=None))  # type: ignore[arg-type]
    assert days == [NEW_YEAR]  # was the UTC date: 2026-12-31


def test_the_dashboards_today_is_liuzhous(eve: None, session: Session) -> None:
    from bot.dashboard import dashboard

    assert dashboard(operator=None, session=session)["today"]["date"] == "2027-01-01"  # type: ignore[arg-type]


def test_a_consultation_queued_now_is_dated_now(eve: None) -> None:
    from hotline.outbox import consultation_entry

    entry = consultation_entry(source_id="x", refine=False, fields={})
    assert dt.datetime.fromisoformat(entry["occurred_at"]) == EVE


def test_reminders_and_retention_count_from_liuzhous_day(eve: None, session: Session) -> None:
    from hotline.cli import main
    from hotline.cli_documents import draft_cutoff
    from hotline.retention import default_cutoff

    assert default_cutoff() == NEW_YEAR - dt.timedelta(days=180)
    assert draft_cutoff() == NEW_YEAR - dt.timedelta(days=30)
    result = CliRunner().invoke(main, ["reminders", "send"])
    assert result.exit_code == 0, result.output
    assert "(as of 2027-01-01)" in result.output


# Where the clock may be read: hotline/clock.py only (the store's naive-UTC helper is allowed to read it too).
_READS_THE_SYSTEM_CLOCK = {"now", "today", "utcnow"}


def _system_clock_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in _READS_THE_SYSTEM_CLOCK):
            owner = ast.unparse(node.func.value)
            if owner.split(".")[-1] in ("datetime", "date"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
        if isinstance(node, ast.Constant) and node.value == "Asia/Shanghai" and path.name != "clock.py":
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: a second Liuzhou time zone")
    return found


def test_only_the_clock_reads_the_system_clock() -> None:
    files = [p for d in ("actions", "bot", "hotline") for p in (ROOT / d).rglob("*.py")
             if p != ROOT / "hotline" / "clock.py" and "migrations" not in p.parts]
    assert [call for p in files for call in _system_clock_calls(p)] == []


def test_the_office_hours_are_kept_in_liuzhous_time() -> None:
    from hotline.office_hours import office_hours

    assert office_hours().tz.key == clock.LIUZHOU.key  # office_hours.yml's `timezone` is the clock's
