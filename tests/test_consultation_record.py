"""One consultation validator (hotline/consultation_record.py) behind three doors: the ledger import, the store's
write and POST /api/consultations accept the same records and refuse the same ones with the same reason.

Each door is driven for real: a CSV file through import_ledger, log_consultation on a session, the API through the
web app with an operator's token; a record accepted is read back from the database (SQLite, and PostgreSQL when
configured, where an unchecked cap is a DataError and a 500).
"""
from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.app import create_app
from hotline import codes
from hotline.consultation_record import (
    PERSONS_MAX,
    PLACE_MAX,
    SUMMARY_MAX,
    ConsultationRecord,
    InvalidConsultation,
    consultation_record,
)
from hotline.ledger import COLUMNS, LedgerError, import_ledger
from hotline.store import consultations, operators
from hotline.store.models import Consultation
from tests.fakes.rasa import FakeRasa

SERVICE = "hotline_12348"  # the API logs phone calls only: the three doors are given the same service
_ids = itertools.count(1)
# What the log keeps of an accepted record, compared across doors (the ledger masks summaries as it imports).
KEPT = ("category", "outcome", "migrant_worker", "persons", "street", "community", "amount")


@pytest.fixture
def client(engine: Engine, fake_rasa: FakeRasa) -> Iterator[TestClient]:
    with Session(engine) as s:
        password = operators.create_operator(session=s, username="op.li")
        s.commit()
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        token = c.post("/api/login", json={"username": "op.li", "password": password}).json()["token"]
        c.cookies.clear()
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


class Doors:
    """The three ways a consultation reaches the log; each returns ("ok", kept values) or ("refused", reason)."""

    def __init__(self, engine: Engine, client: TestClient, tmp_path: Path) -> None:
        self.engine, self.client, self.tmp_path = engine, client, tmp_path

    def _kept(self, source_id: str) -> tuple[str, tuple[Any, ...]]:
        with Session(self.engine) as s:
            row = s.scalar(select(Consultation).where(Consultation.source_id == source_id))
        assert row is not None, source_id
        return "ok", tuple(getattr(row, k) for k in KEPT)

    def ledger(self, fields: dict[str, Any]) -> tuple[str, Any]:
        n = next(_ids)
        cells = {"id": f"R{n}", "date": "2024-03-05", "service": SERVICE,
                 "migrant_worker": "1" if fields["migrant_worker"] else "0",
                 **{k: "" if fields[k] is None else str(fields[k])
                    for k in ("category", "persons", "street", "community", "outcome", "amount", "summary")}}
        path = self.tmp_path / f"ledger-{n}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\r\n")
            writer.writeheader()
            writer.writerow(cells)
        with Session(self.engine) as s:
            try:
                result = import_ledger(session=s, path=path)
            except LedgerError as exc:
                [problem] = exc.problems
                assert problem.startswith("line 2: ")
                return "refused", problem.removeprefix("line 2: ")
            s.commit()
        assert result.new == 1
        return self._kept(f"ledger:R{n}")

    def store(self, fields: dict[str, Any]) -> tuple[str, Any]:
        source_id = f"store:{next(_ids)}"
        with Session(self.engine) as s:
            try:
                consultations.log_consultation(session=s, service=SERVICE, channel="phone", source_id=source_id,
                                               **fields)
            except InvalidConsultation as exc:
                return "refused", str(exc)
            s.commit()
        return self._kept(source_id)

    def api(self, fields: dict[str, Any]) -> tuple[str, Any]:
        call_id = f"c{next(_ids)}"
        body = {k: str(v) if isinstance(v, Decimal) else v for k, v in fields.items()}
        resp = self.client.post("/api/consultations", json={**body, "call_id": call_id})
        if resp.status_code == 422:
            return "refused", resp.json()["detail"]
        assert resp.status_code == 201, resp.text
        return self._kept(f"call:op.li:{call_id}")

    def all(self, **given: Any) -> dict[str, tuple[str, Any]]:
        fields = {"category": None, "outcome": None, "migrant_worker": False, "persons": 1, "street": None,
                  "community": None, "amount": None, "summary": "来电咨询"} | given
        return {"ledger": self.ledger(fields), "store": self.store(fields), "api": self.api(fields)}


@pytest.fixture
def doors(engine: Engine, client: TestClient, tmp_path: Path) -> Doors:
    return Doors(engine, client, tmp_path)


def same(results: dict[str, tuple[str, Any]]) -> tuple[str, Any]:
    assert results["ledger"] == results["store"] == results["api"], results
    return results["ledger"]


# -- the property -------------------------------------------------------------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=8)


def code_or_label(table: dict[str, str]) -> st.SearchStrategy[str]:
    """A code or its 中文 label."""
    return st.sampled_from([*table, *table.values()])


records = st.fixed_dictionaries({
    "category": st.one_of(st.none(), code_or_label(codes.CATEGORIES), TEXT),
    "outcome": st.one_of(st.none(), code_or_label(codes.OUTCOMES), TEXT),
    "migrant_worker": st.booleans(),
    "persons": st.one_of(st.integers(-3, PERSONS_MAX + 3), st.integers(), st.sampled_from(["3", " 12 ", "+4", "3.5",
                                                                                         "two", "１２", "1e2"])),
    "street": st.one_of(st.none(), TEXT, st.text("街道", min_size=PLACE_MAX - 1, max_size=PLACE_MAX + 2)),
    "community": st.one_of(st.none(), TEXT),
    "amount": st.one_of(
        st.none(), st.integers(-5, 10**13),
        st.decimals(min_value=-1, max_value=Decimal("1e12") + 1, places=3, allow_nan=False),
        st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False).map(lambda d: f"{d:,}"),
        st.floats(min_value=0, max_value=1e13, allow_nan=False),
        st.sampled_from(["lots", "1.005", "35,000.00", "-0", "Infinity", "NaN", "1e3", " 8000 "])),
    "summary": st.one_of(TEXT.filter(str.strip), st.just("欠" * (SUMMARY_MAX + 1))),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(record=records)
def test_the_three_doors_accept_and_refuse_the_same_records(doors: Doors, record: dict[str, Any]) -> None:
    verdict, what = same(doors.all(**record))
    try:
        expected = consultation_record(service=SERVICE, channel="phone", **record)
    except InvalidConsultation as exc:
        assert (verdict, what) == ("refused", str(exc))
    else:
        assert verdict == "ok" and what == tuple(getattr(expected, k) for k in KEPT)


# -- where the three disagreed before the one validator ----------------------------------------------------------

def test_decimals_are_kept_to_the_fen_and_a_third_decimal_is_refused(doors: Doors) -> None:
    """Before: the store rounded 1.005 to 1.00 and kept it, the ledger refused it, the API refused any decimal
    (3500.50 too)."""
    assert same(doors.all(amount="1.005")) == ("refused", "amount '1.005' has more than 2 decimals")
    verdict, kept = same(doors.all(amount="3500.50"))
    assert verdict == "ok" and kept[KEPT.index("amount")] == Decimal("3500.50")


def test_amounts_stop_below_a_trillion_at_every_door(doors: Doors) -> None:
    """Before: the API took 10**12 (le=10**12) and the store had no cap, both past Numeric(14, 2) (a 500 on
    PostgreSQL); the ledger refused it."""
    assert same(doors.all(amount=10**12)) == ("refused", "amount '1000000000000' is out of range")
    verdict, kept = same(doors.all(amount="999999999999.99"))
    assert verdict == "ok" and kept[KEPT.index("amount")] == Decimal("999999999999.99")


def test_persons_and_places_have_the_same_caps_at_every_door(doors: Doors) -> None:
    """Before: only the API capped persons (10,000); the store took a 65-character street (a 500 on PostgreSQL's
    String(64)) and the API refused a category's 中文 label the other two took."""
    assert same(doors.all(persons=PERSONS_MAX + 1)) == (
        "refused", f"persons must be at most {PERSONS_MAX}, got {PERSONS_MAX + 1}")
    assert same(doors.all(street="街" * (PLACE_MAX + 1))) == ("refused", f"street longer than {PLACE_MAX} characters")
    verdict, kept = same(doors.all(category="欠薪", persons=PERSONS_MAX, street="街" * PLACE_MAX))
    assert verdict == "ok"
    assert (kept[KEPT.index("category")], kept[KEPT.index("persons")]) == ("wage_arrears", PERSONS_MAX)


# -- the validator alone --------------------------------------------------------------------------------------

def test_every_problem_is_named_in_column_order() -> None:
    with pytest.raises(InvalidConsultation) as caught:
        consultation_record(service="visit", channel="fax", persons=0, outcome="success", amount="-1")
    assert caught.value.problems == ["unknown channel 'fax'", "persons must be at least 1, got 0",
                                     "outcome 'success' does not belong to service 'visit'", "amount '-1' is out of range"]


def test_a_record_holds_codes_digits_and_naive_utc() -> None:
    from datetime import datetime, timedelta, timezone

    record = consultation_record(service="12348热线", channel="电话", category=" 欠薪 ", outcome="已转介",
                                 amount="35,000", phone="139-7721-2345", street="  ", summary=" 说了 ",
                                 occurred_at=datetime(2024, 5, 1, 8, tzinfo=timezone(timedelta(hours=8))))
    assert record == ConsultationRecord(
        service="hotline_12348", channel="phone", occurred_at=datetime(2024, 5, 1, 0), category="wage_arrears",
        migrant_worker=False, persons=1, street=None, community=None, outcome="referred", referral=None,
        amount=Decimal("35000.00"), eligibility=None, legal_basis=None, summary="说了", phone="13977212345",
        sender_hash=None, operator=None, source_id=None)


def test_what_the_wage_form_accepts_the_log_accepts() -> None:
    """The form's bounds (flows.yaml) stay inside the record's caps: a wage claim a citizen finishes is logged (the
    action's row would otherwise be refused after the answer was given)."""
    from hotline import flows

    slots = flows.spec().slots
    people, amount = slots["people_count"].bounds, slots["amount"].bounds
    assert people is not None and amount is not None
    record = consultation_record(service="online", channel="web", category="wage_arrears", outcome="answered",
                                 persons=people[1], amount=amount[1])
    assert (record.persons, record.amount) == (people[1], Decimal(amount[1]))
