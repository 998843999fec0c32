"""A greeting in front of a question is cut before the intent classifier reads it (issue 15); nothing else is."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline_nlu.text_features import intent_input, split_greeting


@pytest.mark.parametrize(("text", "greeting", "rest"), [
    ("您好！我在工地干了半年老板不给工资", "您好！", "我在工地干了半年老板不给工资"),
    ("你好请问工资怎么讨", "你好", "请问工资怎么讨"),
    ("律师你好，我想问下社保", "律师你好，", "我想问下社保"),
    ("司法局的同志你好 我来问个事", "司法局的同志你好", "我来问个事"),
    ("老师好 打扰一下 我老公打我", "老师好 打扰一下", "我老公打我"),
    ("喂 在吗 我被车撞了", "喂 在吗", "我被车撞了"),
    ("在吗？老板跑了", "在吗？", "老板跑了"),
    ("hello律师 老板欠薪", "hello律师", "老板欠薪"),
    ("您好，請問勞動仲裁要帶什麼", "您好，", "請問勞動仲裁要帶什麼"),
])
def test_a_greeting_in_front_of_a_question_is_cut(text: str, greeting: str, rest: str) -> None:
    assert split_greeting(text) == (greeting, rest)


@pytest.mark.parametrize("text", ["你好", "您好 在不在", "你好，请问有人在吗", "hi 有人吗", "嗨嗨👋 有人在吗"])
def test_a_message_that_is_only_a_greeting_stays_whole(text: str) -> None:
    _greeting, rest = split_greeting(text)
    assert rest == ""
    assert intent_input(text, mask=False) == text


@pytest.mark.parametrize("text", [
    "好的谢谢", "好久没发工资了", "有人欠我钱不还", "在不同公司上班算不算", "有人没拿到工资", "有没有人知道工伤怎么认定",
    "你好好查查", "您好像搞错了", "老板你好凶", "history of my case", "请问工资怎么讨", "在工地摔伤了",
])
def test_messages_that_do_not_start_with_a_greeting_are_untouched(text: str) -> None:
    assert split_greeting(text) == ("", text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_the_cut_is_a_prefix_and_never_raises(text: str) -> None:
    greeting, rest = split_greeting(text)
    if greeting:
        assert text.startswith(greeting)
        assert rest and rest in text
    else:
        assert rest == text


PARSE = r"""
import asyncio, json, logging, os, sys
os.environ["RASA_TELEMETRY_ENABLED"] = "false"
logging.disable(logging.WARNING)
from rasa.core.agent import Agent

async def main():
    agent = Agent.load(sys.argv[1])
    out = []
    for text in json.loads(sys.argv[2]):
        parsed = await agent.parse_message(text)
        out.append({"intent": parsed["intent"]["name"], "greeting": parsed.get("greeting")})
    print(json.dumps(out, ensure_ascii=False))

asyncio.run(main())
"""


@pytest.mark.rasa
def test_the_trained_model_answers_the_question_behind_a_greeting() -> None:
    import json

    from tests.stack import MODEL, require_model, run_in_rasa

    require_model()
    texts = ["您好！我在工地干了半年老板不给工资，现在人走了钱还能要回来吗", "你好，请问有人在吗", "律师你好 前夫不给抚养费"]
    wage, hello, family = run_in_rasa(PARSE, str(MODEL), json.dumps(texts, ensure_ascii=False), timeout=600)
    assert wage == {"intent": "wage_arrears", "greeting": "您好！"}
    assert hello == {"intent": "greet", "greeting": None}
    assert family == {"intent": "family_dispute", "greeting": "律师你好"}
