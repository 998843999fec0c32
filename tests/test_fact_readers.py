"""Issue 23's facts asked only where they change the advice: their readers, and when the flow asks them."""
from __future__ import annotations

import datetime as dt

import pytest

from hotline import flows
from hotline.flows import fact_readers
from hotline.wage_claim import facts_from_slots, facts_needed

ON = dt.date(2026, 12, 7)


@pytest.mark.parametrize(("slot", "text", "value"), [
    ("end_date", "上个月底", "2026-11-30"),
    ("end_date", "去年腊月就没干了", "2026-01-18"),
    ("end_date", "还在干", "still"),
    ("end_date", "没要过", None),
    ("last_demand_date", "没要过", "none"),
    ("last_demand_date", "3月15号去劳动监察问过", "2026-03-15"),
    ("last_demand_date", "还在干", None),
    ("end_date", "不知道", None),
    ("end_date", "2026-01-18", "2026-01-18"),  # a value already read is read the same
])
def test_dates_are_read_to_iso_days_or_markers(slot: str, text: str, value: str | None) -> None:
    assert fact_readers.read_date_slot(slot, text, on=ON) == value


@pytest.mark.parametrize(("text", "value"), [
    ("包工头", "person"), ("是老乡带我们去的，他是工头", "person"), ("班组长招的", "person"),
    ("公司", "company"), ("劳务公司招的", "company"), ("一个分包单位", "company"), ("不知道", None),
    ("person", "person"),
])
def test_who_hired_the_worker(text: str, value: str | None) -> None:
    assert fact_readers.read_hirer("hired_by", text) == value


def test_said_unasked_only_when_named_outright() -> None:
    assert fact_readers.said("我们包工头跑了") == {"hired_by": "person"}
    assert fact_readers.said("劳务公司不给钱") == {"hired_by": "company"}
    assert fact_readers.said("老板不给钱") == {}


def test_still_working_to_the_end_date_question_takes_back_the_ended_answer() -> None:
    facts = facts_from_slots({"employment_ended": True, "end_date": "still"})
    assert facts.employment_ended is False and facts.end_date is None
    facts = facts_from_slots({"employment_ended": True, "end_date": "2026-01-18", "last_demand_date": "none"})
    assert facts.end_date == dt.date(2026, 1, 18) and facts.last_demand_date is None


@pytest.mark.parametrize(("slots", "asked", "not_asked"), [
    ({"employment_ended": False}, [], ["end_date", "last_demand_date"]),
    ({"employment_ended": True}, ["end_date"], ["last_demand_date"]),
    # the deadline from this end is 11.5 months away… minus 0.5: close, so a later demand would change it
    ({"employment_ended": True, "end_date": (ON - dt.timedelta(days=350)).isoformat()},
     ["end_date", "last_demand_date"], []),
    # a recent end: the deadline is far, the last demand changes nothing
    ({"employment_ended": True, "end_date": (ON - dt.timedelta(days=30)).isoformat()}, ["end_date"],
     ["last_demand_date"]),
    ({"construction": True}, ["hired_by"], []),
    ({"construction": False}, [], ["hired_by"]),
    ({"has_contract": False}, ["months_worked"], []),
    ({"has_contract": True}, [], ["months_worked"]),
])
def test_the_new_questions_are_asked_only_when_they_change_the_advice(
        slots: dict, asked: list[str], not_asked: list[str]) -> None:
    needed = facts_needed(slots, ON)
    assert all(s in needed for s in asked) and not any(s in needed for s in not_asked), needed


def test_hired_by_is_asked_only_while_article_36_is_in_force() -> None:
    assert "hired_by" not in facts_needed({"construction": True}, dt.date(2020, 4, 30))
    assert "hired_by" in facts_needed({"construction": True}, dt.date(2020, 5, 1))


def test_the_flow_asks_them_in_order_after_their_trigger() -> None:
    missing = flows.missing("wage_claim", {"employer": "某公司", "amount": 8000, "people_count": 1, "months_owed": 2,
                                           "migrant_worker": True, "construction": True, "employment_ended": True},
                            ON)
    assert missing[:2] == ["hired_by", "end_date"]


# --- item 14 and item 5: the words that reach the right matter and group ---

def test_matter_and_group_words() -> None:
    from hotline.flows import reading

    assert reading.matter_code("去医院看病") is None            # 「医院」 alone is no medical accident
    assert reading.matter_code("对方被抓了") == "criminal_victim"  # a victim, not a suspect
    assert reading.matter_code("被邻居家的狗咬了") == "personal_injury"
    assert reading.group_codes("我是退伍的") == ["veteran"] and reading.group_codes("女的") == ["woman"]
    assert reading.yes_no("construction", "给人家里装修") is False  # a household's 装修 has no general contractor
    assert reading.yes_no("construction", "在工地装修") is True


def test_who_is_a_migrant_worker_is_the_hukou_not_the_word_dagong() -> None:
    """《保障农民工工资支付条例》第二条: a 农村居民 — 「本地人，户口在农村」 is one, 「外地」「打工」 alone say nothing."""
    from hotline.flows import reading

    assert reading.yes_no("migrant_worker", "本地人，户口在农村") is True
    assert reading.yes_no("migrant_worker", "城镇户口") is False
    assert reading.yes_no("migrant_worker", "在外地打工") is None and reading.yes_no("migrant_worker", "我是外地来的") is None
    assert reading.said("我户口在农村，老板欠钱")["migrant_worker"] is True


def test_the_new_number_questions_are_read() -> None:
    from hotline.flows import answers

    assert answers.read("months_worked", "半年").value == 6 and answers.read("months_worked", "8个月").value == 8
    assert answers.read("own_monthly_income", "八百").value == 800
    assert answers.read("own_monthly_income", "没有收入").value == 0


def test_the_legal_aid_form_asks_the_new_facts_only_where_they_matter() -> None:
    """Item 3: a support claim asks whether she lives with the other party, then her own income; item 4: an
    elderly applicant is asked about a fixed income, and without one the means test is waived."""
    support = {"matter": "support_payment", "groups": ["woman"]}
    assert flows.missing("legal_aid", support, ON)[0] == "lives_with_other_party"
    assert flows.missing("legal_aid", {**support, "lives_with_other_party": True}, ON)[:2] == [
        "own_monthly_income", "has_valuable_assets"]
    assert "lives_with_other_party" not in flows.missing("legal_aid", {"matter": "traffic_accident", "groups": ["woman"]}, ON)
    elderly = {"matter": "traffic_accident", "groups": ["elderly"]}
    assert flows.missing("legal_aid", elderly, ON)[0] == "no_fixed_income"
    assert flows.missing("legal_aid", {**elderly, "no_fixed_income": True}, ON) == ["street"]


def test_the_groups_question_reaches_abuse_and_abandonment() -> None:
    from pathlib import Path

    import yaml

    domain = yaml.safe_load((Path(__file__).parents[1] / "domain" / "legal_aid.yml").read_text(encoding="utf-8"))
    payloads = [b["payload"] for b in domain["responses"]["utter_ask_groups"][0]["buttons"]]
    assert '/inform{"group": "abuse_or_abandonment_victim"}' in payloads


def test_operators_see_the_new_facts_in_words() -> None:
    said = flows.summary({"construction": True, "hired_by": "person", "employment_ended": True,
                          "end_date": "2026-01-18", "last_demand_date": "none"})
    assert "包工头个人" in said and "2026年1月18日" in said and "没要过" in said and "person" not in said
