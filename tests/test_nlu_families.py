"""The trained model on the families of issue 15, with messages written for this test (in none of data/nlu or the
test sets): a wage claim that mentions leaving, a contract or arbitration is wage_arrears; an errand is out_of_scope
even when it asks what to bring; a neighbour quarrel is mediation, not family_dispute; paperwork for a named legal step
is ask_materials. docs/NLU_LABELS.md settles each of these. An errand may also come out as nlu_fallback ("please
rephrase"): what the issue asks is that it never starts a legal conversation."""
from __future__ import annotations

import pytest

from tests.test_nlu_greeting import PARSE

NOT_LEGAL = {"out_of_scope", "nlu_fallback"}
CASES = [
    ("我从那家快递公司辞职两个月了 当时也没签合同 最后一个月的工资三千八到现在都没打给我 这钱我怎么要", "wage_arrears"),
    ("仲裁裁决公司支付我拖欠的工资 公司还是拖着不给 我要怎样才能拿到这笔工资", "wage_arrears"),
    ("想给我儿子办护照 暑假要出国参加夏令营 要带哪些证件 去哪里办", NOT_LEGAL),
    ("我的个税退税一直显示审核中 都一个月了 这个找谁问", NOT_LEGAL),
    ("楼下邻居嫌我家孩子走路吵 天天拿拖把捅天花板 还在楼道里骂人 物业不管 谁能来调解一下", "mediation"),
    ("申请劳动仲裁讨工资 要准备哪些材料 工资条和打卡记录够不够", "ask_materials"),
]


@pytest.mark.rasa
def test_the_trained_model_labels_the_issue_15_families() -> None:
    import json

    from tests.stack import MODEL, require_model, run_in_rasa

    require_model()
    texts = [text for text, _ in CASES]
    got = [row["intent"] for row in run_in_rasa(PARSE, str(MODEL), json.dumps(texts, ensure_ascii=False), timeout=600)]
    wrong = [(text, intent) for (text, expected), intent in zip(CASES, got, strict=True)
             if intent not in (expected if isinstance(expected, set) else {expected})]
    assert not wrong


@pytest.mark.rasa
def test_the_families_read_the_same_in_traditional_characters() -> None:
    """Questions posted from Hong Kong, Taiwan or abroad: the same messages in traditional characters get the same
    intents (config.yml `simplify`; before it, 5-fold CV on traditional copies of the training data lost 6 points)."""
    import json

    import opencc

    from tests.stack import MODEL, require_model, run_in_rasa

    require_model()
    to_traditional = opencc.OpenCC("s2t")
    texts = [text for text, _ in CASES]
    written = [to_traditional.convert(text) for text in texts]
    assert all(w != t for w, t in zip(written, texts, strict=True))
    rows = run_in_rasa(PARSE, str(MODEL), json.dumps(texts + written, ensure_ascii=False), timeout=600)
    got = [row["intent"] for row in rows]
    assert got[len(texts):] == got[: len(texts)]
