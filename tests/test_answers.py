"""The asked slot's reader (hotline/flows/answers.py): generated from the flow spec, properties for any text, and
the action layer's rule that an entity fills only its own flow's slots (issue 29)."""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa_sdk.executor import CollectingDispatcher

from hotline import flows
from hotline.flows import answers

ASKED = list(flows.form_slots())
YES_NO = [name for name in ASKED if flows.spec().slots[name].reader == "yes_no"]
SKIPPABLE = sorted({s for f in flows.flows() for s in f.skippable})
DONT_KNOW = ["不知道", "不清楚", "记不清了", "不晓得", "搞不清", "忘了", "没数", "要回去算算才晓得", "这个我也说不准"]


def test_every_asked_slot_has_a_reader_and_every_shared_slot_is_declared() -> None:
    for name in ASKED:
        assert flows.spec().slots[name].reader in answers.READERS, name
    for name in ASKED:
        asked_by = [f.name for f in flows.flows() if name in f.slot_names]
        assert len(asked_by) == 1 or flows.spec().slots[name].shared, name


@pytest.mark.parametrize("slot", YES_NO)
@pytest.mark.parametrize(("said", "value"), [("是的", True), ("对头", True), ("嗯嗯", True), ("不是", False),
                                             ("没有", False), ("莫得", False), ("/affirm", True), ("/deny", False)])
def test_every_yes_no_question_takes_the_plain_words(slot: str, said: str, value: bool) -> None:
    """Where the slot's own words do not decide (「没有」 to 没有固定生活来源吗 is its own yes)."""
    from hotline.flows.reading import yes_no

    intent = {"/affirm": "affirm", "/deny": "deny"}.get(said)
    own = None if said.startswith("/") else yes_no(slot, said)
    assert answers.read(slot, said, intent=intent).value is (value if own is None else own)


@pytest.mark.parametrize("slot", YES_NO)
def test_a_slots_own_words_come_before_the_nlus_guess(slot: str) -> None:
    """「不做了」 said to 「已经不干了吗」 is yes whatever the NLU calls it; each slot's first no/yes word reads as such."""
    found = flows.spec().slots[slot]
    for words, value in ((found.no_words, False), (found.yes_words, True)):
        first = (words or "").split("|")[0].lstrip("^")
        if first and first.isalpha():
            assert answers.read(slot, first, intent="deny" if value else "affirm").value is value, (slot, first)


@pytest.mark.parametrize("slot", SKIPPABLE)
@pytest.mark.parametrize("said", DONT_KNOW)
def test_every_skippable_question_skips_on_any_dont_know(slot: str, said: str) -> None:
    answer = answers.read(slot, said)
    assert answer.skip and not answer.read, (slot, said, answer)


@pytest.mark.parametrize(("slot", "said", "value"), [
    ("migrant_worker", "不是，我是本地人，在公司做会计", False),
    ("migrant_worker", "本地人，户口在农村", True),
    ("migrant_worker", "從農村出來打工的", True),
    ("employment_ended", "不做了", True),
    ("employment_ended", "都没干了", True),
    ("phone", "一三八七七二一五六八八", "13877215688"),
    ("monthly_income", "没收入了", 0),
    ("monthly_income", "一年也就三万六", 3000),
    ("evidence", "啥证据都莫得", []),
    ("matter", "手术出了事故", "medical_accident"),
    ("matter", "老板不承认我是他的员工", "labor_relation"),
    ("matter", "朋友借钱不还", "contract_debt"),
    ("matter", "儿子不给老妈生活费", "support_payment"),
    ("has_valuable_assets", "有一辆旧车，不值钱", False),
    ("groups", "我今年68了", ["elderly"]),
    ("groups", "吃低保的 腿也有残疾", ["disabled", "social_assistance"]),
    ("household_size", "我和老婆 两个娃", 4),
    ("amount", "每个月四千 欠了三个月 一共一万二", 12000),
    ("amount", "2w3", 23000),
    ("employer", "一个叫王建国的包工头", "王建国"),
])
def test_the_issues_examples(slot: str, said: str, value: Any) -> None:
    got = answers.read(slot, said).value
    assert (sorted(got) == sorted(value)) if isinstance(value, list) else got == value


def test_a_phone_given_with_the_consent_fills_both() -> None:
    answer = answers.read("consent_phone", "可以啊 号码是13877215688")
    assert answer.value is True and answer.also == {"phone": "13877215688"}


@settings(max_examples=300, deadline=None)
@given(slot=st.sampled_from(ASKED), text=st.text(max_size=40), intent=st.sampled_from([None, "inform", "affirm",
                                                                                        "deny", "wage_arrears"]))
def test_no_text_breaks_a_reader(slot: str, text: str, intent: str | None) -> None:
    answer = answers.read(slot, text, intent=intent, place=lambda _slot, _text: None)
    assert not (answer.read and answer.skip)


@pytest.mark.parametrize(("said", "form", "response"), [
    ("离婚需要什么材料", None, "utter_materials_family_dispute"),
    ("办理仲裁需要什么手续", None, "utter_materials_arbitration"),
    ("仲裁需要什么手续", "wage_claim_form", "utter_materials_arbitration"),
    ("工伤认定要带什么", None, "utter_materials_work_injury"),
    ("要带什么", "wage_claim_form", "utter_materials_wage"),
    ("要带什么", None, "utter_materials"),
])
def test_a_paperwork_question_gets_its_matters_list(said: str, form: str | None, response: str) -> None:
    assert answers.materials_response(said, form) == response
    assert response in flows_responses()


def domain_actions() -> set[str]:
    from tests.walks import load_domain

    return set(load_domain().get("actions") or [])


def flows_responses() -> set[str]:
    from tests.walks import load_domain

    return set(load_domain()["responses"])


# --- the action layer: an entity fills only its own flow's slots (issue 29) -----------------------------------

async def test_an_income_answer_fills_no_amount_owed() -> None:
    """「两千」 to 全家每月收入 fills monthly_income; `amount` (a wage-claim slot) stays empty even when the NER calls
    the number an amount, so a wage claim started later still asks 「一共欠了多少钱」."""
    from actions.legal_aid import ValidateLegalAidForm
    from tests.test_actions import DOMAIN, tracker

    t = tracker("legal_aid_done.json", slots={"matter": "traffic_accident", "migrant_worker": False, "groups": [],
                                              "monthly_income": None, "household_size": None,
                                              "has_valuable_assets": None, "amount": None,
                                              "requested_slot": "monthly_income"},
                candidates={"monthly_income": "两千"}, text="两千",
                entities=[{"entity": "amount", "value": 2000, "start": 0, "end": 2}])
    events = await ValidateLegalAidForm().run(CollectingDispatcher(), t, DOMAIN)
    set_slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert set_slots.get("monthly_income") == 2000.0
    assert "amount" not in set_slots


async def test_the_message_that_starts_the_wage_claim_fills_its_figures() -> None:
    from actions.wage_claim import ValidateWageClaimForm
    from tests.test_actions import DOMAIN, tracker

    text = "包工头跑了，欠我们12个工友三万五"
    t = tracker("wage_form_asking.json", slots={"employer": None, "amount": None, "people_count": None,
                                                "requested_slot": None}, text=text, intent="wage_arrears",
                entities=[{"entity": "people_count", "value": 12, "start": 7, "end": 12},
                          {"entity": "amount", "value": 35000, "start": 12, "end": 15}])
    events = await ValidateWageClaimForm().run(CollectingDispatcher(), t, DOMAIN)
    set_slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert set_slots.get("amount") == 35000 and set_slots.get("people_count") == 12


def test_the_summary_shows_only_the_flows_the_citizen_began() -> None:
    """A pure legal-aid check (income 2000, 农民工) has no 讨薪 sentence: 农民工 is shared, the amount is not there."""
    text = flows.summary({"matter": "traffic_accident", "monthly_income": 2000.0, "migrant_worker": True,
                          "street": "公园街道"})
    assert text.startswith("法律援助——") and "讨薪" not in text and "欠款金额" not in text
    assert "是进城务工人员（农民工）" in text and "全家月收入：2000元" in text


def test_every_question_has_a_re_ask_that_says_what_to_give() -> None:
    """An answer the reader cannot read gets the slot's own re-ask (utter_bad_<slot>, a yes/no slot utter_bad_yes_no),
    never a bare 「没太看懂」."""
    responses = flows_responses()
    for name in ASKED:
        bad = "utter_bad_yes_no" if flows.spec().slots[name].reader == "yes_no" else f"utter_bad_{name}"
        assert bad in responses, f"{name}: no {bad} in the domain"
        assert f"utter_ask_{name}" in responses or f"action_ask_{name}" in domain_actions(), name
