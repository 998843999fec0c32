"""hotline.answer_order: the point that matters first, and no unverified figure for citizens."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from hotline.answer_order import citizen_aid_basis, citizen_route, first_route, key_points
from hotline.legal_aid import AidFacts, assess
from hotline.wage_claim import WageFacts, guidance
from tests.law_data import setting, use_law_data

ON = dt.date(2026, 12, 2)


def points(facts: WageFacts, on: dt.date = ON) -> list[str]:
    return [p.key for p in key_points(facts, on, guidance(facts, on))]


def test_a_construction_site_puts_who_pays_first_by_who_hired_the_worker() -> None:
    facts = WageFacts(amount=30000, construction=True, migrant_worker=True, hired_by="company")
    assert points(facts)[0] == "general_contractor"
    [p] = [p for p in key_points(facts, ON, guidance(facts, ON)) if p.key == "general_contractor"]
    assert p.values["basis"] == "《保障农民工工资支付条例》第三十条"
    # the vanished 包工头: 第三十六条 (清偿), never 第三十条
    person = WageFacts(amount=30000, construction=True, hired_by="person")
    [p] = [p for p in key_points(person, ON, guidance(person, ON)) if p.key == "illegal_subcontract"]
    assert p.basis == ["《保障农民工工资支付条例》第三十六条"]
    unknown = WageFacts(amount=30000, construction=True)
    assert points(unknown)[0] == "construction_unknown"
    assert points(WageFacts(amount=30000, construction=False)) == []
    # both sides of the regulation's first day (2020-05-01)
    assert points(person, dt.date(2020, 4, 30)) == []
    assert points(person, dt.date(2020, 5, 1)) == ["illegal_subcontract"]


def test_a_close_deadline_comes_before_everything() -> None:
    ended = ON - dt.timedelta(days=330)
    facts = WageFacts(employment_ended=True, end_date=ended, construction=True)
    assert points(facts)[:2] == ["deadline_close", "construction_unknown"]
    long_ago = WageFacts(employment_ended=True, end_date=ON - dt.timedelta(days=800))
    assert points(long_ago) == ["deadline_passed"]
    fresh = WageFacts(employment_ended=True, end_date=ON - dt.timedelta(days=10))
    assert points(fresh) == []
    # a later demand restarts the period (调解仲裁法第二十七条): the same end is no longer close
    asked = WageFacts(employment_ended=True, end_date=ended, last_demand_date=ON - dt.timedelta(days=20))
    assert "deadline_close" not in points(asked)


def test_no_written_contract_double_wages_need_more_than_a_month_and_stop_at_11() -> None:
    facts = WageFacts(has_contract=False, months_worked=8)
    [p] = [p for p in key_points(facts, ON, guidance(facts, ON)) if p.key == "double_wages"]
    assert p.basis == ["《劳动合同法》第八十二条"] and p.values["months"] == "7"
    long = WageFacts(has_contract=False, months_worked=30)
    [p] = [p for p in key_points(long, ON, guidance(long, ON)) if p.key == "double_wages"]
    assert p.values["months"] == "11"
    assert not {"double_wages", "double_wages_maybe"} & set(points(WageFacts(has_contract=False, months_worked=1)))
    assert "double_wages_maybe" in points(WageFacts(has_contract=False))  # months not known: nothing promised
    assert "double_wages_subcontract" in points(WageFacts(has_contract=False, months_worked=8, hired_by="person"))
    assert "double_wages" not in points(WageFacts(has_contract=True))
    assert "double_wages" not in points(WageFacts(has_contract=None))  # not asked yet: nothing assumed
    # Both sides of the date the article took effect (the Labour Contract Law, 2008-01-01), and of the day the
    # 1-year period the full point quotes took effect (调解仲裁法第二十七条, 2008-05-01): before it, no period is said.
    assert not {"double_wages", "double_wages_maybe"} & set(points(facts, dt.date(2007, 12, 31)))
    assert "double_wages_maybe" in points(facts, dt.date(2008, 4, 30))
    assert "double_wages" in points(facts, dt.date(2008, 5, 1))


def test_the_double_wage_figures_are_the_law_datas(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The 11 months (第八十二条: 超过一个月不满一年) and the 1 year of the point are records, not typed."""
    facts = WageFacts(has_contract=False, months_worked=30)
    [p] = [p for p in key_points(facts, ON, guidance(facts, ON)) if p.key == "double_wages"]
    assert (p.values["months"], p.values["max_months"], p.values["years"]) == ("11", "11", "1")
    assert [s.name for s in p.sources] == ["labor_contract.art82", "labor_contract.art82_months",
                                           "labor_arbitration.limitation"]

    def nine(doc: dict[str, Any]) -> None:
        doc["art82_months"]["value"]["max_months"] = 9

    use_law_data(monkeypatch, tmp_path, {"labor_contract": nine})
    [p] = [p for p in key_points(facts, ON, guidance(facts, ON)) if p.key == "double_wages"]
    assert (p.values["months"], p.values["max_months"]) == ("9", "9")


def test_unverified_figures_are_replaced_for_citizens() -> None:
    g = guidance(WageFacts(amount=8000, people_count=1), ON)
    arbitration = next(r for r in g.routes if r.key == "arbitration")
    shown, basis = citizen_route(arbitration)
    assert "23880" in arbitration.detail and "23880" not in shown  # the unverified 1990 × 12: operators only
    assert "20160元，最新标准请拨12348核实" in shown  # the verified 1680 × 12 and a pointer to a person
    assert "桂政发〔2023〕24号（未核实）" in arbitration.basis and "桂政发〔2023〕24号（未核实）" not in basis
    assert "桂政发〔2018〕6号" in basis


def _unmarked(doc: dict[str, Any]) -> None:
    """The minimum-wage records' citations without the words 未核实: only `verified` says what is checked."""
    for value in doc["liuzhou"]["values"]:
        value["citation"] = value["citation"].replace("（未核实）", "")


def test_what_a_citizen_sees_follows_verified_not_the_words(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    use_law_data(monkeypatch, tmp_path, {"minimum_wage": _unmarked})
    g = guidance(WageFacts(amount=8000, people_count=1), ON)
    arbitration = next(r for r in g.routes if r.key == "arbitration")
    shown, basis = citizen_route(arbitration)
    assert "桂政发〔2023〕24号" in arbitration.basis and "桂政发〔2023〕24号" not in basis
    assert "23880" not in shown
    aid = assess(AidFacts(matter="wage_arrears", monthly_income_per_capita=1800, has_valuable_assets=False), ON)
    assert "桂政发〔2023〕24号" in aid.basis and "桂政发〔2023〕24号" not in citizen_aid_basis(aid)


def test_a_changed_record_changes_the_key_point(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The key points carry the records (value, citation, verified), not sentences parsed back: change the record
    and the point follows; unverify it and the point is gone for the citizen."""
    facts = WageFacts(amount=30000, construction=True, hired_by="company", employment_ended=True,
                      end_date=ON - dt.timedelta(days=330))
    before = key_points(facts, ON, guidance(facts, ON))
    assert [p.key for p in before] == ["deadline_close", "general_contractor"]
    assert before[0].values["days"] == "35"  # 1 year (第二十七条) from the end: 365 - 330
    assert before[1].sources[0].name == "wage_payment.art30" and before[1].sources[0].verified

    def changed(doc: dict[str, Any]) -> None:
        doc["art30"]["citation"] = "《保障农民工工资支付条例》第三十条（修订）"

    def two_years(doc: dict[str, Any]) -> None:
        doc["limitation"]["value"]["years"] = 2

    use_law_data(monkeypatch, tmp_path, {"wage_payment": changed, "labor_arbitration": two_years})
    after = key_points(facts, ON, guidance(facts, ON))
    assert [p.key for p in after] == ["general_contractor"]  # 2 years from the end: 400 days left, not close
    assert after[0].values["basis"] == after[0].basis[0] == "《保障农民工工资支付条例》第三十条（修订）"
    close = WageFacts(employment_ended=True, end_date=ON - dt.timedelta(days=700))
    [d] = key_points(close, ON, guidance(close, ON))
    assert d.key == "deadline_close" and d.values["days"] == "30"  # 2025-01-01 + 2 years = 2027-01-01


def test_an_unverified_article_makes_no_key_point(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_law_data(monkeypatch, tmp_path, {"wage_payment": setting("art30", verified=False, note="测试：未核实。")})
    facts = WageFacts(amount=30000, construction=True, hired_by="company")
    assert "general_contractor" not in points(facts)


def test_with_an_iou_the_first_step_is_the_court() -> None:
    assert first_route(guidance(WageFacts(evidence=("欠条",)), ON)) == "iou"
    assert first_route(guidance(WageFacts(), ON)) == "inspection"


def test_the_deadline_points_cite_article_27() -> None:
    close = WageFacts(employment_ended=True, end_date=ON - dt.timedelta(days=350))
    [p] = [p for p in key_points(close, ON, guidance(close, ON)) if p.key == "deadline_close"]
    assert p.values["basis"] == "《劳动争议调解仲裁法》第二十七条" and p.values["days"] == "15"
    passed = WageFacts(employment_ended=True, end_date=ON - dt.timedelta(days=400))
    [p] = [p for p in key_points(passed, ON, guidance(passed, ON)) if p.key == "deadline_passed"]
    assert p.values["basis"] == "《劳动争议调解仲裁法》第二十七条"


def test_the_draft_papers_cap_double_wages_by_the_same_record(monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    """The arbitration draft (hotline/documents) reads the same labor_contract.art82_months as the key point."""
    from hotline.documents.arbitration import Applicant, ClaimFacts, arbitration_draft

    me = Applicant(name="张三", sex="男", id_number="450202199001011234", phone="13977212345", address="柳州")
    facts = WageFacts(employer="某公司", amount=9000, employment_ended=True, end_date=dt.date(2026, 10, 31),
                      has_contract=False)
    long = ClaimFacts(start_date=dt.date(2024, 1, 1), monthly_wage=5000)

    def double(extra: ClaimFacts | None) -> Any:
        return next(c for c in arbitration_draft(facts, me, ON, extra).claims if "二倍工资" in c.text)

    assert double(long).amount == 11 * 5000 and "最多十一个月" in double(None).text

    def nine(doc: dict[str, Any]) -> None:
        doc["art82_months"]["value"]["max_months"] = 9

    use_law_data(monkeypatch, tmp_path, {"labor_contract": nine})
    assert double(long).amount == 9 * 5000 and "最多九个月" in double(None).text
