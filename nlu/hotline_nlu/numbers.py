"""Chinese numbers as citizens write them, normalised to integers (CONTRACT §3).

Pure functions over text, shared by the Rasa component (entity values) and the action server (free-text slot
answers). Numerals go through cn2an, the maintained converter; this module only finds the number expression,
strips the vague words around it (多, 来, 出头, 左右) and applies the unit. Nothing here raises: a string that holds
no number gives None.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import cn2an

from hotline_nlu.phones import parse_phone as parse_phone  # what a phone is: hotline_nlu/phones.py
from hotline_nlu.phones import phones_in

_CN_DIGITS = "零〇一二两三四五六七八九壹贰贰叁肆伍陆柒捌玖"
_CN_UNITS = "十拾百佰千仟万萬亿"
# Full-width digits and the traditional forms of number words map one character to one, so spans stay valid.
_FULLWIDTH = str.maketrans("０１２３４５６７８９．，兩個萬億幾塊", "0123456789.,两个万亿几块")
# More years than anyone is owed wages for: "2023年" is a date, not a duration.
_MAX_YEARS_OWED = 30

# A number expression: arabic digits (with a decimal point or thousands commas) or Chinese numerals, possibly
# mixed with units (3.5万, 2万5, 一万二, 十来). Approximations like 七八千 are caught separately.
# Voice input and slow typists space the parts out (2 万 5, 十 万 八): a unit with a space on its left may take one
# on its right too. A space after an unspaced unit ends the number: 「3万 5个人」 is two facts, not 35000.
_NUM = (rf"(?:\d+(?:[.,]\d+)*|[{_CN_DIGITS}{_CN_UNITS}]+)"
        rf"(?:[多来余几]?[{_CN_UNITS}]+[\d{_CN_DIGITS}]*|[ \u3000][多来余几]?[{_CN_UNITS}]+(?:[ \u3000][\d{_CN_DIGITS}]+)?)*")
_NUM_RE = re.compile(_NUM)
# 七八千, 三四万, 十七八个: two neighbouring digits name a range; we take the lower bound.
_RANGE_RE = re.compile(r"([一二两三四五六七八九])([二三四五六七八九])([十百千万]?)")
_K_RE = re.compile(r"(\d+(?:\.\d+)?)\s*([kKwW])(\d)?(?![a-zA-Z\d])")

_MONEY_SUFFIX = ("元", "块", "圆", "蚊", "米", "k", "K", "w", "W")
_WORD_VALUES = {"万把": 10000, "千把": 1000, "百把": 100}


def _to_number(expr: str) -> float | None:
    """One number expression → float via cn2an, or None."""
    expr = re.sub(r"[\s,]", "", expr.translate(_FULLWIDTH))
    if not expr:
        return None
    if expr in ("两",):
        return 2.0
    # 十来/二十多万/三千余: cn2an does not know the vague words; the digits and units around them are the number.
    expr = re.sub(r"(?<=[\d十百千万])[来多余把几](?=[十百千万亿]|$)", "", expr)
    if not expr:
        return None
    try:
        return float(cn2an.cn2an(expr, "smart"))
    except Exception:  # cn2an raises plain ValueError/KeyError variants for anything it cannot read
        pass
    # 一万二 / 三千五 with a dangling digit already work in cn2an; try splitting a trailing unit-less digit run.
    try:
        return float(cn2an.cn2an(expr, "normal"))
    except Exception:
        return None


def _lower_bound_range(text: str) -> str:
    """七八千 → 七千, 十七八 → 十七: take the lower of two neighbouring digits."""
    return _RANGE_RE.sub(lambda m: m.group(1) + m.group(3), text)


def _first_number(text: str) -> tuple[float, int, int] | None:
    """The first number in text with its (start, end) span in the original string."""
    if not isinstance(text, str) or not text:
        return None
    norm = text.translate(_FULLWIDTH)
    for word, worth in _WORD_VALUES.items():
        idx = norm.find(word)
        if idx >= 0:
            return float(worth), idx, idx + len(word)
    if m := _K_RE.search(norm):
        mult = 1000 if m.group(2) in "kK" else 10000
        # 「2w3」 is 2万3 (23000), 「3k5」 3千5: the digit after the unit is the next place down.
        tail = int(m.group(3)) * mult // 10 if m.group(3) else 0
        return float(m.group(1)) * mult + tail, m.start(), m.end()
    for m in _NUM_RE.finditer(norm):
        raw = m.group(0)
        candidate = _lower_bound_range(raw) if _RANGE_RE.search(raw) else raw
        value = _to_number(candidate)
        if value is None and len(raw) > 1:
            # 一千五百多块 etc. parse; junk like "万万" does not. Try the longest parsable prefix.
            for cut in range(len(candidate) - 1, 0, -1):
                value = _to_number(candidate[:cut])
                if value is not None:
                    break
        if value is not None:
            return value, m.start(), m.end()
    return None


def parse_number(text: str) -> int | None:
    """The first number in text as an integer (rounded down), whatever its unit."""
    found = _first_number(text)
    if found is None:
        return None
    value = found[0]
    if value < 0 or value != value or value > 1e12:  # NaN or absurd: not a number a citizen means
        return None
    return int(value)


def parse_amount(text: str) -> int | None:
    """Yuan: 三万五 → 35000, 3.5万元 → 35000, 两万多 → 20000, 8000块 → 8000, 8k → 8000."""
    return parse_number(text)


def parse_count(text: str) -> int | None:
    """People: 我们12个工友 → 12, 五个人 → 5, 四口人 → 4, 就我一个 → 1, 十来个 → 10."""
    if isinstance(text, str) and re.search(r"就?我一?个人?$|只有我|就我自己|我自己|一个人", text.strip()):
        if not re.search(r"\d|[二两三四五六七八九十百]", text):
            return 1
    return parse_number(text)


def parse_months(text: str) -> int | None:
    """Months: 半年 → 6, 一年半 → 18, 三个多月 → 3, 4个月 → 4, 两年 → 24, 大半年 → 6."""
    if not isinstance(text, str) or not text:
        return None
    t = text.translate(_FULLWIDTH)
    if re.search(r"(?<![一二两三四五六七八九十\d])半年", t):
        return 6
    if re.search(r"一整年|整整一年", t):
        return 12
    if m := re.search(rf"({_NUM})\s*(?:个)?(?:多|整)?年(半)?(?:零|又)?(?:({_NUM})\s*(?:多|来)?个(?:多|来)?月)?", t):
        years = _to_number(_lower_bound_range(m.group(1)))
        if years is not None and 0 < years <= _MAX_YEARS_OWED:
            extra = _to_number(m.group(3)) if m.group(3) else 0
            return int(years * 12 + (6 if m.group(2) else 0) + (extra or 0))
    if m := re.search(rf"({_NUM})\s*(?:多|来)?个(?:多|来)?月", t):
        months = _to_number(_lower_bound_range(m.group(1)))
        if months is not None:
            return int(months)
    n = parse_number(t)
    return n if n is not None and n <= _MAX_YEARS_OWED * 12 else None


NUMERIC_ENTITIES = ("amount", "people_count", "months_owed", "monthly_income", "household_size")


def normalise_entity(entity: str, text: str) -> int | str | None:
    """The CONTRACT value of an entity span, or None when the span does not hold one."""
    try:
        if entity in ("amount", "monthly_income"):
            return parse_amount(text)
        if entity in ("people_count", "household_size"):
            return parse_count(text)
        if entity == "months_owed":
            return parse_months(text)
        if entity == "phone":
            return parse_phone(text)
    except Exception:  # the normaliser must never take a conversation down
        return None
    return text


# --- Rule-based extraction of the numeric entities from a whole message -------------------------------------

@dataclass(frozen=True)
class Found:
    entity: str
    start: int
    end: int
    value: int | str
    text: str


_NUMBER_SPAN = (
    rf"(?:\d+(?:\.\d+)?\s*[kKwW](?![a-zA-Z])|万把|千把|{_NUM}(?:[.,]\d+)?)"
)
_MONTHS_RE = re.compile(
    rf"(?:大)?半年(?:多)?|一整年|{_NUMBER_SPAN}\s*(?:个)?(?:多|来)?年(?:半|多)?(?:(?:零|又)?{_NUMBER_SPAN}\s*(?:多|来)?个(?:多|来)?月)?(?:时间)?"
    rf"|{_NUMBER_SPAN}\s*(?:多|来)?个(?:多|来)?月"
)
# "一个月挣1500" and "每个月" speak of income, not of how long wages are owed.
_MONTHS_NOT_OWED = re.compile(r"^(?:才|只|就)?(?:挣|赚|拿|收入|能|都)|^(?:的)?工资(?:才|只|是|有|\d|[一二两三四五六七八九])")
_HOUSEHOLD_RE = re.compile(
    rf"(?:家里|家中|屋里|屋头|一家|全家|家庭)(?:有|共|一共|总共)?\s*({_NUMBER_SPAN}\s*(?:口人|口|个人))"
    rf"|({_NUMBER_SPAN}\s*口人)"
)
# Public service lines citizens name in passing; written bare, they are never amounts.
_SERVICE_NUMBERS = frozenset({"12348", "12345", "12333", "12315", "12328", "110", "119", "120", "122"})
_PEOPLE_RE = re.compile(
    rf"({_NUMBER_SPAN}\s*(?:多|来|几)?(?:个|名|位)?\s*(?:人(?!工(?!资|钱))|工友|兄弟|工人|师傅|老乡|伙计|同事|农民工|民工|员工|姐妹|伙伴))"
    rf"|(?:我们|一共|总共|共)\s*({_NUMBER_SPAN}\s*(?:多|来|几)?(?:个|名|位))"
)
_MONEY_RE = re.compile(
    rf"{_NUMBER_SPAN}\s*(?:多|来|出头|左右)?\s*(?:万|千|百)?\s*(?:元|块钱|块|圆|蚊|米)?"
)
_INCOME_CUE = re.compile(r"(收入|月薪|月入|每个?月|一个月|个月(?:拿|挣|赚)|低保|退休金|养老金|工资(?:才|只有)|月工资|底薪)")
_OWED_CUE = re.compile(r"(欠|拖|差|还没给|没给|没发|没结|讨|要回|结算|工钱|工资款|血汗钱|总共|一共)")
_OWED_VERB = re.compile(r"(欠|拖|差|没给|没发|没结|讨)")
# "每个月800块抚养费": a monthly sum that is owed, not the speaker's income.
_MONTHLY_DUE = re.compile(r"^(?:块|元|块钱)?(?:的)?(?:抚养费|赡养费|扶养费|生活费|房租|租金|利息|月供)")
# "做了五年", "干了两个月": how long someone worked, not how long wages are owed.
_WORKED_FOR = re.compile(r"(?:做|干|工作|上班|上了|待|呆|住|结婚|试用期|打工)了?(?:有|快|差不多|将近|近)?$")


def _overlaps(a: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(a[0] < e and s < a[1] for s, e in spans)


def extract(text: str) -> list[Found]:
    """Numeric entities and phones in a message, each with its normalised value. Never raises."""
    try:
        return _extract(text)
    except Exception:
        return []


def _extract(raw: str) -> list[Found]:
    if not isinstance(raw, str) or not raw:
        return []
    text = raw.translate(_FULLWIDTH)  # one character for one: spans index the raw text too
    found: list[Found] = []
    taken: list[tuple[int, int]] = []

    def add(entity: str, start: int, end: int, value: int | str | None) -> None:
        if value is None or _overlaps((start, end), taken):
            return
        found.append(Found(entity, start, end, value, raw[start:end]))
        taken.append((start, end))

    for phone in phones_in(text, spoken=False):
        add("phone", phone.start, phone.end, phone.digits)
    for m in _HOUSEHOLD_RE.finditer(text):
        g = 1 if m.group(1) else 2
        add("household_size", m.start(g), m.end(g), parse_count(m.group(g)))
    for m in _MONTHS_RE.finditer(text):
        if text[max(0, m.start() - 1) : m.start()] == "每" or _MONTHS_NOT_OWED.search(text[m.end() : m.end() + 4]):
            continue
        if m.group(0) in ("一个月", "1个月") and re.match(r"[\d一二两三四五六七八九十]", text[m.end() : m.end() + 1]):
            continue  # 「一个月一千五」: a monthly rate, not one month owed

        if _WORKED_FOR.search(text[max(0, m.start() - 6) : m.start()]):
            continue
        if re.match(r"\d{4}\s*年", m.group(0)) or re.search(r"年\d{1,2}月", text[m.start() : m.end() + 3]):
            continue  # 2023年, 2023年3月: dates
        add("months_owed", m.start(), m.end(), parse_months(m.group(0)))
    for m in _PEOPLE_RE.finditer(text):
        g = 1 if m.group(1) else 2
        span = m.group(g)
        # "12个人" in "家里12个人" was taken above; "一个人" alone is a count of 1.
        add("people_count", m.start(g), m.end(g), parse_count(span))
    for m in _MONEY_RE.finditer(text):
        span = m.group(0).rstrip()
        if not span or _overlaps((m.start(), m.start() + len(span)), taken):
            continue
        value = parse_amount(span)
        if value is None:
            continue
        has_unit = bool(re.search(r"[万千百元块圆蚊米kKwW]|块钱", span))
        if not has_unit and span.strip() in _SERVICE_NUMBERS \
                and not _OWED_VERB.search(text[max(0, m.start() - 3) : m.start()]):
            continue  # 「能打12348吗」: a hotline, not a sum (「欠我12345」 still is one)
        if not has_unit and re.match(r"\s*(?:年|月|日|号|点|岁|楼|栋|路|层|室|天|周|公里|小时|分)", text[m.start() + len(span):]):
            continue  # 2023年, 3号楼, 40天: dates, addresses and durations, not money
        before = text[max(0, m.start() - 8) : m.start()]
        after = text[m.start() + len(span) : m.start() + len(span) + 4]
        if _INCOME_CUE.search(before) and not _OWED_VERB.search(before[-3:]) and not _MONTHLY_DUE.search(after):
            add("monthly_income", m.start(), m.start() + len(span), value)
        elif has_unit or value >= 100 or _OWED_CUE.search(before) or _OWED_CUE.search(after):
            # A bare small number with no unit and no cue ("第3") is not money.
            if value >= 10 or has_unit:
                add("amount", m.start(), m.start() + len(span), value)
    found.sort(key=lambda f: f.start)
    return found
