"""The flow spec (hotline/flows): one definition that the domain's forms, the validation actions, the summary and the
reading of citizens' words agree with; questions asked only when the law makes them matter."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from actions.legal_aid import ValidateLegalAidForm
from actions.wage_claim import ValidateWageClaimForm
from hotline import flows, wage_claim
from hotline.flows import reading
from tests.test_actions import DOMAIN, run, slot_values, tracker

ON = dt.date(2026, 6, 1)


# --- the spec and the domain say the same ---------------------------------------------------------------------

@pytest.mark.parametrize("flow", flows.flows(), ids=lambda f: f.name)
def test_each_domain_form_asks_the_spec_slots_in_the_spec_order(flow: flows.Flow) -> None:
    assert DOMAIN["forms"][flow.form]["required_slots"] == list(flow.slot_names)


@pytest.mark.parametrize("slot", flows.form_slots())
def test_every_spec_slot_is_a_domain_slot_with_its_question(slot: str) -> None:
    assert slot in DOMAIN["slots"]
    assert f"utter_ask_{slot}" in DOMAIN["responses"]


def test_every_yes_no_slot_of_the_spec_is_a_bool_slot() -> None:
    for slot in flows.spec().slots.values():
        if slot.yes_words or slot.no_words:
            assert DOMAIN["slots"][slot.name]["type"] == "bool", slot.name


def test_topics_name_domain_responses() -> None:
    for topic in flows.spec().topics.values():
        for response in topic.responses:
            assert response in DOMAIN["responses"], response


async def test_a_stopped_form_keeps_what_was_said() -> None:
    """算了 stops the form; coming back asks only what is missing (issue 22), so nothing said is forgotten."""
    from rasa_sdk.executor import CollectingDispatcher

    from actions.dialogue import ActionResetForm
    from tests.test_actions import DOMAIN, tracker

    t = tracker("wage_form_asking.json", slots={"amount": 9000.0})
    events = await ActionResetForm().run(CollectingDispatcher(), t, DOMAIN)
    assert [e["name"] for e in events if e.get("event") == "slot"] == ["requested_slot"]


def test_a_bad_spec_fails_on_load() -> None:
    with pytest.raises(flows.SpecError, match="not defined"):
        flows.parse_spec("slots: {a: {label: A}}\nflows: {f: {label: F, form: f_form, slots: [b]}}")
    with pytest.raises(flows.SpecError, match="unknown condition"):
        flows.parse_spec("slots: {a: {label: A}}\nflows: {f: {label: F, form: f_form, slots: [{a: sometimes}]}}")


# --- which questions, in which order ---------------------------------------------------------------------------

def test_wage_claim_asks_migrant_status_and_construction() -> None:
    assert flows.missing("wage_claim", {"employer": "某公司", "amount": 8000, "people_count": 1, "months_owed": 2},
                         ON)[:2] == ["migrant_worker", "construction"]


def test_a_dv_victims_traffic_claim_gets_the_income_questions() -> None:
    slots = {"matter": "traffic_accident", "groups": ["domestic_violence_victim"]}
    assert flows.missing("legal_aid", slots, ON) == ["monthly_income", "household_size", "has_valuable_assets",
                                                     "street"]
    assert flows.missing("legal_aid", {**slots, "matter": "family_dispute"}, ON) == ["street"]


def test_a_migrant_wage_claim_for_legal_aid_skips_the_means_test() -> None:
    assert flows.missing("legal_aid", {"matter": "wage_arrears", "migrant_worker": True}, ON) == ["street"]


def test_advisor_street_only_when_no_community() -> None:
    assert flows.missing("advisor", {}, ON) == ["community", "street"]
    assert flows.missing("advisor", {"community": "东台社区"}, ON) == []
    assert flows.missing("advisor", {"street": "沿江街道"}, ON) == ["community"]
    assert flows.missing("advisor", {"street": "沿江街道"}, ON, skipped=["community"]) == []


def test_summary_is_chinese_sentences_without_the_phone() -> None:
    text = flows.summary({"employer": "恒通建筑公司", "amount": 35000.0, "migrant_worker": True, "has_contract": False,
                          "phone": "13977212345", "evidence": ["欠条"], "matter": "wage_arrears"})
    assert text == ("讨薪——欠钱的单位或老板：恒通建筑公司；欠款金额：35000元；是进城务工人员（农民工）；没签劳动合同；"
                    "手上的证据：欠条。法律援助——什么事：追索劳动报酬。")


# --- reading words --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("我是农民工，老板欠我三个月工资", {"migrant_worker": True}),
    ("包工头跑了，工地上欠我们两万", {"construction": True}),
    ("我不是农民工，在公司做会计", {"migrant_worker": False}),
    ("没签合同，已经离职了", {"has_contract": False, "employment_ended": True}),
    ("公司欠我两个月工资", {}),
])
def test_facts_stated_unasked(text: str, expected: dict[str, bool]) -> None:
    assert reading.said(text) == expected


@pytest.mark.parametrize(("slot", "value", "expected"), [
    ("has_contract", "没签", False), ("has_contract", "签了", True), ("employment_ended", "还在干", False),
    ("employment_ended", "早不干了", True), ("migrant_worker", "是的", True), ("migrant_worker", "不是", False),
    ("construction", "在工地", True), ("has_valuable_assets", "没有房也没有车", False), ("has_contract", "嗯？", None),
])
def test_yes_no_words(slot: str, value: str, expected: bool | None) -> None:
    assert reading.yes_no(slot, value) is expected


# --- the forms read the spec ------------------------------------------------------------------------------------

def _wage_tracker(first: str, slots: dict[str, Any], text: str = "3个月") -> Any:
    t = tracker("wage_form_asking.json", slots={**slots, "requested_slot": "months_owed"}, text=text,
                candidates={"months_owed": 3.0})
    t.events[3]["text"] = first  # the first message of the conversation
    return t


async def test_wage_form_fills_migrant_and_construction_from_the_first_message() -> None:
    t = _wage_tracker("我是农民工，包工头跑了", {"amount": 8000.0, "people_count": 1.0})
    events, _ = await run(ValidateWageClaimForm(), t)
    values = slot_values(events)
    assert values["migrant_worker"] is True and values["construction"] is True
    # issue 23: the 包工头 named unasked is who hired the worker (条例第三十六条), so that question is not asked
    assert values["hired_by"] == "person"
    assert values["requested_slot"] == "employment_ended"


async def test_on_a_site_with_the_hirer_unsaid_the_form_asks_who_hired_the_worker() -> None:
    t = _wage_tracker("我是农民工，在工地上干活", {"amount": 8000.0, "people_count": 1.0})
    events, _ = await run(ValidateWageClaimForm(), t)
    values = slot_values(events)
    assert values["construction"] is True and values["requested_slot"] == "hired_by"


async def test_wage_form_asks_migrant_status_when_not_said() -> None:
    t = _wage_tracker("公司欠我两个月工资", {"amount": 8000.0, "people_count": 1.0})
    events, _ = await run(ValidateWageClaimForm(), t)
    values = slot_values(events)
    assert "migrant_worker" not in values and values["requested_slot"] == "migrant_worker"
    # the answer's facts: the core's one conversion, as action_wage_claim_advice calls it
    assert wage_claim.facts_from_slots(t.current_slot_values()).migrant_worker is None  # never assumed


async def test_wage_form_reads_a_migrant_answer_in_words() -> None:
    t = tracker("wage_form_asking.json", slots={"amount": 8000.0, "people_count": 1.0, "months_owed": 2.0,
                                                "requested_slot": "migrant_worker"},
                text="不是，我在办公室上班", candidates={"migrant_worker": "不是，我在办公室上班"})
    events, _ = await run(ValidateWageClaimForm(), t)
    assert slot_values(events)["migrant_worker"] is False


async def test_legal_aid_form_asks_income_of_a_dv_victim_in_a_traffic_case() -> None:
    t = tracker("wage_form_asking.json",
                slots={"matter": "traffic_accident", "requested_slot": "groups", "open_topic": None},
                text="家暴受害人", candidates={"groups": "家暴受害人"})
    t.active_loop = {"name": "legal_aid_form"}
    events, _ = await run(ValidateLegalAidForm(), t)
    values = slot_values(events)
    assert values["groups"] == ["domestic_violence_victim"] and values["requested_slot"] == "monthly_income"


# --- the advisor flow uses what it was told ---------------------------------------------------------------------

from actions.advisor import ActionAskCommunity, ActionFindAdvisor, ValidateAdvisorForm  # noqa: E402
from tests.test_actions import responses  # noqa: E402
from tests.test_actions import roster_db as roster_db  # noqa: E402 - a fixture, used by name


def _advisor_tracker(text: str, slots: dict[str, Any], candidates: dict[str, Any] | None = None) -> Any:
    t = tracker("wage_form_asking.json", slots={"employer": None, "open_topic": None, **slots}, text=text,
                candidates=candidates)
    t.events[3]["text"] = text
    t.active_loop = {"name": "advisor_form"}
    return t


async def test_old_street_name_is_said_back_and_its_communities_offered(roster_db: Any) -> None:
    t = _advisor_tracker("我住水上那边，想找社区律师", {"street": "沿江街道", "requested_slot": "community"})
    _, d = await run(ActionAskCommunity(), t)
    assert responses(d) == ["utter_street_renamed", "utter_ask_community_in_street", "utter_advisor_office"]
    assert (d.messages[0]["old"], d.messages[0]["street"]) == ("水上", "沿江街道")
    titles = [b["title"] for b in d.messages[1]["buttons"]]
    assert titles[0] == "水上社区" and set(titles) >= {"沿江社区", "东堤社区", "不知道"}
    assert d.messages[2]["office"] == "沿江司法所"


async def test_shuishang_alone_is_not_taken_as_the_community(roster_db: Any) -> None:
    t = _advisor_tracker("我住水上那边", {"requested_slot": None}, candidates={"community": "水上社区"})
    events, _ = await run(ValidateAdvisorForm(), t)
    values = slot_values(events)
    assert values["community"] is None and values["street"] == "沿江街道"
    assert flows.missing("advisor", {"street": "沿江街道"}, ON) == ["community"]  # so the buttons come next


async def test_the_community_named_in_full_answers_at_once(roster_db: Any) -> None:
    t = _advisor_tracker("我住水上社区", {"requested_slot": None}, candidates={"community": "水上社区"})
    events, _ = await run(ValidateAdvisorForm(), t)
    values = slot_values(events)
    assert (values["community"], values["street"], values["requested_slot"]) == ("水上社区", "沿江街道", None)


async def test_a_street_without_a_community_gets_its_communities_as_buttons(roster_db: Any) -> None:
    t = _advisor_tracker("不知道", {"street": "中南街道", "community": None})
    _, d = await run(ActionFindAdvisor(), t)
    said = responses(d)
    assert said[0] == "utter_advisor_street_only" and "utter_advisor_office" in said
    payloads = [b["payload"] for b in d.messages[0]["buttons"]]
    assert payloads and all(p.startswith('/find_advisor{"community": ') for p in payloads)


async def test_community_question_without_a_street_is_the_plain_one(roster_db: Any) -> None:
    _, d = await run(ActionAskCommunity(), _advisor_tracker("找法律顾问", {"requested_slot": "community"}))
    assert responses(d) == ["utter_ask_community"]


# --- the copilot reads the same spec, words and wording ---------------------------------------------------------

from bot import copilot  # noqa: E402
from hotline.directory import parse_roster  # noqa: E402
from tests.test_actions import ROOT  # noqa: E402

ENTRIES = parse_roster((ROOT / "data" / "directory_sample.csv").read_text(encoding="utf-8"))


def _turn(state: copilot.CallState, intent: str, text: str, entities: list[dict[str, Any]] | None = None,
          facts: dict[str, Any] | None = None) -> dict[str, Any]:
    parse = {"intent": {"name": intent, "confidence": 0.9}, "entities": entities or []}
    return copilot.analyze_turn(state, parse, text, facts, entries=ENTRIES, on=ON)


def test_copilot_questions_are_the_domain_responses() -> None:
    result = _turn(copilot.CallState(), "legal_aid", "想申请法律援助")
    assert [q["slot"] for q in result["questions"]] == ["matter", "street"]  # the rest depends on the matter
    variations = DOMAIN["responses"]["utter_ask_matter"]
    assert result["questions"][0]["text"] == next(v["text"] for v in variations if v.get("channel") == "copilot")
    # The bot's buttons (the copilot adds each one's `value`, the fact a click fills)
    assert [{k: b[k] for k in ("title", "payload")} for b in result["questions"][0]["buttons"]] == \
        variations[0]["buttons"]


def test_copilot_dv_victim_traffic_claim_asks_income_and_corrections_clear() -> None:
    state = copilot.CallState()
    result = _turn(state, "legal_aid", "被车撞了，我是家暴受害人", facts={"matter": "traffic_accident"})
    assert result["slots"]["groups"] == ["domestic_violence_victim"]
    assert result["missing"][:3] == ["monthly_income", "household_size", "has_valuable_assets"]
    result = _turn(state, "inform", "就这些", facts={"groups": None, "monthly_income": "三千", "household_size": 3,
                                                  "has_valuable_assets": "没有", "street": "水上"})
    assert "groups" not in result["slots"] and result["slots"]["monthly_income"] == 3000
    assert result["slots"]["street"] == "沿江街道" and result["missing"] == ["groups"]
    assert result["office"]["justice_office"] == "沿江司法所" and result["advisor"] is None


def test_copilot_topic_script_quotes_the_law_data() -> None:
    result = _turn(copilot.CallState(), "work_injury", "在工地摔伤了")
    assert result["flow"] is None and "30日内" in result["script"][0] and "《工伤保险条例》第十七条" in result["script"][0]


def test_copilot_never_assumes_a_migrant_worker() -> None:
    result = _turn(copilot.CallState(), "wage_arrears", "包工头跑了，欠我们工钱")
    assert "migrant_worker" not in result["slots"] and result["eligibility"] is None
    result = _turn(copilot.CallState(), "wage_arrears", "我是农民工，老板欠我工钱")
    assert result["slots"]["migrant_worker"] is True and result["eligibility"]["means_test"] == "waived"


async def test_one_roster_read_per_action_run(roster_db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import hotline.store.db as db

    real, opened = db.session_scope, []

    def counting() -> Any:
        opened.append(1)
        return real()

    monkeypatch.setattr(db, "session_scope", counting)
    t = _advisor_tracker("中南街道 东台", {"requested_slot": None},
                         candidates={"community": "东台", "street": "中南"})
    events, _ = await run(ValidateAdvisorForm(), t)
    assert slot_values(events)["community"] == "东台社区" and len(opened) == 1


@pytest.mark.parametrize(("first", "matter"), [
    ("我是农民工，老板欠工资，能申请法律援助吗", "wage_arrears"),
    ("离婚请不起律师怎么办", "family_dispute"),
    ("请不起律师怎么办", None),  # nothing named: 是什么事 is asked
    ("合同的事请不起律师", None),  # too vague to decide for the citizen
])
async def test_legal_aid_form_does_not_ask_what_the_first_message_said(first: str, matter: str | None) -> None:
    t = tracker("legal_aid_done.json", slots={"matter": None, "migrant_worker": None, "street": None,
                                              "requested_slot": None}, text=first)
    t.events[3]["text"] = first
    values = slot_values((await run(ValidateLegalAidForm(), t))[0])
    assert values.get("matter") == matter
    if matter is None:
        assert values["requested_slot"] == "matter"
    else:
        assert values["requested_slot"] not in ("matter", "migrant_worker" if "农民工" in first else "")
    if "农民工" in first:
        assert values["migrant_worker"] is True


@pytest.mark.parametrize(("text", "span", "per_head"), [
    ("我们九个人 每人两万多", "两万多", True), ("每个人欠了三千五", "三千五", True), ("人均八千左右", "八千", True),
    ("一人三千", "三千", True), ("我们五个工友各欠一万", "一万", True), ("每位工人大概六千", "六千", True),
    ("老板欠我两万", "两万", False), ("一共欠了两万三 我们每人都没拿到", "两万三", False), ("欠了一万多", "一万多", False),
])
def test_an_amount_said_per_head(text: str, span: str, per_head: bool) -> None:
    from hotline.flows.reading import amount_per_head

    start = text.index(span)
    entity = {"entity": "amount", "start": start, "end": start + len(span)}
    assert amount_per_head(text, [entity]) is per_head
    assert amount_per_head(text, [{**entity, "entity": "people_count"}]) is False
