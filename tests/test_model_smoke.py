"""The trained model, served by the real Rasa server, understands one plain sentence of every intent."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.stack import Stack, running_stack

pytestmark = pytest.mark.rasa

ONE_PER_INTENT = {
    "greet": "你好，请问有人在吗",
    "goodbye": "好的那我先走了，再见",
    "thank": "太感谢你们了",
    "affirm": "是的",
    "deny": "没有",
    "bot_challenge": "你是机器人吗",
    "request_human": "转人工",
    "wage_arrears": "包工头跑了，工钱没给",
    "work_injury": "在工地摔伤了老板不管",
    "labor_dispute": "没签劳动合同",
    "legal_aid": "请不起律师怎么办",
    "find_advisor": "我们社区的法律顾问是谁",
    "mediation": "邻居漏水想找人调解",
    "family_dispute": "前夫不给抚养费",
    "traffic_accident": "骑电动车被车撞了",
    "other_legal_question": "朋友借钱不还",
    "ask_materials": "要带什么材料",
    "ask_office": "司法所几点上班",
    "inform": "欠了两万多",
    "out_of_scope": "今天天气怎么样",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp: Path = tmp_path_factory.mktemp("smoke")
    with running_stack(tmp, f"sqlite:///{tmp / 'smoke.db'}", with_actions=False) as s:
        yield s


def parse(stack: Stack, text: str) -> dict:
    response = httpx.post(f"{stack.rasa_url}/model/parse", json={"text": text}, params={"token": stack.rasa_token},
                          timeout=30)
    response.raise_for_status()
    return response.json()


@pytest.mark.parametrize(("intent", "text"), ONE_PER_INTENT.items(), ids=list(ONE_PER_INTENT))
def test_one_sentence_of_each_intent(stack: Stack, intent: str, text: str) -> None:
    assert parse(stack, text)["intent"]["name"] == intent


def test_entities_come_out_normalised(stack: Stack) -> None:
    result = parse(stack, "水上那边包工头欠我们12个工友三万五，拖了半年了")
    values = {(e["entity"], e["value"]) for e in result["entities"]}
    assert {("street", "沿江街道"), ("people_count", 12), ("amount", 35000), ("months_owed", 6)} <= values


@pytest.mark.parametrize(("text", "not_expected"), [
    ("城中区法援中心在哪条路", "street"),  # the district, not 城中街道
    ("东台社区的法律顾问叫什么", "employer"),  # a question word
    ("外地手机能打12348吗", "amount"),  # a hotline number
])
def test_look_alikes_are_not_entities(stack: Stack, text: str, not_expected: str) -> None:
    assert not_expected not in {e["entity"] for e in parse(stack, text)["entities"]}
