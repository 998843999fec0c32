"""Every table of the conversation has one home, the flow spec (hotline/flows/flows.yaml), and one function turns
slots into facts (the core's facts_from_slots): each test here fails if a second copy comes back or disagrees.

- intent → flow/topic → log category: the bot's logged row (every channel) equals the copilot's category;
- matter ↔ category: the legal-aid answer, the form's begun matter and the copilot agree, and the round trip holds;
- matter words, materials, slot bounds and parsers: read from the spec by the forms, the copilot and the drafts;
- no module outside the flow spec holds an intent/matter → category table (a second pin, by AST);
- the actions and the copilot compute facts with the core's facts_from_slots; the handoff stores the one summary.
"""
from __future__ import annotations

import ast
import copy
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from actions.answers import ActionLegalAidAnswer, ActionWageClaimAdvice
from actions.handoff import ActionHandoff
from actions.legal_aid import ValidateLegalAidForm
from actions.topics import ActionAnswerTopic
from bot import copilot
from bot.documents import _typed
from hotline import flows, legal_aid, wage_claim
from hotline.codes import CATEGORIES, INTENT_LABELS, MATTERS
from hotline.flows import answers, reading
from hotline.store.models import Handoff
from tests.test_actions import FIXTURES, rows, run, tracker

ROOT = Path(__file__).resolve().parent.parent
ON = dt.date(2026, 6, 1)
CHANNELS = ("web", "wechat", "telegram")

# Questions as citizens put them, for every topic of the spec and every category word it may refine to.
TOPIC_QUESTIONS = [
    ("work_injury", "在工地摔伤了老板不管"),
    ("labor_dispute", "没签劳动合同被辞退了"),
    ("family_dispute", "前夫不给抚养费"),
    ("traffic_accident", "骑电动车被车撞了"),
    ("mediation", "想找人调解一下"),                 # the topic's own category: neighbor_dispute (the copilot said other)
    ("mediation", "楼上漏水想找人调解"),
    ("mediation", "朋友借钱不还能调解吗"),
    ("other_legal_question", "请问这个怎么办"),
    ("other_legal_question", "朋友借钱不还"),
    ("other_legal_question", "房东不退押金"),
    ("other_legal_question", "被派出所拘留了家里人怎么办"),
    ("other_legal_question", "拆迁补偿太少"),
    ("other_legal_question", "邻居天天吵"),
]


def _tracker_from(channel: str, *, text: str, intent: str, fixture: str = "greet_only.json",
                  slots: dict[str, Any] | None = None) -> Tracker:
    """A fixture tracker as the channel's door sends it: sender `channel:hash` (bot/conversation.py)."""
    data = copy.deepcopy(json.loads((FIXTURES / fixture).read_text(encoding="utf-8")))
    data["sender_id"] = f"{channel}:{'bcd'[CHANNELS.index(channel)] * 64}"
    data["slots"].update(slots or {})
    data["latest_message"] = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": [],
                              "intent_ranking": []}
    return Tracker.from_dict(data)


def copilot_category(intent: str, text: str, corrections: dict[str, Any] | None = None) -> str | None:
    state = copilot.CallState()
    result = copilot.analyze_turn(state, {"intent": {"name": intent, "confidence": 0.9}, "entities": []}, text,
                                  corrections, entries=[], on=ON)
    return result["category"]


# --- intent → flow/topic → log category ---------------------------------------------------------------------

def test_the_questions_cover_every_topic_and_every_category_word() -> None:
    spec = flows.spec()
    assert {intent for intent, _ in TOPIC_QUESTIONS} == set(spec.topics)
    worded = {c.code for c in spec.categories.values() if c.words}
    assert worded <= {flows.category_of(intent, text) for intent, text in TOPIC_QUESTIONS}


@pytest.mark.parametrize(("intent", "text"), TOPIC_QUESTIONS, ids=[t for _, t in TOPIC_QUESTIONS])
async def test_every_channel_logs_the_copilots_category_for_the_same_question(
        session: Session, intent: str, text: str) -> None:
    for channel in CHANNELS:
        await run(ActionAnswerTopic(), _tracker_from(channel, text=text, intent=intent))
    logged = {(r.channel, r.category) for r in rows(session)}
    expected = copilot_category(intent, text)
    assert expected is not None
    assert logged == {(channel, expected) for channel in CHANNELS}
    assert expected == flows.category_of(intent, text)


def test_mediation_is_neighbor_dispute_for_bot_and_copilot_alike() -> None:
    """The visible bug of issue 24: the copilot said `other` unless 邻居/楼上 was said, the bot neighbor_dispute."""
    mediation = flows.topic("mediation")
    assert mediation is not None and mediation.category == "neighbor_dispute"
    assert copilot_category("mediation", "想找人调解一下") == "neighbor_dispute"


async def test_a_wage_claim_is_logged_under_the_flows_category_by_bot_and_copilot(session: Session) -> None:
    for channel in CHANNELS:
        data = json.loads((FIXTURES / "wage_claim_done.json").read_text(encoding="utf-8"))
        await run(ActionWageClaimAdvice(), _tracker_from(channel, text="好的", intent="affirm",
                                                         fixture="wage_claim_done.json", slots=data["slots"]))
    category = flows.flow("wage_claim").category
    assert {r.category for r in rows(session)} == {category} and len(rows(session)) == len(CHANNELS)
    assert copilot_category("wage_arrears", "包工头跑了，欠我们12个工友三万五") == category == "wage_arrears"


def test_the_matter_a_topic_names_is_the_matter_its_category_presumes() -> None:
    """The form's intent → matter (the matter slot's from_intents) and the copilot's intent → category → matter
    agree wherever the topic names a matter more exact than `other`."""
    pairs = [(intent, matter) for intent, matter in flows.spec().slots["matter"].from_intents if matter != "other"]
    assert len(pairs) >= 5
    for intent, matter in pairs:
        assert flows.category_matter(flows.category_of(intent, "")) == matter
        assert flows.matter_category(matter) == flows.category_of(intent, "")


@pytest.mark.parametrize("intent", sorted(INTENT_LABELS))
def test_intents_outside_the_spec_name_no_category(intent: str) -> None:
    """Small talk, the legal-aid form before its matter, the advisor lookup: no category from the intent alone."""
    found = flows.flow_of_intent(intent)
    if flows.topic(intent) is None and (found is None or found.category is None):
        assert flows.category_of(intent, "邻居借钱") is None
        assert copilot_category(intent, "你好") is None


# --- matter ↔ category ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("matter", sorted(MATTERS))
async def test_the_legal_aid_answer_logs_the_copilots_category_of_each_matter(session: Session, matter: str) -> None:
    t = tracker("legal_aid_done.json", slots={"matter": matter})
    await run(ActionLegalAidAnswer(), t)
    [row] = rows(session)
    assert row.category == flows.matter_category(matter)
    assert copilot_category("legal_aid", "能申请法律援助吗", {"matter": matter}) == row.category
    # a form left midway is logged under the same category (open_topic, written on goodbye or handoff)
    events = ValidateLegalAidForm().after_validation(tracker("legal_aid_done.json",
                                                              slots={"matter": matter, "open_topic": None}))
    assert events == [SlotSet("open_topic", row.category)]


def test_every_contract_code_has_its_row_in_the_spec() -> None:
    spec = flows.spec()
    assert list(spec.categories) == list(CATEGORIES)
    assert set(spec.matters) == set(MATTERS)
    assert all(m.category in CATEGORIES for m in spec.matters.values())


@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_category_to_matter_and_back(category: str) -> None:
    matter = flows.category_matter(category)
    if matter is not None:
        assert flows.matter_category(matter) == category
        # the copilot presets the matter and logs the category it came from
        assert copilot_category("other_legal_question", "", {"matter": matter}) in (category, "other")


@pytest.mark.parametrize("matter", sorted(MATTERS))
def test_matter_to_category_and_back(matter: str) -> None:
    back = flows.category_matter(flows.matter_category(matter))
    assert back is None or flows.matter_category(back) == flows.matter_category(matter)
    if matter in CATEGORIES and matter != "other":
        assert back == matter  # a matter that is itself a category comes back as itself


def test_the_spec_refuses_a_category_it_does_not_list() -> None:
    text = flows.SPEC.read_text(encoding="utf-8")
    with pytest.raises(flows.SpecError, match="category 'neighbour'"):
        flows.parse_spec(text.replace("category: neighbor_dispute", "category: neighbour"))
    with pytest.raises(flows.SpecError, match="categories"):
        flows.parse_spec(text.replace("  administrative: {words: 政府|行政|拆迁|罚款}\n", ""))
    with pytest.raises(flows.SpecError, match="materials 'nowhere'"):
        flows.parse_spec(text.replace("materials: wage_claim\n", "materials: nowhere\n", 1))
    with pytest.raises(flows.SpecError, match="matter 'property'"):
        flows.parse_spec(text.replace("  property:\n    category: property", "  property:\n    category: other"))


# --- matter words and materials ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("said", "matter"), [("手术出了事故", "medical_accident"), ("老板不给工资", "wage_arrears"),
                                              ("被邻居家的狗咬了", "personal_injury"), ("他不承认我是员工", "labor_relation"),
                                              ("前夫不给抚养费", "support_payment"), ("对方被抓了", "criminal_victim")])
def test_matter_words_are_the_specs_in_its_order(said: str, matter: str) -> None:
    first = next(m.code for m in flows.spec().matters.values() if m.words and m.words.search(said))
    assert reading.matter_code(said) == first == matter


@pytest.mark.parametrize("matter", [m.code for m in flows.spec().matters.values() if m.words])
def test_a_paperwork_question_about_a_matter_gets_the_list_the_spec_names(matter: str) -> None:
    spec = flows.spec()
    found = spec.matters[matter]
    assert found.words is not None
    # the matter's first plain word, as a citizen would name it (「抚恤需要什么材料」)
    word = next((w for w in found.words.pattern.split("|") if re.fullmatch(r"[\u4e00-\u9fff]+", w)), None)
    said = f"{word}需要什么材料"
    if word is None or reading.matter_code(said) != matter or any(w.search(said) for w, _ in spec.paperwork_steps):
        pytest.skip("no plain word of its own: an earlier matter or a legal step reads it first")
    owner = spec.flows.get(found.materials or "") or spec.topics.get(found.materials or "")
    assert answers.materials_response(said) == (owner.materials if owner and owner.materials else "utter_materials")


@pytest.mark.parametrize(("said", "response"), [("仲裁需要什么手续", "utter_materials_arbitration"),
                                                ("申请法援要带什么", "utter_materials_legal_aid"),
                                                ("离婚调解需要什么材料", "utter_materials_mediation")])
def test_a_paperwork_question_naming_a_step_gets_the_steps_list_from_the_spec(said: str, response: str) -> None:
    first = next(name for words, name in flows.spec().paperwork_steps if words.search(said))
    owner = flows.spec().flows.get(first) or flows.spec().topics.get(first)
    assert owner is not None and answers.materials_response(said) == owner.materials == response


def test_the_spec_refuses_a_paperwork_step_without_a_list() -> None:
    text = flows.SPEC.read_text(encoding="utf-8")
    with pytest.raises(flows.SpecError, match="paperwork_steps: 'other_legal_question'"):
        flows.parse_spec(text.replace("{words: 仲裁, materials: labor_dispute}",
                                      "{words: 仲裁, materials: other_legal_question}"))


# --- edit the spec, and every reader follows ----------------------------------------------------------------------

@pytest.fixture
def edited_spec(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Writes an edited flows.yaml and points hotline.flows at it; every reader calls flows.spec()."""
    def edit(*replacements: tuple[str, str]) -> None:
        text = flows.SPEC.read_text(encoding="utf-8")
        for old, new in replacements:
            assert text.count(old) == 1, old
            text = text.replace(old, new)
        path = tmp_path / "flows.yaml"
        path.write_text(text, encoding="utf-8")
        monkeypatch.setattr(flows, "SPEC", path)
        flows.spec.cache_clear()
    yield edit
    flows.spec.cache_clear()


def test_an_edit_of_the_spec_reaches_the_bot_the_copilot_the_forms_and_the_drafts(edited_spec: Any) -> None:
    """One home: change a table in flows.yaml and nothing else, and every reader says the new thing."""
    edited_spec(("    category: neighbor_dispute\n    category_words: true", "    category: family_dispute"),
                ("  pension:\n    category: administrative", "  pension:\n    category: other"),
                ("    answer: 妇女|女的|女性|我是女", "    answer: 妇女|女的|女性|我是女|姑娘"),
                ("    words: 抚恤\n", "    words: 抚恤|烈属补助\n"),
                ("household_size: {label: 家里人口, unit: 口人, reader: count, bounds: [1, 30]}",
                 "household_size: {label: 家里人口, unit: 口人, reader: count, bounds: [1, 40]}"),
                ("  - {words: 调解, materials: mediation}\n", ""))
    assert flows.category_of("mediation", "楼上漏水想调解") == "family_dispute"  # no words refine it any more
    assert copilot_category("mediation", "楼上漏水想调解") == "family_dispute"
    assert copilot_category("legal_aid", "", {"matter": "pension"}) == flows.matter_category("pension") == "other"
    assert reading.group_codes("姑娘") == ["woman"] and reading.groups_answered("我是个姑娘") == ["woman"]
    assert reading.matter_code("烈属补助没发") == "pension"
    assert answers.read("household_size", "35口人").value == 35 == _typed({"household_size": "35口人"})["household_size"]
    state = copilot.CallState()
    assert copilot.apply_corrections(state, {"household_size": "35"}, []) == [] and state.slots["household_size"] == 35
    assert answers.materials_response("调解需要什么材料") == "utter_materials"  # the step is gone from the spec


# --- no second table ------------------------------------------------------------------------------------------

def _pairs(node: ast.AST) -> list[tuple[str, str]]:
    """String pairs a literal holds: a dict's items, or a list/tuple of 2-tuples (either order kept)."""
    def s(n: ast.AST | None) -> str | None:
        return n.value if isinstance(n, ast.Constant) and isinstance(n.value, str) else None

    if isinstance(node, ast.Dict):
        return [(k, v) for k, v in ((s(k), s(v)) for k, v in zip(node.keys, node.values, strict=True)) if k and v]
    if isinstance(node, ast.List | ast.Tuple):
        return [(a, b) for e in node.elts if isinstance(e, ast.Tuple) and len(e.elts) == 2
                for a, b in [(s(e.elts[0]), s(e.elts[1]))] if a and b]
    return []


def conversation_tables(source: str) -> list[int]:
    """Lines of literals that map intents or matters to categories, categories to matters, or words to either."""
    names = set(INTENT_LABELS) | set(MATTERS)
    codes = set(CATEGORIES) | set(MATTERS)
    found = []
    for node in ast.walk(ast.parse(source)):
        pairs = _pairs(node)
        to_category = sum(1 for a, b in pairs if (a in names and b in CATEGORIES) or (b in names and a in CATEGORIES))
        # words: a code beside a regex of alternatives (a label table, code → 中文, has no `|`)
        words = sum(1 for a, b in pairs if (a in codes and "|" in b) or (b in codes and "|" in a))
        if to_category >= 3 or words >= 3:
            found.append(getattr(node, "lineno", 0))
    return found


def test_the_table_finder_finds_the_old_copies() -> None:
    """The finder catches the shapes the copies had (copilot INTENT_CATEGORY and _CATEGORY_WORDS, legal_aid
    _CATEGORY, reading _MATTER_WORDS) — so the next test can fail."""
    old = '''
INTENT_CATEGORY = {"wage_arrears": "wage_arrears", "work_injury": "work_injury", "labor_dispute": "labor_dispute"}
_CATEGORY_WORDS = [("neighbor_dispute", r"邻居|邻里"), ("contract_debt", r"借钱|借款"), ("property", r"房子|房产")]
_CATEGORY = {"labor_relation": "labor_dispute", "support_payment": "family_dispute", "pension": "administrative"}
_MATTER_WORDS = ((r"手术|误诊", "medical_accident"), (r"工资|工钱", "wage_arrears"), (r"工伤|公伤", "work_injury"))
'''
    assert conversation_tables(old) == [2, 3, 4, 5]


def test_no_module_outside_the_flow_spec_holds_a_conversation_table() -> None:
    spec_home = ROOT / "hotline" / "flows"
    offenders = {}
    for folder in ("hotline", "actions", "bot", "scripts", "nlu", "rasa_runtime"):
        for path in (ROOT / folder).rglob("*.py"):
            if spec_home in path.parents or "migrations" in path.parts:
                continue
            if lines := conversation_tables(path.read_text(encoding="utf-8")):
                offenders[str(path.relative_to(ROOT))] = lines
    assert offenders == {}


# --- each slot's parser and bounds, one home ----------------------------------------------------------------------

@pytest.mark.parametrize(("slot", "inside", "outside"), [("household_size", "30口人", "31口人"),
                                                         ("people_count", "一万人", "两万人"),
                                                         ("months_owed", "三十年", "400个月")])
def test_the_form_the_copilot_and_the_drafts_apply_the_specs_bounds(slot: str, inside: str, outside: str) -> None:
    high = (flows.spec().slots[slot].bounds or (0, 0))[1]
    assert answers.read(slot, inside).value == high
    assert answers.number_value(slot, inside) == high and _typed({slot: inside})[slot] == high
    state = copilot.CallState()
    assert copilot.apply_corrections(state, {slot: inside}, []) == [] and state.slots[slot] == high
    assert answers.read(slot, outside).value is None
    assert answers.number_value(slot, outside) is None and _typed({slot: outside})[slot] is None
    assert copilot.apply_corrections(copilot.CallState(), {slot: outside}, []) == [slot]


def test_months_owed_bound_is_the_parsers_ceiling() -> None:
    """No law caps the months owed while the job lasts; 30 years is where parse_months stops reading a duration."""
    from hotline_nlu.numbers import parse_months

    assert flows.spec().slots["months_owed"].bounds == (1, 360)
    assert parse_months("三十年") == parse_months("360") == 360 and parse_months("361") is None


@pytest.mark.parametrize("slot", [s for s, v in flows.spec().slots.items() if v.reader in flows.NUMBER_READERS])
def test_every_number_slot_has_bounds_and_the_copilot_reads_it_as_a_number(slot: str) -> None:
    assert flows.spec().slots[slot].bounds is not None
    state = copilot.CallState()
    assert copilot.apply_corrections(state, {slot: "8"}, []) == [] and state.slots[slot] == 8  # never text


@pytest.mark.parametrize(("heads", "kept"), [(12.0, 12.0), (20000.0, None)])
async def test_the_form_keeps_an_entity_number_only_within_the_slots_bounds(heads: float, kept: float | None) -> None:
    """A number the NER found is kept as it is only inside the slot's bounds; outside, it is refused like the same
    words typed (people_count: at most 10,000)."""
    from actions.wage_claim import ValidateWageClaimForm

    t = tracker("wage_form_asking.json", slots={"amount": 8000.0, "requested_slot": "people_count"},
                text=f"{int(heads)}个人", candidates={"people_count": heads})
    events, _ = await run(ValidateWageClaimForm(), t)
    assert {e["name"]: e["value"] for e in events if e.get("event") == "slot"}["people_count"] == kept


@pytest.mark.parametrize(("slot", "said", "value"), [
    ("hired_by", "包工头", "person"), ("end_date", "还在干", "still"), ("last_demand_date", "没要过", "none"),
    ("has_contract", "没签", False), ("matter", "老板不给工资", "wage_arrears"),
    ("groups", "低保户", ["social_assistance"]), ("evidence", "有欠条", ["欠条"]), ("months_worked", "8个月", 8)])
def test_the_copilot_reads_a_correction_by_the_slots_kind_as_the_form_reads_an_answer(
        slot: str, said: str, value: Any) -> None:
    """The operator's field or a clicked option goes through the slot's reader (flows.yaml `reader`): 「包工头」 was
    kept as text, which facts_from_slots then dropped (no 条例第三十六条 point)."""
    state = copilot.CallState()
    assert copilot.apply_corrections(state, {slot: said}, []) == []
    assert state.slots[slot] == answers.read(slot, said).value == value


def test_the_spec_refuses_bounds_on_a_slot_that_reads_no_number() -> None:
    text = flows.SPEC.read_text(encoding="utf-8")
    with pytest.raises(flows.SpecError, match="bounds"):
        flows.parse_spec(text.replace("employer: {label: 欠钱的单位或老板, reader: name}",
                                      "employer: {label: 欠钱的单位或老板, reader: name, bounds: [1, 2]}"))


# --- one function turns slots into facts --------------------------------------------------------------------------

@pytest.fixture
def spies(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[dict[str, Any]]]:
    """The core's two conversions, recording the slots each is called with."""
    calls: dict[str, list[dict[str, Any]]] = {"wage": [], "aid": []}
    for key, module in (("wage", wage_claim), ("aid", legal_aid)):
        real = module.facts_from_slots

        def spy(slots: Any, real: Any = real, key: str = key) -> Any:
            calls[key].append(dict(slots))
            return real(slots)
        monkeypatch.setattr(module, "facts_from_slots", spy)
    return calls


def test_no_action_keeps_its_own_conversion() -> None:
    import actions.answers
    import actions.legal_aid

    for module in (actions.answers, actions.legal_aid):
        assert not {"wage_facts", "aid_facts"} & set(vars(module))


async def test_the_answers_compute_with_the_cores_conversion(session: Session, spies: dict[str, list[Any]]) -> None:
    t = tracker("wage_claim_done.json")
    await run(ActionWageClaimAdvice(), t)
    assert t.current_slot_values() in spies["wage"]
    t = tracker("legal_aid_done.json")
    await run(ActionLegalAidAnswer(), t)
    assert t.current_slot_values() in spies["aid"]


def test_the_copilot_computes_with_the_cores_conversion(spies: dict[str, list[Any]]) -> None:
    state = copilot.CallState()
    copilot.analyze_turn(state, {"intent": {"name": "wage_arrears"}, "entities": []}, "我是农民工，包工头欠我三万五",
                         {"migrant_worker": True}, entries=[], on=ON)
    assert state.slots in spies["wage"] and state.slots in spies["aid"]


# --- the handoff stores the one summary; only a database outage is tolerated ---------------------------------------

async def test_the_queued_handoff_holds_the_flow_specs_summary(session: Session) -> None:
    slots = {"matter": "wage_arrears", "amount": 20000, "people_count": 12, "migrant_worker": True,
             "employment_ended": True, "phone": "13977212345"}
    t = tracker("greet_only.json", slots=slots, text="转人工", intent="request_human")
    await run(ActionHandoff(), t)
    session.expire_all()
    [handoff] = session.scalars(select(Handoff)).all()
    assert handoff.summary == flows.summary(t.slots)
    assert "是进城务工人员（农民工）" in (handoff.summary or "") and "13977212345" not in (handoff.summary or "")


async def test_a_database_outage_still_gives_12348_and_pauses(session: Session,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline.store import handoffs

    def down(**_: Any) -> None:
        raise OperationalError("INSERT", {}, Exception("database is down"))
    monkeypatch.setattr(handoffs, "open_handoff", down)
    events, d = await run(ActionHandoff(), tracker("greet_only.json", text="转人工", intent="request_human"))
    assert d.messages[0]["response"] == "utter_handoff_hotline" and events[-1] == ConversationPaused()
    assert "utter_handoff_queued" not in [m["response"] for m in d.messages]


async def test_a_bug_in_the_summary_is_not_swallowed(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(slots: Any) -> str:
        raise TypeError("a bug")
    monkeypatch.setattr(flows, "summary", broken)
    with pytest.raises(TypeError):
        await run(ActionHandoff(), tracker("greet_only.json", text="转人工", intent="request_human"))
