"""The copilot tells the operator what the bot tells the citizen (issue 21): the answer's points from the same core
calls (hotline.answer_order.key_points over hotline.wage_claim.guidance, worded by the same utter_point_<key>
lines), the bot's answer options as values a click fills, and the flow spec's words read in a caller's sentence."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot import copilot
from hotline import answer_order, wage_claim

ON = dt.date(2026, 12, 7)


def analysis(text: str, intent: str = "wage_arrears", entities: list[dict[str, Any]] | None = None,
             corrections: dict[str, Any] | None = None) -> dict[str, Any]:
    return copilot.analyze_turn(copilot.CallState(), {"intent": {"name": intent, "confidence": 0.9},
                                                     "entities": entities or []}, text, corrections,
                                entries=[], on=ON)


def test_the_citizens_points_are_the_operators() -> None:
    r = analysis("我们从农村出来打工，都没干了，没签合同，老板欠两万", entities=[{"entity": "amount", "value": 20000}])
    assert (r["slots"]["migrant_worker"], r["slots"]["employment_ended"], r["slots"]["has_contract"]) == (
        True, True, False)  # 「从农村出来打工」 and 「都没干了」 read by the flow spec's words
    facts = wage_claim.facts_from_slots(r["slots"])
    keys = [p.key for p in answer_order.key_points(facts, ON, wage_claim.guidance(facts, ON))]
    assert "double_wages_maybe" in keys  # no contract, months of work not said yet
    shown = "\n".join(r["wage_steps"])
    assert "二倍工资" in shown and "《劳动合同法》第八十二条" in shown
    for key in keys:  # every point the citizen's answer would show, worded by the same domain line
        line = str(copilot.domain_responses()[f"utter_point_{key}"][0]["text"])
        assert line.split("{", 1)[0] in shown


def test_no_double_wages_point_with_a_contract() -> None:
    r = analysis("签了合同，老板欠两万，已经不干了")
    assert r["slots"]["has_contract"] is True
    assert "二倍工资" not in "\n".join(r["wage_steps"])


@pytest.mark.parametrize(("slot", "payload", "value"), [
    ("has_contract", "/deny", False), ("employment_ended", "/affirm", True),
    ("street", '/inform{"street": "沿江街道"}', "沿江街道"), ("matter", '/inform{"matter": "work_injury"}', "work_injury"),
    ("groups", '/inform{"group": "elderly"}', ["elderly"]), ("groups", "/deny", []), ("evidence", "欠条", "欠条"),
    ("people_count", '/inform{"people_count": 1}', 1),
])
def test_an_answer_option_is_the_value_it_fills(slot: str, payload: str, value: Any) -> None:
    assert copilot.button_value(slot, payload) == value


def test_every_option_shown_fills_its_fact() -> None:
    r = analysis("老板欠我工资", entities=[])
    options = [(q["slot"], b) for q in r["questions"] for b in q["buttons"]]
    assert options, r["questions"]
    for slot, button in options:
        again = analysis("老板欠我工资", corrections={slot: button["value"]})
        assert slot not in again["rejected_corrections"], (slot, button)
        assert slot not in again["missing"], (slot, button)
