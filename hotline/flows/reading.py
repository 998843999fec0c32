"""Reading citizens' words into slot values: yes/no, matters, groups, evidence, numbers, and facts stated unasked.

Shared by the form validators (actions/) and the operator copilot (bot/copilot.py), so both understand the same
words the same way. The yes/no words of each slot are data in flows.yaml. Pure; never raises on any text.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hotline.codes import GROUPS, MATTERS, code_for
from hotline.flows import NUMBER_READERS, spec

# A whole-message "nothing": 没有, 都不是, 无.
_NONE = re.compile(r"^(都不是|都没有|没有|不是|无|没|啥也没有|什么都没有|没得|冇)[。.!！了啊的]*$")

_ONLY_ME = re.compile(r"^(就|只有)?(我|我自己|我一个|自己|本人)(一个人?)?[。.]*$")


def is_none_answer(text: Any) -> bool:
    return isinstance(text, str) and bool(_NONE.match(text.strip()))


def yes_no(slot: str, value: Any) -> bool | None:
    """A yes/no slot's answer: a bool as is; words through the slot's no_words then yes_words (flows.yaml)."""
    if isinstance(value, bool):
        return value
    found = spec().slots.get(slot)
    if not isinstance(value, str) or found is None:
        return None
    text = value.strip()
    if found.no_words and re.search(found.no_words, text):
        return False
    if found.yes_words and re.search(found.yes_words, text):
        return True
    return None


def said(text: str) -> dict[str, bool]:
    """Yes/no facts a message states unasked (「我是农民工」, 「在工地干活」, 「没签合同」), per flows.yaml said_*."""
    out: dict[str, bool] = {}
    for name, slot in spec().slots.items():
        if slot.said_no and re.search(slot.said_no, text):
            out[name] = False
        elif slot.said_yes and re.search(slot.said_yes, text):
            out[name] = True
    return out


def matter_said(text: str) -> str | None:
    """The legal-aid matter a message names beyond doubt (the matter's said_values in flows.yaml), or None:
    「我是农民工，老板欠工资，能申请法律援助吗」 is wage_arrears, so the form does not ask 是什么事 again."""
    return next((value for value, words in spec().slots["matter"].said_values if re.search(words, text)), None)


def matter_code(value: Any) -> str | None:
    text = str(value or "").strip()
    code = code_for(text, MATTERS)
    if code:
        return code
    # The matters' words are flows.yaml `matters`, tried in its order.
    return next((m.code for m in spec().matters.values() if m.words and m.words.search(text)), None)


def group_codes(value: Any) -> list[str] | None:
    """Group codes from buttons or words answering the groups question; [] for 都不是; None when not understood."""
    values = value if isinstance(value, list) else [value]
    codes: list[str] = []
    for item in (str(v).strip() for v in values if v):
        if item == "无" or is_none_answer(item):
            continue
        code = code_for(item, GROUPS) or next((c for c, (words, _) in spec().groups.items() if words.search(item)),
                                              None)
        if code is None:
            return None
        if code not in codes:
            codes.append(code)
    return codes


# An age said in answer to the groups question: 「今年68了」「我七十多岁」「六十五了 还有低保」「我今年58」.
_AGE = re.compile(r"(\d{1,3}|[一二两三四五六七八九十]{1,3})\s*(?:周)?(?:岁|多岁|了|$)")
_UNDERAGE = re.compile(r"(没满|未满|不满|不到)\s*(十八|18)")


def ages(text: str) -> list[int]:
    from hotline_nlu.numbers import parse_number

    found = [parse_number(m.group(1)) for m in _AGE.finditer(text)]
    return [a for a in found if a is not None and 1 <= a <= 120]


def age_groups(text: str) -> list[str]:
    """elderly for 60 and over, minor under 18 (《法律援助法》第四十二条's groups as the form asks them)."""
    out = ["minor"] if _UNDERAGE.search(text) else []
    for age in ages(text):
        code = "elderly" if age >= 60 else "minor" if age < 18 else None
        if code and code not in out:
            out.append(code)
    return out


def groups_answered(text: str) -> list[str]:
    """Every group an answer to 「您属于哪种情况」 names (「吃低保的 腿也有残疾」 is two), in the table's order."""
    found = [code for code, (words, _) in spec().groups.items() if words.search(text)]
    return found


# The place inside an answer: 「我住在水上那边」 → 水上, 「潭中街道那块」 → 潭中街道.
_PLACE_FILLER = re.compile(r"^(我|我们|我家)?(住|在|是|住在|属于|归)*|(那边|那块|那里|这边|附近|一带|那儿|吧|的|啊)+$")


def place_candidates(text: str) -> list[str]:
    """Shorter readings of an answer naming a place, for the roster's matcher (longest first)."""
    core = _PLACE_FILLER.sub("", text).strip(" ，,")
    parts = [p for p in re.split(r"[，,、 的]", core) if len(p) >= 2]
    return list(dict.fromkeys([core, *parts]))


def groups_said(text: str) -> list[str]:
    """Groups a message states unasked (「我是残疾人」), with the stricter statement words."""
    return [code for code, (_, words) in spec().groups.items() if words.search(text)]


def evidence_items(value: Any) -> list[str] | None:
    """Checklist items from an answer to the evidence question: [] for 没有; None when nothing is understood."""
    from hotline.wage_claim import normalise_evidence

    texts = [str(t).strip() for t in (value if isinstance(value, list) else [value]) if t]
    if texts and all(is_none_answer(t) for t in texts):
        return []
    items: list[str] = []
    for text in texts:
        items.extend(i for i in normalise_evidence(text) if i not in items)
    return items or None


def evidence_said(text: str) -> list[str]:
    """Evidence a message names unasked. 「我们12个工友」 is a head count, not testimony: 工友证言 only with 证."""
    from hotline.wage_claim import normalise_evidence

    return [item for item in normalise_evidence(text) if item != "工友证言" or "证" in text]


def as_int(value: Any) -> int | None:
    """An int from a normalised entity value (int, float or digit string); None otherwise (bools included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value.strip()):
        return int(float(value.strip()))
    return None


# Before an amount, the words that make it a sum per head (「九个人 每人两万多」, 「人均八千」, 「一人欠三千」).
_PER_HEAD = re.compile(r"(?:每(?:个|位|名)?(?:人|工人|工友)|人均|一人|各)[^\d零〇一二两三四五六七八九十百千万，,。；;]{0,4}$")


def amount_per_head(text: str, entities: list[dict[str, Any]]) -> bool:
    """Whether the message gives the money owed per head rather than in all: an `amount` entity right after
    每人/人均/一人/各. The wage claim's amount is the total owed (「一共欠了多少钱」)."""
    return any(e.get("entity") == "amount" and _PER_HEAD.search(text[max(0, int(e.get("start") or 0) - 8):
                                                                      int(e.get("start") or 0)])
               for e in entities)


def number_from(entity: str, value: Any, parse: Callable[[str], int | None]) -> int | None:
    """The number a slot candidate holds: a normalised entity value as is; free text through hotline_nlu.numbers,
    refusing text whose only number is of another kind (欠了两万三 is no head count)."""
    number = as_int(value)
    if number is not None or not isinstance(value, str):
        return number
    from hotline_nlu.numbers import extract

    if entity in ("people_count", "household_size") and _ONLY_ME.match(value.strip()):
        return 1
    found = extract(value)
    kinds = NUMBER_READERS[spec().slots[entity].reader or ""]  # the slot's kind (flows.yaml reader)
    own = [f.value for f in found if f.entity in kinds and isinstance(f.value, int)]
    if own:
        return own[0]
    if found:
        return None
    return parse(value)
