"""Train every NLU pipeline of configs/experiments/ and score each on the test set: the measurement behind config.yml.

    .venv-rasa/bin/python scripts/compare_pipelines.py [NAME ...]

For each config: `rasa train nlu` (wall time), then scripts/eval_nlu.py. Writes reports/pipelines.md with intent
accuracy, macro-F1, entity value accuracy, parse p50 and training time side by side.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
OUT = Path("/tmp/hotline-pipelines")


def run(name: str) -> dict:
    config = ROOT / "configs" / "experiments" / f"{name}.yml"
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    t0 = time.perf_counter()
    subprocess.run([str(BIN / "rasa"), "train", "nlu", "--config", str(config), "--nlu", "data/nlu", "--out",
                    str(OUT), "--fixed-model-name", name, "--num-threads", "2"],
                   cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    train_s = time.perf_counter() - t0
    subprocess.run([sys.executable, "scripts/eval_nlu.py", "--model", str(OUT / f"{name}.tar.gz"),
                    "--out", str(OUT), "--name", name], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    report = json.loads((OUT / f"{name}.json").read_text())
    return {"name": name, "train_s": round(train_s, 1), **report}


def main() -> None:
    names = sys.argv[1:] or sorted(p.stem for p in (ROOT / "configs" / "experiments").glob("*.yml"))
    rows = []
    for name in names:
        print(f"training {name} ...", flush=True)
        rows.append(run(name))
        r = rows[-1]
        print(f"  intent acc {r['model_intent']['accuracy']}  entity {r['entities']['value_accuracy']}  "
              f"train {r['train_s']} s", flush=True)
    base = rows[0]["baseline_intent"]
    lines = ["# NLU pipelines compared", "",
             f"Same training data ({rows[0]['train_examples']} examples) and test set ({rows[0]['test_examples']} "
             "utterances, tests/nlu). NLU only; `rasa train nlu` wall time on this machine (2 cores).", "",
             "| pipeline | intent accuracy | macro-F1 | entity value accuracy | parse p50 ms | train s |",
             "|---|---|---|---|---|---|",
             f"| baseline: sklearn TF-IDF char_wb 1–3 + LR | {base['accuracy']} | {base['macro_f1']} | – | – | – |"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['model_intent']['accuracy']} | {r['model_intent']['macro_f1']} | "
                     f"{r['entities']['value_accuracy']} | {r['parse_ms']['p50']} | {r['train_s']} |")
    text = "\n".join(lines) + "\n\nConfigs: configs/experiments/. Rerun: `.venv-rasa/bin/python scripts/compare_pipelines.py`.\n"
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "pipelines.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
