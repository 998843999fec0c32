"""hotline.answer_order: the point that matters first, and no unverified figure for citizens."""
from __future__ import annotations

import datetime as dt

from hotline.answer_order import citizen_basis, citizen_text, first_route, key_points
from hotline.wage_claim import WageFacts, guidance

ON = dt.date(2026, 12, 2)


def points(facts: WageFacts, on: dt.date = ON) -> list[str]:
    return [p.key for p in key_points(facts, on, guidance(facts, on))]


def test_a_construction_site_puts_the_general_contractor_first() -> None:
    facts = WageFacts(amount=30000, construction=True, migrant_worker=True)
    assert points(facts)[0] == "general_contractor"
    [p] = [p for p in key_points(facts, ON, guidance(facts, ON)) if p.key == "general_contractor"]
    assert p.values["basis"] == "《保障农民工工资支付条例》第三十条"
    assert points(WageFacts(amount=30000, construction=False)) == []


def test_a_close_deadline_comes_before_everything() -> None:
    ended = ON - dt.timedelta(days=330)
    facts = WageFacts(employment_ended=True, end_date=ended, construction=True)
    assert points(facts)[:2] == ["deadline_close", "general_contractor"]
    long_ago = WageFacts(employment_ended=True, end_date=ON - dt.timedelta(days=800))
    assert points(long_ago) == ["deadline_passed"]
    fresh = WageFacts(employment_ended=True, end_date=ON - dt.timedelta(days=10))
    assert points(fresh) == []


def test_no_written_contract_points_to_double_wages_from_the_law_data() -> None:
    facts = WageFacts(has_contract=False)
    [p] = [p for p in key_points(facts, ON, guidance(facts, ON)) if p.key == "double_wages"]
    assert p.basis == ["《劳动合同法》第八十二条"]
    assert "double_wages" not in points(WageFacts(has_contract=True))
    assert "double_wages" not in points(WageFacts(has_contract=None))  # not asked yet: nothing assumed
    # Both sides of the date the article took effect (the Labour Contract Law, 2008-01-01).
    assert "double_wages" in points(facts, dt.date(2008, 1, 1))
    assert "double_wages" not in points(facts, dt.date(2007, 12, 31))


def test_unverified_figures_are_replaced_for_citizens() -> None:
    g = guidance(WageFacts(amount=8000, people_count=1), ON)
    arbitration = next(r for r in g.routes if r.key == "arbitration")
    shown = citizen_text(arbitration.detail)
    assert "未核实" not in shown and "12348" in shown
    assert all("未核实" not in c for c in citizen_basis(arbitration.basis))
    assert citizen_basis(["a", "b（未核实）", "a"]) == ["a"]


def test_with_an_iou_the_first_step_is_the_court() -> None:
    assert first_route(guidance(WageFacts(evidence=("欠条",)), ON)) == "iou"
    assert first_route(guidance(WageFacts(), ON)) == "inspection"
