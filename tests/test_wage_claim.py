"""Wage-claim guidance: data-driven cases across the change dates, evidence normalising, and properties."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.law.params import change_dates, files_of, reading
from hotline.wage_claim import EVIDENCE_ITEMS, WageFacts, facts_needed, guidance, normalise_evidence

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "wage_claim.yaml").read_text(encoding="utf-8"))
ROUTE_ORDER = ["negotiate", "inspection", "mediation", "arbitration", "court", "iou"]


def _files_read() -> tuple[str, ...]:
    """The data files the rules read for these cases, found by running them (hotline.law.params.reading)."""
    with reading() as read:
        for case in CASES:
            guidance(WageFacts(**{k: tuple(v) if k == "evidence" else v for k, v in case["input"].items()}),
                     on=case["date"])
    return files_of(read)


# The dates of every data file the rules read: discovered, never listed (a list once missed labor_contract.yaml).
FILES_READ = _files_read()
CHANGE_DATES = change_dates(*FILES_READ)


def _facts(raw: dict[str, Any]) -> WageFacts:
    return WageFacts(**{k: tuple(v) if k == "evidence" else v for k, v in raw.items()})


def test_the_rights_board_is_article_34_and_unverified_text_stays_with_operators() -> None:
    on = dt.date(2026, 6, 1)
    result = guidance(WageFacts(construction=True, hired_by="person"), on)
    assert "《保障农民工工资支付条例》第三十三条" not in result.basis
    assert any("第三十四条" in n and "告示牌" in n for n in result.operator_notes)
    assert all(n.startswith("（未核实") for n in result.operator_notes)
    assert not any("告示牌" in r.detail for r in result.routes)  # unverified: never told to a citizen as fact
    assert guidance(WageFacts(construction=False), on).operator_notes == []


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    result = guidance(_facts(case["input"]), on=case["date"])
    expected = case["expected"]
    routes = {r.key: r for r in result.routes}
    assert [r.key for r in result.routes] == expected["routes"]
    if "deadline" in expected:
        assert result.limitation.deadline == expected["deadline"]
    if "limitation_contains" in expected:
        assert expected["limitation_contains"] in result.limitation.summary, result.limitation.summary
    for key, text in expected.get("route_contains", {}).items():
        assert text in routes[key].detail, routes[key].detail
    for key, text in expected.get("route_not_contains", {}).items():
        assert text not in routes[key].detail, routes[key].detail
    for item in expected.get("missing_includes", []):
        assert item in result.missing_evidence
    for item in expected.get("missing_excludes", []):
        assert item not in result.missing_evidence
    if "general_contractor" in expected:
        assert (result.general_contractor is not None) == expected["general_contractor"]
    if "crime_note" in expected:
        assert (result.crime_note is not None) == expected["crime_note"]
    if "legal_aid" in expected:
        aid = expected["legal_aid"]
        assert (result.legal_aid.verdict, result.legal_aid.means_test) == (aid["verdict"], aid["means_test"])
    for citation in expected.get("basis_includes", []):
        assert citation in result.basis, (citation, result.basis)
    for citation in expected.get("basis_excludes", []):
        assert citation not in result.basis, (citation, result.basis)
    if "needs_review" in expected:
        assert result.needs_review == expected["needs_review"], result.missing_parameters
    for name in expected.get("missing_parameters_include", []):
        assert name in result.missing_parameters, result.missing_parameters
    if "liability" in expected:
        want, got = expected["liability"], result.construction_liability
        if want is None:
            assert got is None
        else:
            assert got is not None and got.duty == want["duty"] and got.citation == want["citation"], got
    for text in expected.get("operator_notes_contain", []):
        assert any(text in n for n in result.operator_notes), result.operator_notes
    if "crime_note_contains" in expected:
        assert result.crime_note is not None and expected["crime_note_contains"] in result.crime_note
    if "aid_reason_contains" in expected:
        assert any(expected["aid_reason_contains"] in r for r in result.legal_aid.reasons), result.legal_aid.reasons


@pytest.mark.parametrize("day", CHANGE_DATES)
def test_cases_sit_on_both_sides_of_every_change_date(day: dt.date) -> None:
    dates = {c["date"] for c in CASES}
    assert day in dates and day - dt.timedelta(days=1) in dates


@pytest.mark.parametrize(("text", "items"), [
    ("有欠条和微信聊天记录", ["欠条", "微信聊天记录"]),
    ("有欠条", ["欠条"]),
    ("微信记录", ["微信聊天记录"]),
    ("考勤表", ["考勤记录"]),
    ("工资条", ["工资条"]),
    ("转账记录", ["银行流水/转账记录"]),
    ("微信转账记录", ["银行流水/转账记录"]),
    ("工友可以作证", ["工友证言"]),
    ("有合同", ["劳动合同"]),
    ("工牌", ["工牌/工作证"]),
    ("照片", ["工地照片和项目名称"]),
    ("没签合同只有欠条", ["欠条"]),
    ("合同没有，工资单有", ["工资条"]),
    ("什么都没有", []),
    ("", []),
    ("有社保，还有招工时的登记表", ["招工登记", "社保记录"]),
])
def test_normalise_evidence(text: str, items: list[str]) -> None:
    assert normalise_evidence(text) == items


def test_crime_note_refers_and_never_asserts() -> None:
    note = guidance(WageFacts(amount=50_000, people_count=12, months_owed=5), on=dt.date(2026, 6, 1)).crime_note
    assert note is not None
    assert "可能" in note and "由公安、检察机关认定" in note and "第二百七十六条之一" in note
    assert "构成犯罪" not in note.replace("是不是犯罪", "")


def test_general_contractor_cites_article_30() -> None:
    text = guidance(WageFacts(construction=True), on=dt.date(2026, 6, 1)).general_contractor
    assert text is not None and "施工总承包单位先行清偿" in text and "第三十条" in text


def test_to_api_is_plain_data() -> None:
    body = guidance(WageFacts(employment_ended=True, end_date=dt.date(2026, 1, 5), migrant_worker=True),
                    on=dt.date(2026, 6, 1)).to_api()
    assert body["limitation"]["deadline"] == "2027-01-05"
    assert body["legal_aid"]["verdict"] == "eligible"
    assert [r["key"] for r in body["routes"]] == ROUTE_ORDER[:5]
    assert body["needs_review"] is False and body["missing_parameters"] == []


def test_change_dates_come_from_the_data() -> None:
    assert dt.date(2023, 9, 1) in CHANGE_DATES and dt.date(2025, 9, 1) in CHANGE_DATES  # the ones once missed
    assert dt.date(2021, 1, 1) in CHANGE_DATES  # the day after an `end`
    assert "labor_contract" in FILES_READ  # read by the rules, so its dates are test dates (a list once missed it)
    assert dt.date(2008, 1, 1) in CHANGE_DATES  # 《劳动合同法》 in force


def test_a_missing_parameter_goes_to_review_and_is_logged(monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    import hotline.wage_claim as wc

    real = wc.parameter_or_none
    monkeypatch.setattr(wc, "parameter_or_none",
                        lambda name, on: None if name == "labor_inspection.hotline" else real(name, on))
    with caplog.at_level("WARNING", logger="hotline.wage_claim"):
        result = guidance(WageFacts(amount=8000), on=dt.date(2026, 6, 1))
    inspection = next(r for r in result.routes if r.key == "inspection")
    assert result.needs_review and result.missing_parameters == ["labor_inspection.hotline"]
    assert "12333" not in inspection.detail + inspection.title
    assert "labor_inspection.hotline" in caplog.text


@pytest.mark.parametrize(("day", "migrant", "construction"), [
    (dt.date(2020, 4, 30), False, False), (dt.date(2020, 5, 1), False, True),
    (dt.date(2021, 12, 31), False, True), (dt.date(2022, 1, 1), True, True)])
def test_migrant_and_construction_are_asked_only_while_the_law_makes_them_matter(
        day: dt.date, migrant: bool, construction: bool) -> None:
    needed = facts_needed({}, day)
    assert ("migrant_worker" in needed, "construction" in needed) == (migrant, construction)


# --- properties ----------------------------------------------------------------------------------------------

DAYS = st.dates(min_value=dt.date(2009, 1, 1), max_value=dt.date(2032, 12, 31))
wage_facts = st.builds(
    WageFacts,
    employer=st.none() | st.text(max_size=10),
    amount=st.none() | st.integers(0, 2_000_000),
    people_count=st.none() | st.integers(0, 300),
    months_owed=st.none() | st.integers(0, 60),
    employment_ended=st.none() | st.booleans(),
    end_date=st.none() | st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2035, 12, 31)),
    has_contract=st.none() | st.booleans(),
    evidence=st.lists(st.text(max_size=20) | st.sampled_from(EVIDENCE_ITEMS), max_size=4).map(tuple),
    construction=st.none() | st.booleans(),
    migrant_worker=st.none() | st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(facts=wage_facts, on=DAYS)
def test_guidance_never_raises_and_basis_covers_every_part(facts: WageFacts, on: dt.date) -> None:
    result = guidance(facts, on)
    keys = [r.key for r in result.routes]
    assert keys[:5] == ROUTE_ORDER[:5] and set(keys) <= set(ROUTE_ORDER)
    used = [c for r in result.routes for c in r.basis] + result.limitation.basis + result.legal_aid.basis
    assert set(used) <= set(result.basis) and result.basis
    assert set(result.missing_evidence) <= set(EVIDENCE_ITEMS)
    if result.limitation.deadline is not None:
        assert facts.end_date is not None and result.limitation.deadline > facts.end_date


@settings(max_examples=200, deadline=None)
@given(facts=wage_facts, extra=st.integers(0, 100_000))
def test_more_money_owed_never_removes_the_crime_note(facts: WageFacts, extra: int) -> None:
    from dataclasses import replace
    on = dt.date(2026, 6, 1)
    if guidance(facts, on).crime_note is not None:
        assert guidance(replace(facts, amount=(facts.amount or 0) + extra), on).crime_note is not None


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60))
def test_normalise_evidence_never_raises(text: str) -> None:
    items = normalise_evidence(text)
    assert items == [i for i in EVIDENCE_ITEMS if i in items]
