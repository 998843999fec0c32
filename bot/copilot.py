"""The operator copilot: what the caller said (Rasa NLU), what the call has established, what to ask or say next.

Not a second dialogue engine: the slots, their order and when each is needed come from the flow spec
(hotline/flows), the words are read by the same helpers as the bot's forms (hotline.flows.reading), the legal
answers from the core, and every sentence from the domain's responses (domain/*.yml) — an operator's phone wording
is a variation of the same response for the channel `copilot`, never a copy here. Pure functions over a parse
result and the call's state; the endpoint in api.py does the I/O (Rasa, database).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.ttl import TTLCache
from hotline import answer_order, flows, legal_aid, wage_claim
from hotline.codes import CATEGORIES, INTENT_LABELS, MATTERS
from hotline.directory import AdvisorEntry, canonical_community, canonical_street
from hotline.flows import answers, fact_readers, reading
from hotline.topic_answers import topic_lines
from hotline.wording import responses
from hotline_nlu.numbers import NUMERIC_ENTITIES

OPERATOR_CHANNEL = "copilot"  # response variations worded for an operator on the phone
# The CONTRACT §3 number entities (the normaliser's list), each filling the slot of its name.
NUMBER_SLOTS = NUMERIC_ENTITIES
TEXT_SLOTS = ("street", "community", "employer", "phone")
# The copilot's call is on the phone already: no consent question, no phone number to collect.
NOT_ASKED_ON_THE_PHONE = ("consent_phone", "phone")
QUESTIONS_SHOWN = 3

# What the bot itself answers to an intent outside the flows and topics: the same responses, read aloud.
INTENT_RESPONSES: dict[str, tuple[str, ...]] = {
    "greet": ("utter_greet",), "goodbye": ("utter_goodbye",), "thank": ("utter_youre_welcome",),
    "bot_challenge": ("utter_iamabot",), "ask_materials": ("utter_materials",),
    "ask_office": ("utter_office_hotline",), "out_of_scope": ("utter_out_of_scope",),
}


# --- the call's memory ----------------------------------------------------------------------------------------

@dataclass
class CallState:
    """What the operator's copilot remembers about one call."""

    intent: str | None = None
    flow: str | None = None
    category: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    corrected: set[str] = field(default_factory=set)  # slots the operator set: the NLU no longer overwrites them


class CallMemory:
    """Per-conversation state, bounded in size and age (a call lasts minutes, not days): a bot.ttl.TTLCache."""

    def __init__(self, max_calls: int = 2000, ttl_s: float = 4 * 3600, clock: Callable[[], float] = time.monotonic):
        self._calls: TTLCache[CallState] = TTLCache(ttl_s=ttl_s, maxsize=max_calls, clock=clock)

    def get(self, key: str) -> CallState:
        state = self._calls.get(key) or CallState()
        self._calls.set(key, state)  # touched: the call is alive
        return state

    def __len__(self) -> int:
        return len(self._calls._items)


# --- the domain's wording ---------------------------------------------------------------------------------------

# Every response of the domain files, by name: the one reader (hotline.wording).
domain_responses = responses


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def wording(name: str, **values: Any) -> dict[str, Any] | None:
    """A response as an operator says it: its `copilot` variation when it has one, else the plain one, with
    {placeholders} filled from `values` (the slots); None when the domain has no such response."""
    variations = domain_responses().get(name) or []
    pick = next((v for v in variations if v.get("channel") == OPERATOR_CHANNEL), None) or next(
        (v for v in variations if not v.get("channel") and not v.get("condition")), None)
    if pick is None or not pick.get("text"):
        return None
    text = str(pick["text"]).format_map(_Blank({k: flows.display(k, v) if isinstance(v, bool) else v
                                                for k, v in values.items()}))
    plain = next((v for v in variations if not v.get("channel") and not v.get("condition")), pick)
    buttons = [{"title": str(b.get("title")), "payload": str(b.get("payload"))}
               for b in pick.get("buttons") or plain.get("buttons") or []]
    return {"text": text, "buttons": buttons}


def button_value(slot: str, payload: str) -> Any:
    """What pressing one of the bot's answer buttons says about `slot`, as a correction the copilot takes:
    /affirm → True, /deny → False (for groups: none of them), /inform{...} → its value (a group as a list), a
    plain payload (「欠条」, 「包工头」) → the words, read like a typed answer. None when it says nothing."""
    if payload == "/affirm":
        return True
    if payload == "/deny":
        return [] if slot == "groups" else False
    if payload.startswith("/inform"):
        try:
            values = json.loads(payload[len("/inform"):] or "{}")
        except ValueError:
            return None
        if slot == "groups" and "group" in values:
            return [values["group"]]
        return values.get(slot)
    return None if payload.startswith("/") else payload


def question(slot: str, slots: Mapping[str, Any]) -> dict[str, Any]:
    """The bot's own question for a slot (utter_ask_<slot>), as {slot, text, buttons}; each button with the
    `value` it fills (the console makes the options clickable)."""
    said = wording(f"utter_ask_{slot}", **slots) or {"text": flows.label(slot), "buttons": []}
    buttons = [{**b, "value": button_value(slot, b["payload"])} for b in said["buttons"]]
    return {"slot": slot, **said, "buttons": [b for b in buttons if b["value"] is not None]}


# --- reading one utterance -----------------------------------------------------------------------------------

def entity_slots(entities: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The CONTRACT §3 entities of a parse result as slot values (ints for numbers, text otherwise)."""
    slots: dict[str, Any] = {}
    for ent in entities:
        name, value = ent.get("entity"), ent.get("value")
        if name in NUMBER_SLOTS:
            if (number := flows.within_bounds(name, reading.as_int(value))) is not None:
                slots[name] = number
        elif name in TEXT_SLOTS and isinstance(value, str) and value.strip():
            slots[name] = value.strip()
    return slots


def keyword_slots(text: str) -> dict[str, Any]:
    """Facts an operator hears in plain words and no entity carries: the same statements the bot's forms take
    unasked (flows.yaml said_yes/said_no), groups and evidence named."""
    slots: dict[str, Any] = dict(reading.said(text))
    slots.update(fact_readers.said(text))  # issue 23: 「包工头跑了」 → hired_by person (条例第三十六条)
    if groups := reading.groups_said(text):
        slots["groups"] = groups
    if evidence := reading.evidence_said(text):
        slots["evidence"] = evidence
    return slots


def update_state(state: CallState, parse_result: Mapping[str, Any], text: str) -> None:
    """Fold one utterance into the call: the flow and category stick; later facts overwrite earlier ones, except
    what the operator corrected."""
    intent = str((parse_result.get("intent") or {}).get("name") or "")
    state.intent = intent
    if (found := flows.flow_of_intent(intent)) is not None:
        state.flow = found.name
    # The category the bot would log for the same words (the flow spec's, hotline.flows.category_of).
    if (category := flows.category_of(intent, text)) is not None and state.category in (None, "other"):
        state.category = category
    new = {**keyword_slots(text), **entity_slots(parse_result.get("entities") or [])}
    for key in ("groups", "evidence"):
        if key in new and key in state.slots:
            new[key] = list(dict.fromkeys([*state.slots[key], *new[key]]))
    state.slots.update({k: v for k, v in new.items() if k not in state.corrected})
    if (matter := flows.category_matter(state.category)) is not None and "matter" not in state.slots:
        state.slots["matter"] = matter


def category_from_matter(state: CallState) -> None:
    """A legal-aid call is logged under its matter's category, as the bot's legal-aid answer logs it
    (hotline.flows.matter_category): when the words named no category, or only `other`."""
    matter = state.slots.get("matter")
    if matter and state.category in (None, "other"):
        state.category = flows.matter_category(matter)


def _coerce(slot: str, value: Any, entries: Sequence[AdvisorEntry]) -> Any:
    """An operator's correction as a slot value, read by the slot's kind in the flow spec (its `reader`) as the bot
    reads an answer; None when not understood."""
    kind = flows.spec().slots[slot].reader
    if kind == "yes_no":
        return reading.yes_no(slot, value)
    if kind in flows.NUMBER_READERS:  # the slot's parser and bounds, as the form reads them
        return answers.number_value(slot, value)
    if kind == "matter":
        return reading.matter_code(value)
    if kind == "groups":
        return reading.group_codes(value)
    if kind == "evidence":
        return reading.evidence_items(value)
    if kind in ("date", "hirer"):  # 「包工头」 → person, 「还在干」 → still, as the form's readers say them
        return answers.read(slot, str(value)).value
    text = str(value).strip()
    if kind == "place" and entries:
        return (canonical_street if slot == "street" else canonical_community)(entries, text)
    return text or None


def apply_corrections(state: CallState, corrections: Mapping[str, Any] | None,
                      entries: Sequence[AdvisorEntry]) -> list[str]:
    """The operator's {slot: value|null} over what the NLU heard (null clears); the slots not understood."""
    rejected = []
    for slot, value in (corrections or {}).items():
        if slot not in flows.spec().slots:
            rejected.append(slot)
            continue
        state.corrected.add(slot)
        if value is None:
            state.slots.pop(slot, None)
            continue
        coerced = _coerce(slot, value, entries)
        if coerced is None:
            rejected.append(slot)
            state.corrected.discard(slot)
        else:
            state.slots[slot] = coerced
    return rejected


# --- what follows from the facts --------------------------------------------------------------------------------

def missing_slots(flow: str | None, slots: Mapping[str, Any], on: dt.date) -> list[str]:
    """The slots of the call's flow still to ask, in the bot's order; [] outside a flow."""
    if flow is None:
        return []
    return [s for s in flows.missing(flow, slots, on) if s not in NOT_ASKED_ON_THE_PHONE]


def eligibility_for(state: CallState, on: dt.date) -> dict[str, Any] | None:
    """The /api/eligibility object (with verdict_label) once every fact the law needs for the matter is known; in
    a wage claim as soon as migrant status is known (a non-migrant's claim is then shown as means-tested)."""
    slots = state.slots
    if slots.get("matter") not in MATTERS:
        return None
    needed = legal_aid.facts_needed(slots, on)
    complete = all(slots.get(f) is not None for f in needed)
    if not complete and not (state.flow == "wage_claim" and slots.get("migrant_worker") is not None):
        return None
    return legal_aid.assess(legal_aid.facts_from_slots(slots), on).to_api()


def is_wage_claim(state: CallState) -> bool:
    """The call is about unpaid wages: its flow, or the category that flow is logged under (flows.yaml)."""
    return state.flow == "wage_claim" or state.category == flows.flow("wage_claim").category


def wage_points(state: CallState, on: dt.date) -> list[str]:
    """The points that matter for these facts (a deadline close, 总包先行清偿, 二倍工资 without a contract…): the same
    core calls and domain lines as the citizen's answer (actions/answers.py: guidance → key_points →
    utter_point_<key>), so the operator and the citizen are told the same."""
    if not is_wage_claim(state):
        return []
    facts = wage_claim.facts_from_slots(state.slots)
    said = [wording(f"utter_point_{p.key}", **p.values)
            for p in answer_order.key_points(facts, on, wage_claim.guidance(facts, on))]
    return [x["text"] for x in said if x]


def wage_steps(state: CallState, on: dt.date) -> list[str]:
    """The points that matter first (wage_points), then the wage-claim routes in their usual order and the
    deadline, one short line each."""
    if not is_wage_claim(state):
        return []
    g = wage_claim.guidance(wage_claim.facts_from_slots(state.slots), on)
    steps = [*wage_points(state, on)]
    steps += [f"{n}. {route.title}" for n, route in enumerate(g.routes, start=1)]
    steps.append(f"时效：{g.limitation.summary}")
    if g.general_contractor:
        steps.append(g.general_contractor)
    return steps


def _office_api(entry: AdvisorEntry) -> dict[str, Any]:
    keys = ("street", "justice_office", "office_address", "office_phone", "office_hours", "sample")
    return {k: entry.to_api()[k] for k in keys}


def place_for(state: CallState, entries: Sequence[AdvisorEntry]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(advisor, office): the advisor only when the community is known; the street's 司法所 when only it is."""
    community, street = state.slots.get("community"), state.slots.get("street")
    if community:
        entry = next((e for e in entries if e.community == community and (not street or e.street == street)),
                     None) or next((e for e in entries if e.community == community), None)
        if entry is not None:
            state.slots.setdefault("street", entry.street)
            return entry.to_api(), None
    if street:
        entry = next((e for e in entries if e.street == street and e.justice_office), None)
        if entry is not None:
            return None, _office_api(entry)
    return None, None


def _intent_lines(intent: str, on: dt.date) -> list[str]:
    if flows.topic(intent) is not None:  # the bot's own filler; an operator also sees unverified figures, marked
        said = [wording(line.response, **line.values) for line in topic_lines(intent, on, citizen=False)]
    else:
        said = [wording(name) for name in INTENT_RESPONSES.get(intent, ())]
    return [s["text"] for s in said if s]


def script_for(state: CallState, questions: list[dict[str, Any]], eligibility: dict[str, Any] | None,
               advisor: dict[str, Any] | None, office: dict[str, Any] | None, steps: list[str],
               on: dt.date) -> list[str]:
    """Short lines for the operator to read aloud: the next question; else the answers the facts give."""
    if questions:
        return [questions[0]["text"]]
    lines: list[str] = []
    if steps and state.flow == "wage_claim":
        route = next((s for s in steps if re.match(r"\d+\. ", s)), steps[0])
        lines += [s for s in steps if s.startswith("★")]
        lines.append(f"建议这样做：{route.split('. ', 1)[-1]}。")
    if eligibility is not None:
        basis = eligibility["basis"][-1] if eligibility.get("basis") else ""
        lines.append(f"法律援助：{eligibility['verdict_label']}" + (f"（{basis}）。" if basis else "。"))
    if advisor is not None:
        said = wording("utter_advisor_found", community=advisor["community"], advisor=advisor["advisor"] or "",
                       firm=advisor["advisor_firm"] or "", phone=advisor["advisor_phone"] or "")
        if said:
            lines.append(said["text"])
    place = advisor or office
    if place is not None and place.get("justice_office"):
        said = wording("utter_advisor_office", office=place["justice_office"], address=place["office_address"] or "",
                       phone=place["office_phone"] or "", hours=place["office_hours"] or "")
        if said:
            lines.append(said["text"])
    if not lines:
        lines = _intent_lines(state.intent or "", on)
    return lines


def analyze_turn(state: CallState, parse_result: Mapping[str, Any], text: str,
                 corrections: Mapping[str, Any] | None = None, *, entries: Sequence[AdvisorEntry],
                 on: dt.date) -> dict[str, Any]:
    """One utterance of a call, folded into its state, and everything the console shows (CONTRACT §7 keys plus
    labels, facts, the bot's next questions, eligibility, wage steps, a script and the advisor or office)."""
    update_state(state, parse_result, text)
    rejected = apply_corrections(state, corrections, entries)
    category_from_matter(state)
    advisor, office = place_for(state, entries)
    missing = missing_slots(state.flow, state.slots, on)
    questions = [question(slot, state.slots) for slot in missing[:QUESTIONS_SHOWN]]
    eligibility = eligibility_for(state, on)
    steps = wage_steps(state, on)
    script = script_for(state, questions, eligibility, advisor, office, steps, on)
    intent = parse_result.get("intent") or {}
    name = intent.get("name")
    return {
        "intent": {"name": name, "confidence": intent.get("confidence"), "label": INTENT_LABELS.get(name or "", name)},
        "entities": [{"entity": e.get("entity"), "value": e.get("value")} for e in parse_result.get("entities") or []],
        "category": state.category,
        "category_label": CATEGORIES.get(state.category or ""),
        "flow": state.flow,
        "flow_label": flows.flow(state.flow).label if state.flow else None,
        "slots": dict(state.slots),
        "facts": flows.facts(state.slots),
        "missing": missing,
        "questions": questions,
        "suggested_reply": "".join(script),
        "script": script,
        "eligibility": eligibility,
        "wage_steps": steps,
        "advisor": advisor,
        "office": office,
        "rejected_corrections": rejected,
    }
