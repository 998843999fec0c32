"""What a phone number is, in one place: the Rasa entity extractor, the forms' readers, the applicant's validator,
the call-back number of a handoff and the masking of logs and exports all use these patterns (issue 24).

Here, the lowest floor, because both environments read it: Rasa's (which cannot import `hotline`) and the app's.
Full-width digits count as digits (narrowed one for one, so spans index the text as given).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_NARROW = str.maketrans("０１２３４５６７８９", "0123456789")
_SPOKEN = str.maketrans("零〇一二三四五六七八九幺", "001234567891")

# A mainland mobile: 11 digits from 13x to 19x, spaced or dashed anyhow (139-7721-2345, 139 7721 2345), maybe +86.
MOBILE_NUMBER = r"1[3-9]\d(?:[- ]?\d){8}"
MOBILE = re.compile(rf"(?<!\d)(?:\+?86[- ]?)?({MOBILE_NUMBER})(?!\d)")
# A landline: 0, a 2-3 digit area code, then 7-8 digits (0772-2812345, 0772 281 2345, 07722812345).
LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[- ]?(\d{3,4}[- ]?\d{4})(?!\d)")
# Digits said in words (「幺三八七七二一五六八八」), Arabic ones mixed in: a run that is a phone when its digits are
# (ten characters at least: the shortest landline, 010 and seven digits).
_SPOKEN_RUN = re.compile(r"[零〇一二三四五六七八九幺\d][零〇一二三四五六七八九幺\d\s-]{8,}[零〇一二三四五六七八九幺\d]")

# The regex features Rasa's featurizer is trained with (data/nlu/generated/roster.yml, written by
# scripts/gen_nlu_lookups.py): hints that a span is a phone, each narrower than what parse_phone reads
# (tests/test_phones.py). Changing them changes the training data: retrain.
NLU_HINTS = (rf"(?<!\d)(?:\+?86[- ]?)?{MOBILE_NUMBER}(?!\d)", r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")


@dataclass(frozen=True)
class Phone:
    """One phone number in a text: where it stands, its digits, and what a mask leaves in the clear before ****."""

    start: int
    end: int
    digits: str
    kind: str  # mobile | landline | spoken (a mobile or landline said in words)
    prefix: str  # mobile: its first 3 digits; landline: the area code

    @property
    def masked(self) -> str:
        """138****5678; 0772-****2345."""
        return self.prefix + ("-****" if self.kind == "landline" else "****") + self.digits[-4:]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _overlaps(start: int, end: int, found: list[Phone]) -> bool:
    return any(start < p.end and p.start < end for p in found)


def _written(text: str) -> list[Phone]:
    t = text.translate(_NARROW)
    found: list[Phone] = []
    for m in MOBILE.finditer(t):
        digits = _digits(m.group(1))
        found.append(Phone(m.start(), m.end(), digits, "mobile", digits[:3]))
    for m in LANDLINE.finditer(t):
        if not _overlaps(m.start(), m.end(), found):
            found.append(Phone(m.start(), m.end(), _digits(m.group(0)), "landline", m.group(1)))
    return found


def phones_in(text: str, *, spoken: bool = True) -> list[Phone]:
    """Every phone number in the text, mobiles first, then landlines, then (with `spoken`) numbers said in words;
    never two over the same characters."""
    if not isinstance(text, str) or not text:
        return []
    found = _written(text)
    if spoken:
        for m in _SPOKEN_RUN.finditer(text.translate(_NARROW)):
            if _overlaps(m.start(), m.end(), found):
                continue
            inner = _written(_digits(m.group(0).translate(_SPOKEN)))
            if inner:
                found.append(Phone(m.start(), m.end(), inner[0].digits, "spoken", inner[0].prefix))
    return found


def parse_phone(text: str) -> str | None:
    """Digits only: 139-7721-2345 → 13977212345; 0772-2812345 → 07722812345. A mobile before a landline; None
    unless the text holds one written in digits."""
    found = phones_in(text, spoken=False)
    return found[0].digits if found else None


def find_phone(text: str) -> str | None:
    """parse_phone, else a number said in words (「一三八七七二一五六八八」 → 13877215688)."""
    found = phones_in(text)
    return found[0].digits if found else None


def whole_phone(text: str) -> str | None:
    """The digits when the whole text is one phone number (a form's answer to "your phone?"), else None."""
    t = re.sub(r"[－—–]", "-", str(text or "").translate(_NARROW)).strip()
    found = phones_in(t, spoken=False)
    return found[0].digits if len(found) == 1 and (found[0].start, found[0].end) == (0, len(t)) else None
