"""Helpers shared by the actions: who is talking, skipping and stopping, numbers, the roster and the disclaimer."""
from __future__ import annotations

import abc
import logging
import re
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from hotline import flows
from hotline.clock import today  # the day the law is applied on (Liuzhou's)
from hotline.directory import STREET_ALIASES, AdvisorEntry, canonical_community, canonical_street
from hotline.flows import answers, fact_readers, reading
from hotline.privacy import hash_sender
from hotline.settings import get_settings

logger = logging.getLogger(__name__)

# Front doors set sender_id to "channel:sha256hex" (bot.rasa_client); anything else came from rasa shell or the
# raw REST channel and is hashed here so no raw id reaches the database.
ONLINE_CHANNELS = ("web", "wechat", "telegram")
_PREFIXED = re.compile(r"^(web|wechat|telegram):([0-9a-f]{64})$")

# Whole-message answers: "skip this question" and "stop the form".
_SKIP = re.compile(r"^(跳过|不知道|不清楚|不记得了?|记不清了?|忘了|不晓得|不懂|不确定|说不清)[。.!！了吧啊]*$")
_STOP = re.compile(r"^(算了吧?|不问了|不想问了|不说了|不弄了|不办了|退出|取消|结束)[。.!！了吧啊]*$")

# Intents whose message, when the asked slot's reader finds no answer in it, is a question of its own: the form
# steps aside, the rule for the intent answers, and the form asks again. inform/affirm/deny are answers that were
# not understood: the question's re-ask says what to tap.
DIGRESSIONS = frozenset({
    "nlu_fallback", "greet", "goodbye", "thank", "bot_challenge", "request_human", "out_of_scope", "ask_materials",
    "ask_office", "wage_arrears", "work_injury", "labor_dispute", "legal_aid", "find_advisor", "mediation",
    "family_dispute", "traffic_accident", "other_legal_question",
})

# The seven street offices of 城中区 (../shared/DOMAIN.md §6): used only when the roster table is empty.
DISTRICT_STREETS = ("城中街道", "公园街道", "中南街道", "沿江街道", "潭中街道", "河东街道", "静兰街道")


@dataclass(frozen=True)
class Sender:
    channel: str      # web | wechat | telegram
    sender_hash: str  # salted hash, never the raw chat id


def sender_of(tracker: Tracker) -> Sender:
    """The channel and hashed sender of this conversation."""
    match = _PREFIXED.match(tracker.sender_id or "")
    if match:
        return Sender(channel=match.group(1), sender_hash=match.group(2))
    return Sender(channel="web", sender_hash=hash_sender(tracker.sender_id or "", get_settings().sender_salt))


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def message_entities(tracker: Tracker) -> list[dict[str, Any]]:
    return list((tracker.latest_message or {}).get("entities") or [])


def latest_intent(tracker: Tracker) -> str | None:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def user_texts(tracker: Tracker) -> list[str]:
    return [e.get("text") or "" for e in tracker.events if e.get("event") == "user"]


def is_skip(text: str) -> bool:
    return bool(_SKIP.match(text.strip()))


def is_stop(text: str) -> bool:
    return bool(_STOP.match(text.strip()))


def skip_or_stop(tracker: Tracker, form: str, skippable: set[str] | frozenset[str]) -> list[EventType] | None:
    """Events for a whole-message 跳过/不知道 (the asked slot is dropped) or 算了 (the form hands over to the rules
    that ask "还要继续吗？"); None for any other message."""
    slot = tracker.get_slot("requested_slot")
    if not slot:
        return None
    text = latest_text(tracker)
    if is_stop(text):
        return [SlotSet(slot, None), ActionExecutionRejected(form)]
    if slot in skippable and is_skip(text):
        skipped = list(tracker.get_slot("skipped_slots") or [])
        return [SlotSet(slot, None), SlotSet("skipped_slots", [*skipped, slot])]
    return None


# The roster read during this action run: one database session per run, however many validators ask for it.
# rasa-sdk serves each action call in its own task, so the value never outlives the call; runs reset it anyway.
_run_roster: ContextVar[list[AdvisorEntry] | None] = ContextVar("run_roster", default=None)


# The answers read during this action run: the digression check, the needed facts and the validator all ask what
# the same message says to the same question; it is read once.
_run_answers: ContextVar[dict[tuple[str, str], answers.Answer] | None] = ContextVar("run_answers", default=None)


def new_run() -> None:
    """Forget what the previous action run read (called where an action run starts)."""
    _run_roster.set(None)
    _run_answers.set(None)


def roster() -> list[AdvisorEntry]:
    """The advisor roster from the database, read once per action run; empty (and logged) when the database is
    not reachable."""
    cached = _run_roster.get()
    if cached is not None:
        return cached
    from hotline.store import directory
    from hotline.store.db import session_scope

    try:
        with session_scope() as session:
            entries = directory.directory_entries(session=session)
    except Exception:  # a missing table must not end the conversation
        logger.exception("roster not readable")
        entries = []
    _run_roster.set(entries)
    return entries


def street_for(text: str, entries: list[AdvisorEntry] | None = None) -> str | None:
    """The canonical street office for what the user typed (水上 → 沿江街道), from the roster when loaded."""
    entries = roster() if entries is None else entries
    if entries:
        return canonical_street(entries, text)
    cleaned = text.strip()
    if cleaned in STREET_ALIASES:
        return STREET_ALIASES[cleaned]
    for street in DISTRICT_STREETS:
        if cleaned and (cleaned == street or cleaned == street.removesuffix("街道") or cleaned.startswith(street)):
            return street
    return None


def community_for(text: str, entries: list[AdvisorEntry]) -> str | None:
    return canonical_community(entries, text) if entries else None


def office_of(street: str | None, entries: list[AdvisorEntry] | None = None) -> AdvisorEntry | None:
    """A roster row of the street's 司法所 (any community of that street carries the office's details)."""
    if not street:
        return None
    entries = roster() if entries is None else entries
    return next((e for e in entries if e.street == street and e.justice_office), None)


def office_kwargs(entry: AdvisorEntry) -> dict[str, Any]:  # utter_message's keywords are typed Any
    return {
        "office": entry.justice_office or f"{entry.street}司法所",
        "address": entry.office_address or "地址请拨12348询问",
        "phone": entry.office_phone or "12348",
        "hours": entry.office_hours or "工作日上班",
    }


def disclaimer_once(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """The 这是法律信息，不是律师意见 notice, the first time this conversation gets a legal answer."""
    if tracker.get_slot("disclaimer_shown"):
        return []
    dispatcher.utter_message(response="utter_disclaimer")
    return [SlotSet("disclaimer_shown", True)]


def resumed(tracker: Tracker, form: str) -> list[EventType]:
    """A paused form that is running again is no longer paused."""
    return [SlotSet("paused_form", None)] if tracker.get_slot("paused_form") == form else []


def cite(basis: Any) -> str:
    """Citations as one string: '《…》第…条、《…》第…条'."""
    if not basis:
        return ""
    if isinstance(basis, str):
        return basis
    return "、".join(str(b) for b in basis)


class FlowFormValidation(FormValidationAction):
    """The validation action of a form whose slots are those of one flow in hotline/flows/flows.yaml.

    Every form runs alike: a whole-message 跳过 drops the asked question and 算了 stops the form; facts the citizen
    stated unasked (「我是农民工」, 「在工地」) fill their slots; then the per-slot `validate_<slot>` methods (a yes/no
    slot of the spec needs none: its words are in the spec); and a paused form that runs again is no longer
    paused. The required slots are the flow's, as far as the facts so far and the law make them necessary."""

    # Abstract here, a plain string in each form's class: rasa-sdk registers every non-abstract Action subclass,
    # and this base names no form.
    @property
    @abc.abstractmethod
    def flow_name(self) -> str:
        """The flow of hotline/flows/flows.yaml whose form this validates."""

    def name(self) -> str:
        return f"validate_{flows.flow(self.flow_name).form}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        new_run()
        f = flows.flow(self.flow_name)
        slot = tracker.get_slot("requested_slot")
        if slot in f.slot_names and slot in tracker.slots_to_validate():
            # The asked slot's reader goes first; only what it cannot read is handed to the rules (a topic question,
            # 「在哪里办」, a greeting…), which answer it and come back to the same question.
            heard = self.heard(slot, tracker)
            known = heard.read or (heard.skip and slot in f.skippable)
            # 「不」 to a question that is no yes/no question is no answer: the rules ask 「还要继续吗？」.
            declined = latest_intent(tracker) == "deny" and spec_reader(slot) != "yes_no"
            if not known and (latest_intent(tracker) in DIGRESSIONS or declined) and not is_skip(latest_text(tracker)):
                return [SlotSet(slot, None), ActionExecutionRejected(f.form)]
        events = skip_or_stop(tracker, f.form, f.skippable)
        if events is None:
            events = await FormValidationAction.run(self, dispatcher, tracker, domain)
        elif any(isinstance(e, dict) and e.get("event") == "action_execution_rejected" for e in events):
            return events
        else:
            tracker.add_slots(events)
            next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
            events = events + ([next_slot] if next_slot else [])
        return events + self.after_validation(tracker) + resumed(tracker, f.form)

    def after_validation(self, tracker: Tracker) -> list[EventType]:
        """Extra events of a form once its slots are validated (e.g. marking its matter as begun)."""
        return []

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        """The flow's needed slots (hotline.flows.required_slots), minus those the citizen skipped."""
        return flows.required_slots(self.flow_name, tracker.current_slot_values(), today(),
                                    tracker.get_slot("skipped_slots") or ())

    async def get_extraction_events(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> list[EventType]:
        """Facts the citizen's messages state unasked fill their empty slots (validated like any answer): the matter
        first, since which other facts are needed depends on it (「我是农民工，老板欠工资…」 → wages, then migrant)."""
        events = await FormValidationAction.get_extraction_events(self, dispatcher, tracker, domain)
        skipped = set(tracker.get_slot("skipped_slots") or ())
        candidates = tracker.slots_to_validate()
        texts = user_texts(tracker)
        asked_now = tracker.get_slot("requested_slot")
        if asked_now in candidates and spec_reader(asked_now):
            # Which facts are needed depends on this answer too (「讨工钱 我是农民工」 to 是什么事 makes 农民工 matter).
            tracker.slots[asked_now] = self.heard(asked_now, tracker).value

        def fill(slot: str, value: Any, required: set[str]) -> None:
            if slot in required and slot not in skipped and slot not in candidates and tracker.get_slot(slot) is None:
                events.append(SlotSet(slot, value))
                tracker.add_slots([SlotSet(slot, value)])

        matter = next((code for text in texts if (code := reading.matter_said(text))), None)
        if matter is not None:
            fill("matter", matter, set(await self.required_slots([], dispatcher, tracker, domain)))
        required = set(await self.required_slots([], dispatcher, tracker, domain))
        stated: dict[str, bool] = {}
        for text in texts:
            for slot, value in reading.said(text).items():
                stated.setdefault(slot, value)
        for slot, value in stated.items():
            fill(slot, value, required)
        # Issue 23: who hired the worker, named unasked (「包工头跑了」 → person), once the facts above make it asked.
        hirer = next((named for text in texts if (named := fact_readers.said(text))), {})
        if hirer:
            required = set(await self.required_slots([], dispatcher, tracker, domain))
            for slot, who in hirer.items():
                fill(slot, who, required)
        # The message that starts the form fills this flow's empty slots with what the NER found in it (「包工头跑了，
        # 欠我们12个工友三万五」, 「东台社区的法律顾问是谁」). A message answering one question fills others only with
        # numbers the rule reader places beyond doubt (「一共一万二，欠了三个月」; 「干了三个月」 is no months owed),
        # never with a place said in passing (「老板住在河东」). Only this flow's slots: an income is not an amount
        # owed (flows.yaml `shared`).
        asked = tracker.get_slot("requested_slot")
        own = flows.flow(self.flow_name).slot_names
        found: list[tuple[str, Any]]  # (slot, value) from the NER or the rule reader
        if asked is None:
            found = [(str(e.get("entity") or ""), e.get("value")) for e in message_entities(tracker)]
        else:
            from hotline_nlu.numbers import extract

            # Not an income: 「我一个月挣四千」 is the citizen's wage, not the household's income the form asks for.
            found = [(f.entity, f.value) for f in extract(latest_text(tracker)) if f.entity != "monthly_income"]
        for slot, entity_value in found:
            if slot in own and slot != asked and spec_reader(slot) != "yes_no" and entity_value not in (None, ""):
                fill(slot, entity_value, required)
        return events

    def heard(self, slot: str, tracker: Tracker, text: str | None = None) -> answers.Answer:
        """What `text` (by default the latest message) answers to the question asking `slot`
        (hotline.flows.answers.read); the NLU's entities and intent count only for the message itself."""
        message = tracker.latest_message or {}
        said = message.get("text") or "" if text is None else text
        own = said == (message.get("text") or "")
        cache = _run_answers.get()
        if cache is None:
            cache = {}
            _run_answers.set(cache)
        if (slot, said) in cache:
            return cache[(slot, said)]
        entries = roster() if spec_reader(slot) == "place" else []

        def place(name: str, words: str) -> str | None:
            if name == "community":
                return community_for(words, entries)
            # A community named to the street question (「住在弯塘那边」) gives its street.
            community = community_for(words, entries)
            return street_for(words, entries or None) or next(
                (e.street for e in entries if community and e.community == community), None)

        heard = answers.read(slot, said, entities=message.get("entities") or () if own else (),
                             intent=latest_intent(tracker) if own else None, place=place)
        cache[(slot, said)] = heard
        return heard

    def answer(self, slot: str, value: Any, tracker: Tracker, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        """The slot's value from words, read by the slot's reader (a number or a bool is kept as it is). Not read:
        a skippable question is skipped on a "don't know", else the question's own re-ask says what to tap."""
        reader = spec_reader(slot)
        if isinstance(value, list) and value == [latest_text(tracker)]:
            value = value[0]  # the message as a list slot holds it: read it as the words it is
        if isinstance(value, list) and reader in ("groups", "evidence"):  # tapped buttons
            items = reading.group_codes(value) if reader == "groups" else reading.evidence_items(value)
            if items is not None:
                return {slot: items}
        elif not isinstance(value, str):
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not (number and reader in flows.NUMBER_READERS and flows.within_bounds(slot, int(value)) is None):
                return {slot: value}
            value = str(int(value))  # outside the slot's bounds (flows.yaml): refused as the same words typed are
        f = flows.flow(self.flow_name)
        said = value if isinstance(value, str) else "、".join(str(v) for v in value)
        heard = self.heard(slot, tracker, said)
        if heard.read:
            also = {k: v for k, v in heard.also.items() if k in f.slot_names and tracker.get_slot(k) is None}
            number = isinstance(heard.value, int) and not isinstance(heard.value, bool)
            return {slot: float(heard.value) if number else heard.value, **also}
        if heard.skip and slot in f.skippable and slot == tracker.get_slot("requested_slot"):
            skipped = list(tracker.get_slot("skipped_slots") or [])
            return {slot: None, "skipped_slots": [*skipped, slot]}
        bad = f"utter_bad_{slot}" if reader != "yes_no" else "utter_bad_yes_no"
        dispatcher.utter_message(response=bad, said=said.strip()[:20])
        return {slot: None}

    def __getattr__(self, attr: str) -> Any:
        """validate_<slot> for every slot of the spec with a reader: its reader reads the answer (flows.yaml)."""
        slot = attr.removeprefix("validate_")
        if not attr.startswith("validate_") or spec_reader(slot) is None:
            raise AttributeError(attr)

        def validate(value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                     domain: DomainDict) -> dict[str, Any]:
            return self.answer(slot, value, tracker, dispatcher)

        return validate


def spec_reader(slot: str) -> str | None:
    found = flows.spec().slots.get(slot)
    return found.reader if found else None
