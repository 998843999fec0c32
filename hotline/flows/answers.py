"""A form's question answered in the citizen's own words: the asked slot's reader goes first.

While a form asks a slot, the message is read for that slot before any intent routing can take the turn: its
yes/no words, numbers with units and Chinese digits, names, lists (evidence, groups), places, a phone number, and
the "don't know" words that skip a skippable question. The words are data in flows.yaml (each slot's `reader` and
words, and the shared `words:` table); this module only applies them. Only when the reader finds nothing is the
message a digression (answered by its rule, then the same question once more).

Pure: no Rasa, no I/O (the roster's place names come in as a function). Never raises on any text.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hotline.flows import fact_readers, reading, spec, within_bounds

# What a reader may return besides a value: the citizen does not know (the question is dropped if skippable).
SKIP = object()

Entities = Sequence[Mapping[str, Any]]
PlaceReader = Callable[[str, str], "str | None"]  # (slot, text) -> the roster's canonical name


@dataclass(frozen=True)
class Answer:
    """What a message says to the asked question: its value (None when not read), or that it is not known."""

    value: Any = None
    skip: bool = False
    also: dict[str, Any] = field(default_factory=dict)  # other slots the same words state beyond doubt

    @property
    def read(self) -> bool:
        return self.value is not None




def normalised(text: str) -> str:
    """Simplified characters, full-width digits narrowed, outer spaces and end punctuation gone."""
    from hotline_nlu.text_features import simplified

    return simplified(str(text or "")).translate(str.maketrans("０１２３４５６７８９", "0123456789")).strip(
        " \t\n。.!！~～…")


def _plain(text: str) -> str:
    """Simplified characters, dialect negations as 没 (「莫要过」「冇签」), for readers that know only 没."""
    return re.sub(r"[莫冇]", "没", normalised(text)) if not str(text or "").startswith("/") else str(text)


def _words(name: str) -> re.Pattern[str]:
    return spec().words[name]


def dont_know(text: str) -> bool:
    """「不知道」「要回去算算才晓得」「哪个街道我搞不懂」: the citizen cannot answer (flows.yaml words.dont_know)."""
    return bool(_words("dont_know").search(normalised(text)))


def _payload_intent(text: str, intent: str | None) -> str | None:
    """The intent of a button payload (「/affirm」, 「/inform{...}」), else None: typed words are read as words."""
    return intent if str(text or "").startswith("/") else None


def _entity(entities: Entities, *kinds: str) -> Any:
    return next((e.get("value") for e in entities if e.get("entity") in kinds and e.get("value") not in (None, "")),
                None)


# --- the readers, one per kind of slot (flows.yaml `reader`) ----------------------------------------------------

def read_yes_no(slot: str, text: str, entities: Entities, intent: str | None) -> Any:
    """The slot's own no/yes words first (「没签」 before 「签」), then the words any yes/no question takes (「对头」,
    「莫得」), then a tapped 是/不是; never the NLU's guess for typed words (「不做了」 is no 'deny' of 已经不干了)."""
    payload = _payload_intent(text, intent)
    if payload in ("affirm", "deny"):
        return payload == "affirm"
    t = normalised(text)
    answer = reading.yes_no(slot, t)
    if answer is not None:
        return answer
    if _words("deny").search(t):
        return False
    if _words("affirm").search(t):
        return True
    # Last, the NLU's yes or no for words no table holds (「没问题」): only after every word above had its say.
    return {"affirm": True, "deny": False}.get(intent or "")


def number_parser(slot: str) -> Callable[[str], int | None]:
    """The words-to-number parser of a number slot, by its reader in flows.yaml (money, count, months)."""
    from hotline_nlu.numbers import parse_amount, parse_count, parse_months

    parsers: dict[str | None, Callable[[str], int | None]] = {
        "money": parse_amount, "count": parse_count, "months": parse_months}
    return parsers[spec().slots[slot].reader]


def number_value(slot: str, value: Any) -> int | None:
    """A number slot's value from a number or from words (an operator's field, 「3.5万」): the slot's own parser
    (reading.number_from refuses a number of another kind), then its bounds; None when neither gives one."""
    return within_bounds(slot, reading.number_from(slot, value, number_parser(slot)))


def _number(slot: str, text: str, entities: Entities) -> int | None:
    parse = number_parser(slot)
    # The rule reader on the whole answer first (「2w3」 is one figure, where the NER may see 「2w」), the NER's
    # value when the words alone give none.
    number = reading.number_from(slot, normalised(text), parse)
    if number is None:
        number = reading.as_int(_entity(entities, slot))
    return within_bounds(slot, number)  # each slot's bounds: flows.yaml


# A total said after the parts: 「每个月四千 欠了三个月 一共一万二」, 「我一千八 老婆两千 加起来三千八」.
_TOTAL = re.compile(r"(一共|总共|合计|加起来|总计|共计|全部|总的)(是|有|欠|欠了|才|就)?")
_YEARLY = re.compile(r"(一年|年收入|每年|全年)")
_QUARTER = re.compile(r"([一二两三四\d])个?季度")
# Members of a household as people name them: 「我和老婆 两个娃」 is 4, 「两口子加一个娃」 is 3.
_MEMBERS: tuple[tuple[str, int], ...] = (
    (r"[两俩]口子", 2), (r"(?<![两俩])(我|自己|本人)", 1), (r"老婆|老公|媳妇|妻子|丈夫|爱人|对象", 1),
    (r"爸妈|父母|公婆|岳父母", 2), (r"(?<!爸)妈|母亲|老娘", 1), (r"爸(?!妈)|父亲|老爹", 1),
    (r"爷爷|奶奶|外公|外婆|姥姥|姥爷", 1),
)
_KIDS = re.compile(r"([一二两三四五六\d])个(娃|孩子|小孩|儿子|女儿|崽|小孩子|孙子|孙女)")
_PAIR = re.compile(r"(我们|咱)?[俩两](?:个人|个)?$|^[俩两]个?$")
_ONLY_ME = re.compile(r"(莫得别人 ?)?(就我(一个)?(人|自己)?|只有我|我自己|就本人|我一个人)")


def _household(text: str) -> int | None:
    """Heads counted from the members named, when no number says it: 「就我跟我妈俩」 → 2."""
    from hotline_nlu.numbers import parse_number

    if m := re.search(r"([一二两三四五六七八九十\d]+)\s*口(?!子)", text):
        return parse_number(m.group(1))
    total = 0
    for pattern, heads in _MEMBERS:
        total += heads * min(1, len(re.findall(pattern, text)))  # 「我跟我妈」 names me once
    for m in _KIDS.finditer(text):
        total += parse_number(m.group(1)) or 0
    if total >= 2:
        return total
    if re.search(r"[俩]", text):
        return 2
    return None


def read_number(slot: str, text: str, entities: Entities, intent: str | None) -> Any:
    """Money, heads or months, with units and Chinese digits (「两万三」「十来个」「大半年」); a total said after its
    parts wins; 「没收入了」 is 0 for an income and a yearly income is a twelfth a month; 「就我一个」 is 1 head,
    「我和老婆 两个娃」 4 (flows.yaml words.zero_income); None outside the slot's bounds (flows.yaml)."""
    return within_bounds(slot, _read_number(slot, text, entities))


def _read_number(slot: str, text: str, entities: Entities) -> int | None:
    from hotline_nlu.numbers import parse_number

    t = re.sub(r"(\d)[wW](?=\d|$)", r"\1万", normalised(text))  # 「2w3」 is 2万3
    if slot in ("monthly_income", "own_monthly_income") and _words("zero_income").search(t):
        return 0
    if slot == "months_owed" and (q := _QUARTER.search(t)):
        return 3 * (parse_number(q.group(1)) or 1)
    if slot in ("people_count", "household_size"):
        if m := re.search(r"(?<![一二两三四五六七八九十\d])[俩仨](?!口子)", t):
            return {"俩": 2, "仨": 3}[m.group(0)] if slot == "people_count" else _household(t)
        if _ONLY_ME.search(t) and ((slot == "people_count" and _ONLY_ME.match(t))
                                   or not re.search(r"[二两三四五六七八九十\d]", t)):
            return 1  # 「就我一个 家里还有四口人等我寄钱」: the head count is said first
    if slot == "household_size" and (heads := _household(t)):
        return heads
    total = _TOTAL.search(t)
    number = _number(slot, t[total.end():], ()) if total else None
    if number is None:
        number = _number(slot, t, entities)
    if number is not None and slot == "monthly_income" and _YEARLY.search(t):
        number = round(number / 12)
    return number


# 「1500」, 「4个」, 「三万五块」: an answer that is only a quantity names nobody.
_ONLY_A_QUANTITY = re.compile(r"[\d\s.,，、零〇一二两三四五六七八九十百千万亿多来几个人块元钱月年半左右]+")
# A name said after 叫/喊他/名字是 (「一个叫王建国的包工头」, 「大家都喊他老陈」).
_CALLED = re.compile(r"(?:叫|喊他|喊|名字是|姓名是)\s*(?!啥|什么|不)([^\s，,。的、]{2,12})")
_FRAME = re.compile(r"^(?:欠钱的|欠我钱的|欠我们钱的|欠工资的)?(?:就)?(?:是)?(?:那个|一个|我们)?")
_ROLE = re.compile(r"^(?:包工头|包工投|包工|工头|老板|班组长|班长|承包人|老总)(?=\S{2,})")
_TAIL = re.compile(r"(?:欠的|欠我的|欠我们的|的包工头|包工头|的)$")


def read_name(slot: str, text: str, entities: Entities, intent: str | None) -> Any:
    """The employer as said: the NER's employer span when there is one, else the words themselves (2–60 characters,
    not only a quantity) without framing (「欠钱的就是」, a role word before the name, 「欠的」 after) and cut at the
    first pause — unless the NLU heard a question of its own in them (「老板欠我工资三个月了」 is no name)."""
    found = _entity(entities, slot)
    if isinstance(found, str) and len(found.strip()) >= 2:
        return found.strip()
    t = normalised(text).strip(" ，,")
    framed = bool(_CALLED.search(t) or re.match(r"(欠钱的|欠我钱的|欠工资的)(就)?是", t))
    if intent not in (None, "inform", "nlu_fallback", "affirm", "deny") and not framed:
        return None
    if called := _CALLED.search(t):
        return _TAIL.sub("", called.group(1)) or None
    t = _ROLE.sub("", _FRAME.sub("", t))
    t = re.split(r"[\s，,。;；]", t, maxsplit=1)[0]
    t = _TAIL.sub("", t)
    if 2 <= len(t) <= 60 and not _ONLY_A_QUANTITY.fullmatch(t) and not t.startswith("/"):
        return t
    return None


def read_evidence(slot: str, text: str, entities: Entities, intent: str | None) -> Any:
    """Checklist items named (「有欠条和聊天记录」), [] for nothing at all (「啥证据都莫得」)."""
    t = normalised(text)
    if _payload_intent(text, intent) == "deny":
        return []
    if dont_know(t):
        return reading.evidence_items(t) or None  # 「没数」 is no "nothing"
    if _words("none").search(t):
        return []
    return reading.evidence_items(t)


def read_groups(slot: str, text: str, entities: Entities, intent: str | None) -> Any:
    """Group codes: tapped buttons, words (「我是低保户」), an age (「今年68了」 → elderly), [] for 都不是."""
    tapped = [str(e.get("value")) for e in entities if e.get("entity") == "group" and e.get("value")]
    if tapped and str(text or "").startswith("/"):  # buttons; typed words are read whole (「六十五了 还有低保」)
        return reading.group_codes(tapped)
    if _payload_intent(text, intent) == "deny":
        return []
    t = normalised(text)
    if dont_know(t):
        return None
    codes = reading.groups_answered(t)
    ages = reading.ages(t)
    codes += [c for c in reading.age_groups(t) if c not in codes]
    if codes:
        return codes
    if ages or _words("none").search(t) or reading.is_none_answer(t):
        return []  # an age of none of the groups (「我今年58」) answers 都不是
    return None


def read_matter(slot: str, text: str, entities: Entities, intent: str | None) -> Any:
    """A matter code: a tapped button, then the matter words (flows.yaml said_values and the matter table, 「手术出了
    事故」 → medical_accident before 「事故」), then the topic the NLU heard (「老板不给工资」 → wage_arrears)."""
    found = _entity(entities, "matter")
    if found:
        return reading.matter_code(found)
    t = normalised(text)
    return reading.matter_code(t) or spec().intent_matters.get(intent or "")


def read_place(slot: str, text: str, entities: Entities, intent: str | None,
               place: PlaceReader | None = None) -> Any:
    """A street or community of the roster: the NER's canonical name, else the words through the roster's names,
    aliases and typos."""
    found = _entity(entities, slot)
    if found:
        return found
    if place is None:
        return None
    t = normalised(text)
    if slot == "community" and "街道" in t and not re.search(r"社区|村", t):
        return None  # a street office named instead of a community: the street question's answer
    for candidate in (t, *reading.place_candidates(t)):
        if name := place(slot, candidate):
            return name
    return None


def phone_in(text: str) -> str | None:
    """An 11-digit mobile or a landline, in Arabic or Chinese digits (「一三八七七二一五六八八」)."""
    from hotline_nlu.phones import find_phone

    return find_phone(normalised(text))


def read_phone(slot: str, text: str, entities: Entities, intent: str | None) -> Any:
    from hotline_nlu.phones import parse_phone

    found = _entity(entities, "phone")
    return parse_phone(str(found)) if found else phone_in(text)


_A_NUMBER = re.compile(r"\d|[零〇一二两三四五六七八九十百千万]+\s*[个口人千万百块元月年岁]|[俩仨]")

# Readers whose words a "don't know" would be mistaken for (「不知道」 is no 不是, no employer, no street).
_NOT_KNOWN_FIRST = frozenset({"yes_no", "name", "matter", "phone"})

READERS: dict[str, Callable[..., Any]] = {
    "yes_no": read_yes_no, "money": read_number, "count": read_number, "months": read_number,
    "name": read_name, "evidence": read_evidence, "groups": read_groups, "matter": read_matter,
    "place": read_place, "phone": read_phone,
    # issue 23: the day the job ended / the money was last asked for, and who hired the worker on a site
    "date": lambda slot, text, entities, intent: fact_readers.read_date_slot(slot, _plain(text), entities, intent),
    "hirer": lambda slot, text, entities, intent: fact_readers.read_hirer(slot, _plain(text), entities, intent),
}


def read(slot: str, text: str, *, entities: Entities = (), intent: str | None = None,
         place: PlaceReader | None = None) -> Answer:
    """The answer a message gives to the question asking `slot`: the slot's reader first; failing that, a "don't
    know" (skippable questions only: the caller checks); else nothing. `also` holds other facts the same words state
    (a phone number given with the consent: 「可以啊 号码是138…」)."""
    found = spec().slots.get(slot)
    if found is None or found.reader is None:
        return Answer()
    text = str(text or "")
    if found.reader == "name" and _CALLED.search(normalised(text)):
        return Answer(value=read_name(slot, text, entities, intent))  # 「名字不晓得 大家都喊他老陈」
    if found.reader == "phone" and not phone_in(text) and reading.yes_no("consent_phone", normalised(text)) is False:
        return Answer(skip=True)  # 「还是不留了」: no number is given
    if found.reader in ("money", "count", "months") and dont_know(text) and not _A_NUMBER.search(normalised(text)):
        return Answer(skip=True)  # 「搞不清楚算不算我爸妈」: no figure said
    if found.reader in _NOT_KNOWN_FIRST and not text.startswith("/") and dont_know(text):
        return Answer(skip=True)
    reader = READERS[found.reader]
    try:
        value = reader(slot, text, entities, intent, place) if found.reader == "place" else \
            reader(slot, text, entities, intent)
    except (ValueError, TypeError, KeyError, AttributeError):  # a reader's slip must not end the conversation
        value = None
    also: dict[str, Any] = {}
    if slot == "consent_phone" and (phone := read_phone("phone", text, entities, intent)):
        value, also = True, {"phone": phone}  # giving the number is the consent
    if value is None:
        return Answer(skip=dont_know(text))
    return Answer(value=value, also=also)


# --- what to bring: a paperwork question answered for the matter it names ---------------------------------------



def materials_response(text: str, form: str | None = None) -> str:
    """The domain response listing what to bring for what the message asks about (「离婚需要什么材料」 → the divorce
    list); else for the form being filled in; else the general list."""
    t = normalised(text)
    # the legal step named first (flows.yaml paperwork_steps), else the matter's own list (flows.yaml matters)
    name = next((owner for words, owner in spec().paperwork_steps if words.search(t)), None)
    matter = spec().matters.get(reading.matter_code(t) or "")
    name = name or (matter.materials if matter else None)
    if name is None and form:
        name = next((f.name for f in spec().flows.values() if f.form == form), None)
    found = spec().flows.get(name or "") or spec().topics.get(name or "")
    return (found.materials if found and found.materials else None) or "utter_materials"
