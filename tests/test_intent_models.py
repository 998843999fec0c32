"""The intent classifier's fast inference (text_features.AveragedTextModel) gives scikit-learn's own probabilities.

scikit-learn lives only in .venv-rasa, so the check runs there as a subprocess.
"""
from __future__ import annotations

import json
import subprocess

import pytest

from tests.stack import ROOT

pytestmark = pytest.mark.rasa

PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

CHECK = r"""
import json
import numpy as np
from hotline_nlu.text_features import AveragedTextModel, build_intent_models

texts = ["老板欠我工资", "包工头跑了 工钱没给", "工资拖了三个月", "在工地摔伤了", "干活时手被机器压了",
         "算工伤吗", "请不起律师", "能申请法律援助吗", "免费律师怎么申请"]
labels = ["wage"] * 3 + ["injury"] * 3 + ["aid"] * 3
config = {"char_min_ngram": 1, "char_max_ngram": 4, "word_max_ngram": 2, "use_words": True, "use_pinyin": True,
          "C": 20.0, "chars_weight": 0.3, "chars_max_ngram": 3}
models = [(w, p.fit(texts, labels)) for w, p in build_intent_models(config)]
fast = AveragedTextModel(models)
probe = ["工钱还没结 老板跑路咯", "从脚手架上摔下来了", "没钱请律师咋个办", "", "🙂"]
expected = sum(w * p.predict_proba(probe) for w, p in models)
got = np.array([fast.predict_proba(t) for t in probe])
print(json.dumps({"weights": [w for w, _ in models], "classes": fast.classes,
                  "max_diff": float(np.abs(expected - got).max()), "sums": got.sum(axis=1).tolist(),
                  "top": [fast.classes[i] for i in got.argmax(axis=1)[:3]]}))
"""


def test_fast_inference_matches_sklearn() -> None:
    if not PYTHON.exists():
        pytest.skip("no .venv-rasa (make setup)")
    out = subprocess.run([str(PYTHON), "-c", CHECK], capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["weights"] == [0.7, 0.3]
    assert result["classes"] == ["aid", "injury", "wage"]
    assert result["max_diff"] < 1e-9
    assert all(abs(s - 1.0) < 1e-9 for s in result["sums"])
    assert result["top"] == ["wage", "injury", "aid"]
