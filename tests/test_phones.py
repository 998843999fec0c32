"""One phone pattern (issue 24): hotline_nlu/phones.py says what a phone number is, and the readers (forms, entity
extractor, handoff call-back), the applicant's validator and the masking of logs and exports agree on it."""
from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from hotline.flows.answers import phone_in
from hotline.privacy import mask_text
from hotline_nlu.numbers import extract
from hotline_nlu.phones import NLU_HINTS, find_phone, parse_phone, whole_phone

SPOKEN = dict(zip("0123456789", "零一二三四五六七八九", strict=True))
FULL = str.maketrans("0123456789", "０１２３４５６７８９")

mobiles = st.builds(lambda second, rest: "1" + second + rest, st.sampled_from("3456789"),
                    st.text("0123456789", min_size=9, max_size=9))
landlines = st.builds(lambda area, local: "0" + area + local, st.text("0123456789", min_size=2, max_size=3),
                      st.text("0123456789", min_size=7, max_size=8))
# Words around a number that hold no digit (a digit beside it would make a longer number, not this phone).
words = st.text(st.sampled_from("我的电话是号码请打给联系人微信，。 ：:abcXYZ（）()"), max_size=8)


def _spaced(digits: str, cuts: list[int], sep: str) -> str:
    out = digits
    for cut in sorted(set(cuts), reverse=True):
        out = out[:cut] + sep + out[cut:]
    return out


@st.composite
def written_mobile(draw: st.DrawFn) -> tuple[str, str]:
    digits = draw(mobiles)
    cuts = draw(st.lists(st.integers(3, 10), max_size=3))  # a dash or space after any digit from the third on
    shown = _spaced(digits, cuts, draw(st.sampled_from(["-", " "])))
    shown = draw(st.sampled_from(["", "+86", "+86 ", "86-"])) + shown
    return (shown.translate(FULL) if draw(st.booleans()) else shown), digits


@st.composite
def written_landline(draw: st.DrawFn) -> tuple[str, str]:
    digits = draw(landlines)
    area = 4 if len(digits) == 12 or (len(digits) == 11 and draw(st.booleans())) else 3
    sep = draw(st.sampled_from(["", "-", " "]))
    return digits[:area] + sep + digits[area:], digits


@st.composite
def spoken(draw: st.DrawFn) -> tuple[str, str]:
    digits = draw(mobiles | landlines)
    said = "".join(SPOKEN[d] if draw(st.booleans()) else d for d in digits)
    return (said.replace("一", "幺", 1) if draw(st.booleans()) else said), digits


@given(words, written_mobile() | written_landline() | spoken(), words)
def test_what_the_readers_read_the_mask_hides(before: str, phone: tuple[str, str], after: str) -> None:
    shown, digits = phone
    text = before + shown + after
    assert find_phone(text) == digits  # reading: the forms (phone_in), the call-back number
    masked = mask_text(text)
    assert masked is not None and find_phone(masked) is None  # masking: nothing left a reader takes for a phone
    assert masked.startswith(before) and masked.endswith(after) and "****" in masked  # the words around stay
    shown_digits = re.sub(r"\D", "", masked[len(before):len(masked) - len(after)])
    assert len(shown_digits) <= 8 and digits.endswith(shown_digits[-4:])  # area code or 3 digits, and the last 4


@given(st.text(st.sampled_from("0123456789０１ 一二三幺零-+86号码电话是，"), max_size=40))
def test_after_masking_no_reader_finds_a_phone(text: str) -> None:
    masked = mask_text(text)
    assert find_phone(masked or "") is None, masked


@given(written_mobile() | written_landline())
def test_the_entity_extractor_reads_the_same_number(phone: tuple[str, str]) -> None:
    shown, digits = phone
    found = [f for f in extract(f"电话{shown}谢谢") if f.entity == "phone"]
    assert [f.value for f in found] == [digits]


@given(st.sampled_from(NLU_HINTS).flatmap(
    lambda hint: st.from_regex(re.sub(r"\\d", "[0-9]", hint.replace(r"(?<!\d)", "").replace(r"(?!\d)", "")),
                               fullmatch=True)))
def test_every_nlu_hint_is_a_phone_the_readers_read(hinted: str) -> None:
    assert parse_phone(hinted) is not None


def test_the_shapes_read_and_masked() -> None:
    assert phone_in("我的电话是一三九七七二一二三四五") == "13977212345"
    assert phone_in("幺三九 7721 2345") == "13977212345"
    assert mask_text("电话139-7721-2345，座机0772-2812345") == "电话139****2345，座机0772-****2345"
    assert mask_text("打+86 139 7721 2345") == "打139****2345"
    assert mask_text("号码一三九七七二一二三四五") == "号码139****2345"  # said in words: read, so masked too
    assert mask_text("身份证450202199001011234") == "身份证450202********1234"
    assert mask_text("欠了35000元，12个人") == "欠了35000元，12个人"


def test_a_form_answer_is_one_phone_and_nothing_else() -> None:
    assert whole_phone("139-7721-2345") == whole_phone("13977212345") == "13977212345"
    assert whole_phone("0772—2812345") == "07722812345"  # the dash a Chinese keyboard gives
    assert whole_phone("+8613977212345") == "13977212345"
    for not_one in ("1397721234", "12977212345", "电话13977212345", "13977212345 0772-2812345", "", "12348"):
        assert whole_phone(not_one) is None, not_one


def test_a_landline_without_a_dash_is_an_entity_too() -> None:
    # The extractor used to want 0772-…; the forms always read 07722812345 as a phone: now both do.
    assert [f.value for f in extract("座机07722812345") if f.entity == "phone"] == ["07722812345"]
