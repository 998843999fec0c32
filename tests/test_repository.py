"""The store's functions on SQLite and PostgreSQL (fixtures `engine`/`session` from conftest)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.consultation_record import InvalidConsultation
from hotline.directory import AdvisorEntry, parse_roster
from hotline.store import consultations, directory, handoffs, operators, purge
from hotline.store.errors import StoreError
from hotline.store.models import Advisor, Consultation, Operator, OperatorSession, utcnow

SAMPLE_CSV = (Path(__file__).resolve().parent.parent / "data" / "directory_sample.csv").read_text(encoding="utf-8")
SECTION5 = ["id", "occurred_at", "service", "channel", "category", "migrant_worker", "persons", "street",
            "community", "outcome", "referral", "amount", "eligibility", "legal_basis", "summary", "sender_hash",
            "operator", "source_id"]


def log(session: Session, **kw: object) -> Consultation:
    kw.setdefault("service", "hotline_12348")
    kw.setdefault("channel", "phone")
    return consultations.log_consultation(session=session, **kw)  # type: ignore[arg-type]


# --- consultations ---------------------------------------------------------------------------------------


def test_log_consultation_stores_every_field(session: Session) -> None:
    when = datetime(2024, 3, 5, 9, 30)
    row = log(
        session, occurred_at=when, category="wage_arrears", migrant_worker=True, persons=12, street="中南街道",
        community="弯塘社区", outcome="referred", referral="劳动保障监察", amount=35000, eligibility="eligible",
        legal_basis="《法律援助法》第四十二条第三项", summary="包工头跑了", phone="139-7721-2345", sender_hash="ab" * 32,
        operator="wang", source_id="copilot:1",
    )
    session.commit()
    session.expire_all()
    stored = session.get(Consultation, row.id)
    assert stored is not None
    assert (stored.occurred_at, stored.service, stored.channel, stored.category) == (
        when, "hotline_12348", "phone", "wage_arrears")
    assert (stored.migrant_worker, stored.persons, stored.street, stored.community) == (True, 12, "中南街道", "弯塘社区")
    assert stored.amount == Decimal("35000.00")
    assert stored.phone == "13977212345"
    assert stored.purged is False


def test_labels_are_stored_as_codes(session: Session) -> None:
    row = log(session, service="法律援助", category="欠薪", outcome="已指派")
    assert (row.service, row.category, row.outcome) == ("legal_aid", "wage_arrears", "assigned")


def test_default_time_is_now_utc(session: Session) -> None:
    before = datetime.now(timezone.utc).replace(tzinfo=None)
    row = log(session)
    assert before - timedelta(seconds=1) <= row.occurred_at <= before + timedelta(seconds=5)


def test_aware_times_are_stored_as_utc(session: Session) -> None:
    beijing = timezone(timedelta(hours=8))
    assert log(session, occurred_at=datetime(2024, 1, 1, 8, 0, tzinfo=beijing)).occurred_at == datetime(2024, 1, 1)
    assert log(session, occurred_at=date(2024, 2, 3)).occurred_at == datetime(2024, 2, 3)


def test_idempotent_on_source_id(session: Session) -> None:
    first = log(session, source_id="ledger:2023:17", persons=3)
    again = log(session, source_id="ledger:2023:17", persons=99)
    session.commit()
    assert again.id == first.id and again.persons == 3
    assert session.scalar(select(func.count()).select_from(Consultation)) == 1
    log(session, source_id=None)
    log(session, source_id=None)
    session.commit()
    assert session.scalar(select(func.count()).select_from(Consultation)) == 3


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"service": "telepathy"}, "unknown service 'telepathy'"),
        ({"channel": "pigeon"}, "unknown channel 'pigeon'"),
        ({"category": "magic"}, "unknown category 'magic'"),
        ({"outcome": "won"}, "unknown outcome 'won'"),
        ({"outcome": "assigned"}, "outcome 'assigned' does not belong to service 'hotline_12348'"),
        ({"persons": 0}, "persons must be at least 1, got 0"),
        ({"persons": True}, "persons 'True' is not a whole number"),
        ({"amount": "lots"}, "amount 'lots' is not a number"),
        ({"amount": -5}, "amount '-5' is out of range"),
        ({"eligibility": "maybe"}, "unknown eligibility 'maybe'"),
    ],
)
def test_invalid_consultations_are_refused(session: Session, kw: dict, message: str) -> None:
    with pytest.raises(InvalidConsultation) as caught:
        log(session, **kw)
    assert str(caught.value) == message
    assert session.scalar(select(func.count()).select_from(Consultation)) == 0


def test_list_newest_first_and_since(session: Session) -> None:
    for day in (3, 1, 2):
        log(session, occurred_at=datetime(2024, 5, day, 12), summary=f"day {day}")
    log(session, occurred_at=datetime(2024, 4, 30, 23, 59))
    session.commit()
    assert [c.occurred_at.day for c in consultations.list_consultations(session=session)] == [3, 2, 1, 30]
    assert [c.occurred_at.day for c in consultations.list_consultations(session=session, since=date(2024, 5, 2))] == [3, 2]
    assert [c.occurred_at.day for c in consultations.list_consultations(session=session, limit=1)] == [3]


def test_consultation_to_dict(session: Session) -> None:
    row = log(session, occurred_at=datetime(2024, 5, 1, 8, 0), amount=Decimal("35000.00"), persons=2,
              phone="13812345678", summary="回电13812345678，身份证450202199001011234")
    data = consultations.consultation_to_dict(row)
    assert list(data)[: len(SECTION5)] == SECTION5
    assert data["occurred_at"] == "2024-05-01T08:00:00+00:00"
    assert data["amount"] == 35000 and isinstance(data["amount"], int)
    assert data["phone"] == "138****5678"
    assert "13812345678" not in data["summary"] and "450202199001011234" not in data["summary"]
    assert consultations.consultation_to_dict(log(session, amount="1234.5"))["amount"] == 1234.5
    assert consultations.consultation_to_dict(log(session))["amount"] is None


def test_purge_keeps_counts_and_clears_personal_data(session: Session) -> None:
    old = log(session, occurred_at=datetime(2022, 12, 31, 23, 0), category="wage_arrears", persons=5, amount=8000,
              street="中南街道", outcome="answered", summary="老王 13812345678", phone="13812345678",
              sender_hash="f" * 64, legal_basis="条例第30条")
    new = log(session, occurred_at=datetime(2023, 1, 1, 0, 0), summary="keep", phone="13900000000")
    session.commit()
    assert purge.purge_consultations(session=session, before=date(2023, 1, 1)) == 1
    assert purge.purge_consultations(session=session, before=date(2023, 1, 1)) == 0  # already purged
    session.commit()
    session.expire_all()
    assert (old.summary, old.phone, old.sender_hash, old.purged) == (None, None, None, True)
    assert (old.category, old.persons, old.amount, old.street, old.outcome, old.legal_basis) == (
        "wage_arrears", 5, Decimal("8000.00"), "中南街道", "answered", "条例第30条")
    assert (new.summary, new.phone, new.purged) == ("keep", "13900000000", False)


# --- directory -------------------------------------------------------------------------------------------


def test_import_directory_round_trip(session: Session) -> None:
    entries = parse_roster(SAMPLE_CSV)
    assert directory.import_directory(session=session, entries=entries) == 21
    session.commit()
    assert directory.directory_entries(session=session) == entries


def test_import_directory_upserts(session: Session) -> None:
    entries = parse_roster(SAMPLE_CSV)
    directory.import_directory(session=session, entries=entries)
    changed = [e if e.community != "东台社区" else AdvisorEntry(**{**e.__dict__, "advisor": "新顾问"}) for e in entries]
    directory.import_directory(session=session, entries=changed)
    session.commit()
    assert session.scalar(select(func.count()).select_from(Advisor)) == 21
    dongtai = directory.find_advisors(session=session, query="东台")
    assert [e.advisor for e in dongtai] == ["新顾问"]


def test_real_roster_replaces_sample_rows(session: Session) -> None:
    directory.import_directory(session=session, entries=parse_roster(SAMPLE_CSV))
    real = parse_roster("street,community,advisor\n公园街道,东台社区,真顾问\n")
    directory.import_directory(session=session, entries=real)
    session.commit()
    assert [(e.community, e.advisor, e.sample) for e in directory.directory_entries(session=session)] == [
        ("东台社区", "真顾问", False)]


def test_sample_roster_never_overwrites_a_real_one(session: Session) -> None:
    directory.import_directory(session=session, entries=parse_roster("street,community,advisor\n公园街道,东台社区,真顾问\n"))
    with pytest.raises(directory.SampleOverRealRoster):
        directory.import_directory(session=session, entries=parse_roster(SAMPLE_CSV))
    assert [(e.advisor, e.sample) for e in directory.directory_entries(session=session)] == [("真顾问", False)]


def test_find_advisors(session: Session) -> None:
    directory.import_directory(session=session, entries=parse_roster(SAMPLE_CSV))
    session.commit()
    assert next(e.community for e in directory.find_advisors(session=session, query="东苔")) == "东台社区"
    assert {e.street for e in directory.find_advisors(session=session, query="水上")} == {"沿江街道"}
    assert len(directory.find_advisors(session=session, query="东", limit=2)) == 2
    assert directory.find_advisors(session=session, query="北京") == []


# --- operators -------------------------------------------------------------------------------------------


def test_create_operator_and_login(session: Session) -> None:
    password = operators.create_operator(session=session, username="wang.li")
    session.commit()
    assert len(password) >= 16
    stored = session.scalar(select(Operator.password_hash))
    assert stored is not None and password not in stored and stored.startswith("scrypt$")
    assert operators.login(session=session, username="wang.li", password="wrong") is None
    assert operators.login(session=session, username="nobody", password=password) is None
    token = operators.login(session=session, username="wang.li", password=password)
    session.commit()
    assert token
    operator = operators.operator_for_token(session=session, token=token)
    assert operator is not None and operator.username == "wang.li"
    assert operators.operator_for_token(session=session, token=token + "x") is None
    assert operators.operator_for_token(session=session, token="") is None


def test_only_the_token_hash_is_stored_and_it_expires(session: Session) -> None:
    password = operators.create_operator(session=session, username="li")
    token = operators.login(session=session, username="li", password=password)
    assert token
    row = session.scalar(select(OperatorSession))
    assert row is not None and row.token_hash != token and len(row.token_hash) == 64
    assert row.expires_at - row.created_at == timedelta(hours=12)
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert operators.operator_for_token(session=session, token=token) is None


def test_inactive_operator_cannot_log_in(session: Session) -> None:
    password = operators.create_operator(session=session, username="li")
    token = operators.login(session=session, username="li", password=password)
    assert token
    operator = operators.operator_for_token(session=session, token=token)
    assert operator is not None
    operator.active = False
    session.commit()
    assert operators.operator_for_token(session=session, token=token) is None
    assert operators.login(session=session, username="li", password=password) is None


def test_logout(session: Session) -> None:
    password = operators.create_operator(session=session, username="li")
    token = operators.login(session=session, username="li", password=password)
    assert token and operators.logout(session=session, token=token)
    assert operators.operator_for_token(session=session, token=token) is None


def test_operator_names(session: Session) -> None:
    operators.create_operator(session=session, username="li")
    with pytest.raises(operators.OperatorExists, match=r"^operator 'li' already exists$"):
        operators.create_operator(session=session, username="li")
    with pytest.raises(StoreError, match="invalid operator name 'a b'"):
        operators.create_operator(session=session, username="a b")


def test_password_hashes_are_salted() -> None:
    first, second = operators.hash_password("same"), operators.hash_password("same")
    assert first != second
    assert operators.verify_password("same", first) and operators.verify_password("same", second)
    assert not operators.verify_password("other", first)
    assert not operators.verify_password("same", "plain-text")


# --- handoffs --------------------------------------------------------------------------------------------


def test_handoff_queue(session: Session) -> None:
    first = handoffs.open_handoff(session=session, channel="wechat", sender_hash="a" * 64, category="wage_arrears",
                              summary="想找律师")
    second = handoffs.open_handoff(session=session, channel="web", sender_hash="b" * 64)
    session.commit()
    assert [h.id for h in handoffs.list_handoffs(session=session)] == [first.id, second.id]
    taken = handoffs.set_handoff_status(session=session, handoff_id=first.id, status="taken", operator="wang")
    assert taken is not None and taken.operator == "wang"
    assert [h.id for h in handoffs.list_handoffs(session=session)] == [second.id]
    assert [h.id for h in handoffs.list_handoffs(session=session, status="taken")] == [first.id]
    assert len(handoffs.list_handoffs(session=session, status=None)) == 2
    assert handoffs.set_handoff_status(session=session, handoff_id=9999, status="closed") is None
    with pytest.raises(StoreError):
        handoffs.set_handoff_status(session=session, handoff_id=first.id, status="lost")
    with pytest.raises(StoreError, match="unknown channel 'fax'"):
        handoffs.open_handoff(session=session, channel="fax", sender_hash="c" * 64)
