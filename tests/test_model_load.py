"""The model loads without training anything (issue 13: model load): Rasa's CRF entity extractor used to retrain its
CRF from the stored training set on every load; hotline_nlu.crf.StoredCRFEntityExtractor keeps the trained taggers.
Loaded as `rasa run` loads it, its objects are frozen out of the garbage collector (hotline_rasa.speedups)."""
from __future__ import annotations

import json

import pytest

from tests.stack import MODEL, require_model, run_in_rasa

LOAD = r"""
import asyncio, gc, json, sys, types
from hotline_rasa import speedups as rasa_speedups
from rasa.core import run
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor

def refuse(*args, **kwargs):
    raise AssertionError("the CRF was trained while loading the model")

CRFEntityExtractor.train_model = classmethod(refuse)
rasa_speedups.apply(["frozen_model_objects"])
app = types.SimpleNamespace(ctx=types.SimpleNamespace())
agent = asyncio.run(run.load_agent_on_start(sys.argv[1], None, None, app, None))  # as `rasa run` loads it
out = [gc.get_freeze_count()]
for text in json.loads(sys.argv[2]):
    parsed = asyncio.run(agent.parse_message(text))
    out.append([[e["entity"], e.get("value"), e.get("extractor")] for e in parsed["entities"]])
print(json.dumps(out, ensure_ascii=False))
"""


@pytest.mark.rasa
def test_the_model_loads_without_training_its_crf_and_still_finds_employers() -> None:
    require_model()
    texts = ["包工头老李欠我们工钱", "恒通建筑公司拖欠工资三个月"]
    frozen, first, second = run_in_rasa(LOAD, str(MODEL), json.dumps(texts, ensure_ascii=False), timeout=600)
    assert frozen > 100_000  # the loaded model's objects are out of the garbage collector's sight
    assert any(e[0] == "employer" and e[2] == "StoredCRFEntityExtractor" for e in first + second)  # the CRF found it
    assert any(e[0] == "employer" and "恒通" in str(e[1]) for e in second)
