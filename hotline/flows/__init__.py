"""The conversation flows as data (flows.yaml): each flow's slots in asking order, when each is needed, labels.

One definition read by everyone who asks or shows a slot: the Rasa forms' `required_slots` (actions/), the
copilot's next questions (bot/copilot.py), the handoff summary and the console's labels; so are the category a
consultation is logged under (category_of, matter_category: the bot on every channel and the copilot alike), the
matters' words and each number slot's bounds. Whether a legal fact is
needed is decided by the flow's core (`hotline.legal_aid.facts_needed`, `hotline.wage_claim.facts_needed`) from
the law data, so a question is asked only when its answer can change the advice. Pure: no Rasa, no web.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from hotline import legal_aid, wage_claim
from hotline.codes import CATEGORIES, GROUPS, MATTERS
from hotline.flows import fact_readers

SPEC = Path(__file__).resolve().parent / "flows.yaml"
CONDITIONS = ("always", "law", "consent", "no_community")
READER_KINDS: tuple[str, ...] = ("yes_no", "money", "count", "months", "name", "evidence", "groups", "matter",
                                 "place", "phone")
# Issue 23's readers (hotline/flows/fact_readers.py): a said day, who hired the worker on a site.
READER_KINDS += ("date", "hirer")
# The number readers, each with the CONTRACT §3 entity kinds a number of its kind is found as in free words
# (hotline_nlu.numbers.extract): money for money, heads for heads — 「欠了两万三」 is no head count.
NUMBER_READERS: dict[str, tuple[str, ...]] = {
    "money": ("amount", "monthly_income"), "count": ("people_count", "household_size"), "months": ("months_owed",)}
WORDS = ("dont_know", "affirm", "deny", "none", "zero_income")
_CORES = {"legal_aid": legal_aid.facts_needed, "wage_claim": wage_claim.facts_needed}


@dataclass(frozen=True)
class Slot:
    name: str
    label: str
    skippable: bool = True
    unit: str | None = None
    yes_words: str | None = None
    no_words: str | None = None
    said_yes: str | None = None
    said_no: str | None = None
    said_values: tuple[tuple[str, str], ...] = ()  # (value, regex) in order
    private: bool = False
    when_yes: str | None = None
    when_no: str | None = None
    reader: str | None = None      # how an answer to its question is read (hotline.flows.answers.READERS)
    shared: bool = False           # a fact every flow may reuse (asked by two flows: must be shared)
    from_intents: tuple[tuple[str, str], ...] = ()  # (intent, value): the topic heard names the value
    bounds: tuple[int, int] | None = None  # a number read outside them is no answer (a misread, a date)


@dataclass(frozen=True)
class FlowSlot:
    slot: Slot
    needed: str  # one of CONDITIONS

    @property
    def name(self) -> str:
        return self.slot.name


@dataclass(frozen=True)
class Flow:
    name: str
    label: str
    form: str
    intents: tuple[str, ...]
    slots: tuple[FlowSlot, ...]
    category: str | None = None
    core: str | None = None
    materials: str | None = None  # the domain response listing what to bring for this flow's matter

    @property
    def slot_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.slots)

    @property
    def skippable(self) -> frozenset[str]:
        return frozenset(s.name for s in self.slots if s.slot.skippable)


@dataclass(frozen=True)
class Topic:
    intent: str
    label: str
    category: str
    responses: tuple[str, ...]
    figures: tuple[tuple[str, str], ...] = ()
    materials: str | None = None  # the domain response listing what to bring for this topic
    category_words: bool = False  # the message's category words may name a more exact category


@dataclass(frozen=True)
class Category:
    """A consultation-log category (CONTRACT §5): the words that name it, the matter it presumes."""

    code: str
    words: re.Pattern[str] | None = None
    matter: str | None = None


@dataclass(frozen=True)
class Matter:
    """A legal-aid matter (CONTRACT §7): its log category, the words that name it, whose materials list answers."""

    code: str
    category: str
    words: re.Pattern[str] | None = None
    materials: str | None = None  # a flow or topic name


@dataclass(frozen=True)
class Spec:
    slots: dict[str, Slot]
    flows: dict[str, Flow]
    topics: dict[str, Topic]
    words: dict[str, re.Pattern[str]]  # the answer words every question shares (flows.yaml `words`)
    categories: dict[str, Category]
    matters: dict[str, Matter]  # in the order their words are tried
    paperwork_steps: tuple[tuple[re.Pattern[str], str], ...] = ()  # (words, flow or topic), in order
    groups: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = field(default_factory=dict)  # (answer, said) words
    # responses outside topics that quote the law: response → ((placeholder, quote path), ...)
    response_figures: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    @property
    def intent_matters(self) -> dict[str, str]:
        return dict(self.slots["matter"].from_intents) if "matter" in self.slots else {}


class SpecError(ValueError):
    """flows.yaml breaks its schema; raised on load so a bad edit fails fast."""


def parse_spec(text: str) -> Spec:
    """Validate the flow spec and return it."""
    doc = yaml.safe_load(text) or {}
    slots: dict[str, Slot] = {}
    for name, raw in (doc.get("slots") or {}).items():
        unknown = set(raw) - {"label", "skippable", "unit", "yes_words", "no_words", "said_yes", "said_no",
                               "said_values", "private", "when_yes", "when_no", "reader", "shared", "from_intents",
                               "bounds"}
        if unknown or "label" not in raw:
            raise SpecError(f"slot {name}: needs a label; unknown keys {sorted(unknown)}")
        if raw.get("reader") not in (None, *READER_KINDS):
            raise SpecError(f"slot {name}: unknown reader '{raw['reader']}' ({', '.join(READER_KINDS)})")
        for key in ("yes_words", "no_words", "said_yes", "said_no"):
            if raw.get(key):
                re.compile(raw[key])
        values = tuple((str(value), words) for value, words in (raw.get("said_values") or {}).items())
        for _, words in values:
            re.compile(words)
        intents = tuple((str(i), str(v)) for i, v in (raw.get("from_intents") or {}).items())
        bounds = raw.get("bounds")
        if bounds is not None:
            if raw.get("reader") not in NUMBER_READERS or len(bounds) != 2 or not bounds[0] <= bounds[1]:
                readers = ", ".join(NUMBER_READERS)
                raise SpecError(f"slot {name}: bounds [low, high] are for a number reader ({readers})")
            bounds = (int(bounds[0]), int(bounds[1]))
        slots[name] = Slot(name=name, **{**raw, "said_values": values, "from_intents": intents, "bounds": bounds})
    flows: dict[str, Flow] = {}
    for name, raw in (doc.get("flows") or {}).items():
        entries: list[FlowSlot] = []
        for item in raw.get("slots") or []:
            slot_name, needed = (item, "always") if isinstance(item, str) else next(iter(item.items()))
            if slot_name not in slots:
                raise SpecError(f"flow {name}: slot '{slot_name}' is not defined under slots")
            if needed not in CONDITIONS:
                raise SpecError(f"flow {name}: slot '{slot_name}' has unknown condition '{needed}'")
            if needed == "law" and raw.get("core") not in _CORES:
                raise SpecError(f"flow {name}: condition 'law' needs a core ({', '.join(_CORES)})")
            entries.append(FlowSlot(slots[slot_name], needed))
        flows[name] = Flow(name=name, label=raw["label"], form=raw["form"], intents=tuple(raw.get("intents") or ()),
                           slots=tuple(entries), category=raw.get("category"), core=raw.get("core"),
                           materials=raw.get("materials"))
    topics = {intent: Topic(intent=intent, label=raw["label"], category=raw["category"],
                            responses=tuple(raw["responses"]),
                            figures=tuple((raw.get("figures") or {}).items()), materials=raw.get("materials"),
                            category_words=bool(raw.get("category_words")))
              for intent, raw in (doc.get("topics") or {}).items()}
    categories, matters = _categories(doc.get("categories") or {}), _matters(doc.get("matters") or {})
    for owner, code in [*((f"flow {f.name}", f.category) for f in flows.values()),
                        *((f"topic {t.intent}", t.category) for t in topics.values())]:
        if code is not None and code not in categories:
            raise SpecError(f"{owner}: category '{code}' is not under categories")
    for m in matters.values():
        if m.category not in categories:
            raise SpecError(f"matter {m.code}: category '{m.category}' is not under categories")
        if m.materials is not None and m.materials not in flows and m.materials not in topics:
            raise SpecError(f"matter {m.code}: materials '{m.materials}' is no flow or topic")
    for c in categories.values():
        if c.matter is not None and (c.matter not in matters or matters[c.matter].category != c.code):
            raise SpecError(f"category {c.code}: matter '{c.matter}' is not a matter logged under it")
    steps = tuple((re.compile(str(step["words"])), str(step["materials"])) for step in doc.get("paperwork_steps") or ())
    for _, name in steps:
        answered_by = flows.get(name) or topics.get(name)
        if answered_by is None or answered_by.materials is None:
            raise SpecError(f"paperwork_steps: '{name}' is no flow or topic with materials")
    words = {key: re.compile(str(pattern)) for key, pattern in (doc.get("words") or {}).items()}
    if missing_words := [w for w in WORDS if w not in words]:
        raise SpecError(f"words: missing {', '.join(missing_words)}")
    for name in slots:
        asked_by = [f.name for f in flows.values() if name in f.slot_names]
        if len(asked_by) > 1 and not slots[name].shared:
            raise SpecError(f"slot {name}: asked by {' and '.join(asked_by)}, so it must be `shared: true`")
        if asked_by and slots[name].reader is None:
            raise SpecError(f"slot {name}: asked by {asked_by[0]} but has no reader")
    groups = {}
    for code, entry in (doc.get("groups") or {}).items():
        if code not in GROUPS or set(entry) != {"answer", "said"}:
            raise SpecError(f"groups: '{code}' is no group code, or lacks its answer and said words")
        groups[code] = (re.compile(str(entry["answer"])), re.compile(str(entry["said"])))
    response_figures = {str(response): tuple((str(k), str(v)) for k, v in (figures or {}).items())
                        for response, figures in (doc.get("response_figures") or {}).items()}
    return Spec(slots=slots, flows=flows, topics=topics, words=words, categories=categories, matters=matters,
                paperwork_steps=steps, groups=groups, response_figures=response_figures)


def _categories(raw: Mapping[str, Any]) -> dict[str, Category]:
    """The `categories` table: every CONTRACT §5 code, no other."""
    if set(raw) != set(CATEGORIES):
        raise SpecError(f"categories: must list exactly the CONTRACT codes ({', '.join(CATEGORIES)})")
    out = {}
    for code, entry in raw.items():
        entry = entry or {}
        if unknown := set(entry) - {"words", "matter"}:
            raise SpecError(f"category {code}: unknown keys {sorted(unknown)}")
        words = re.compile(str(entry["words"])) if entry.get("words") else None
        out[code] = Category(code=code, words=words, matter=entry.get("matter"))
    return out


def _matters(raw: Mapping[str, Any]) -> dict[str, Matter]:
    """The `matters` table: every CONTRACT §7 matter code, no other, each with its category."""
    if set(raw) != set(MATTERS):
        raise SpecError(f"matters: must list exactly the matter codes ({', '.join(MATTERS)})")
    out = {}
    for code, entry in raw.items():
        if unknown := set(entry) - {"category", "words", "materials"}:
            raise SpecError(f"matter {code}: unknown keys {sorted(unknown)}")
        if "category" not in entry:
            raise SpecError(f"matter {code}: needs a category")
        words = re.compile(str(entry["words"])) if entry.get("words") else None
        out[code] = Matter(code=code, category=str(entry["category"]), words=words, materials=entry.get("materials"))
    return out


@lru_cache(maxsize=1)
def spec() -> Spec:
    return parse_spec(SPEC.read_text(encoding="utf-8"))


def flow(name: str) -> Flow:
    return spec().flows[name]


def flows() -> list[Flow]:
    return list(spec().flows.values())


def flow_of_form(form: str | None) -> Flow | None:
    return next((f for f in flows() if f.form == form), None)


def flow_of_intent(intent: str | None) -> Flow | None:
    return next((f for f in flows() if intent in f.intents), None)


def form_slots() -> tuple[str, ...]:
    """Every slot some form asks, once, in first-asked order."""
    return tuple(dict.fromkeys(s for f in flows() for s in f.slot_names))


def label(slot: str) -> str:
    found = spec().slots.get(slot)
    return found.label if found else slot


def _filled(value: Any) -> bool:
    return value is not None and value != "" and value != []


def needed(flow_name: str, slots: Mapping[str, Any], on: dt.date) -> list[str]:
    """The flow's slots that the facts so far make necessary, in asking order (filled ones included)."""
    f = flow(flow_name)
    law = set(_CORES[f.core](slots, on)) if f.core in _CORES else set()
    out = []
    for entry in f.slots:
        if entry.needed == "law" and entry.name not in law:
            continue
        if entry.needed == "consent" and slots.get("consent_phone") is not True:
            continue
        if entry.needed == "no_community" and _filled(slots.get("community")):
            continue
        out.append(entry.name)
    return out


def required_slots(flow_name: str, slots: Mapping[str, Any], on: dt.date, skipped: Iterable[str] = ()) -> list[str]:
    """What a form must still hold before it ends: the needed slots the citizen did not skip."""
    gone = set(skipped)
    return [s for s in needed(flow_name, slots, on) if s not in gone]


def missing(flow_name: str, slots: Mapping[str, Any], on: dt.date, skipped: Iterable[str] = ()) -> list[str]:
    """The required slots not yet filled, in asking order: the next question is the first."""
    return [s for s in required_slots(flow_name, slots, on, skipped) if not _filled(slots.get(s))]


# --- showing a slot's value --------------------------------------------------------------------------------

def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def display(slot: str, value: Any) -> str:
    """A slot's value as an operator or a summary shows it: 是/否, 中文 labels of codes, numbers with their unit."""
    if value is None:
        return "未知"
    found = spec().slots.get(slot)
    if isinstance(value, bool):
        said = (found.when_yes if value else found.when_no) if found else None
        return said or ("是" if value else "否")
    if (shown := fact_readers.display_value(slot, value)) is not None:  # issue 23's codes and days
        return shown
    if slot == "matter":
        return MATTERS.get(str(value), str(value))
    if slot == "groups":
        items = [GROUPS.get(str(g), str(g)) for g in value] if isinstance(value, list | tuple) else [str(value)]
        return "、".join(items) or "都不是"
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value) or "没有"
    if isinstance(value, int | float) and found and found.unit:
        return f"{_number(value)}{found.unit}"
    return _number(value)


def facts(slots: Mapping[str, Any], *, flow_name: str | None = None) -> list[dict[str, Any]]:
    """The filled slots (of one flow, or of every flow) as [{slot, label, value, display}], in asking order."""
    names = flow(flow_name).slot_names if flow_name else form_slots()
    return [{"slot": n, "label": label(n), "value": slots[n], "display": display(n, slots[n])}
            for n in names if _filled(slots.get(n))]


def went_through(f: Flow, slots: Mapping[str, Any]) -> bool:
    """Whether the citizen began this flow: one of its own facts is known (a flow of shared facts only, the advisor
    lookup, by any of them)."""
    own = [s for s in f.slots if not s.slot.shared]
    return any(_filled(slots.get(s.name)) for s in (own or f.slots))


def summary(slots: Mapping[str, Any]) -> str:
    """What the citizen told the bot, as Chinese sentences for the operator who takes over (no phone number):
    「讨薪：欠钱的单位或老板是恒通建筑公司；欠款金额是35000元。」 One sentence per flow begun."""
    sentences = []
    shown: set[str] = set()
    for f in sorted(flows(), key=lambda f: not went_through(f, slots)):
        # A flow the citizen never began shows only the shared facts (the matter, the street) no other flow showed.
        began = went_through(f, slots)
        parts = []
        for entry in f.slots:
            value = slots.get(entry.name)
            if entry.slot.private or entry.name in shown or not _filled(value) or not (began or entry.slot.shared):
                continue
            shown.add(entry.name)
            shown_value = display(entry.name, value)
            says_itself = isinstance(value, bool) and (entry.slot.when_yes if value else entry.slot.when_no)
            parts.append(shown_value if says_itself else f"{entry.slot.label}：{shown_value}")
        if parts:
            sentences.append(f"{f.label}——{'；'.join(parts)}。")
    return "".join(sentences)


# --- topics ---------------------------------------------------------------------------------------------------

def topic(intent: str | None) -> Topic | None:
    return spec().topics.get(intent or "")


# --- the consultation log's category: one answer for the bot, the copilot and every channel ---------------------

def category_of(intent: str | None, text: str = "") -> str | None:
    """The CONTRACT §5 category a question is logged under: its flow's or topic's (flows.yaml), refined by the
    category words of the message where the topic allows (「楼上漏水想调解」 neighbor_dispute, 「朋友借钱不还」
    contract_debt); None for an intent that names no problem (a greeting, the legal-aid form before its matter)."""
    if (found := flow_of_intent(intent)) is not None:
        return found.category
    if (t := topic(intent)) is None:
        return None
    if t.category_words:
        said = next((c.code for c in spec().categories.values() if c.words and c.words.search(text or "")), None)
        if said is not None:
            return said
    return t.category


def matter_category(matter: str | None) -> str:
    """The category a legal-aid consultation about `matter` is logged under; `other` for no or an unknown matter."""
    found = spec().matters.get(matter or "")
    return found.category if found else "other"


def category_matter(category: str | None) -> str | None:
    """The legal-aid matter a category presumes when no matter was said (wage_arrears → wage_arrears); None for a
    category too broad to name one (other, criminal: suspect or victim?)."""
    found = spec().categories.get(category or "")
    return found.matter if found else None


def within_bounds(slot: str, number: int | None) -> int | None:
    """A number read for `slot`, or None when it lies outside the slot's bounds (flows.yaml `bounds`)."""
    found = spec().slots.get(slot)
    if number is None or found is None or found.bounds is None:
        return number
    low, high = found.bounds
    return number if low <= number <= high else None
