"""How the intent classifier reads a message as citizens write it (text_features.intent_input): in simplified
characters and without punctuation, so a question posted in traditional characters or typed as one run-on sentence
gives the features of its simplified, punctuated twin. The model's own answers on such messages are tested in
tests/test_nlu_families.py."""
from __future__ import annotations

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline_nlu.text_features import intent_input, simplified, without_punctuation

TO_TRADITIONAL = opencc.OpenCC("s2t")
READ = {"simplify": True, "drop_punctuation": True, "strip_greeting": True}
QUESTIONS = [
    "老板拖欠我们工资三个月了怎么办",
    "您好，我在工地干活，包工头欠了我两万多块钱，现在人跑了，能要回来吗？",
    "离婚后孩子的抚养费对方一直不给，我该怎么起诉",
    "邻居家装修太吵了，物业也不管，能找谁调解",
    "申请法律援助需要带什么材料",
    "出了车祸对方全责但是保险公司不赔怎么办",
]


@pytest.mark.parametrize("text", QUESTIONS)
def test_a_question_in_traditional_characters_reads_as_its_simplified_original(text: str) -> None:
    written = TO_TRADITIONAL.convert(text)
    assert written != text  # the test is not vacuous: the message really changed script
    assert intent_input(written, **READ) == intent_input(text, **READ)


def test_simplified_text_is_left_as_it_is() -> None:
    for text in QUESTIONS:
        assert simplified(text) == text


PUNCTUATION = list("，,。.！!？?、；;：:…~～（）()【】《》“”\"'-—")
HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(HAN, min_size=1, max_size=8), st.sampled_from(PUNCTUATION)), min_size=1,
                max_size=8))
def test_punctuation_between_clauses_does_not_change_the_reading(clauses: list[tuple[str, str]]) -> None:
    run_on = "".join(words for words, _ in clauses)
    punctuated = "".join(words + mark for words, mark in clauses)
    assert without_punctuation(punctuated) == run_on
    assert intent_input(punctuated, simplify=False, drop_punctuation=True, strip_greeting=False, mask=False) == run_on


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_reading_any_text_never_raises(text: str) -> None:
    assert isinstance(intent_input(text, **READ), str)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=1e-6, max_value=1.0), min_size=2, max_size=25),
       st.floats(min_value=0.2, max_value=3.0))
def test_tempering_keeps_the_ranking_and_sums_to_one(weights: list[float], temperature: float) -> None:
    import numpy as np

    from hotline_nlu.text_features import tempered

    proba = np.array(weights) / sum(weights)
    out = tempered(proba, temperature)
    assert abs(out.sum() - 1.0) < 1e-9
    assert out[int(proba.argmax())] >= out.max() - 1e-12  # the top intent stays on top (ties may swap)
    if temperature < 1 and proba.max() > proba.min() + 1e-6:  # sharper: the top intent gains
        assert out.max() >= proba.max() - 1e-12
    assert np.allclose(tempered(proba, 1.0), proba)
