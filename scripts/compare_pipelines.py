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
# The DIET pipelines take 10+ minutes each on 2 cores; when they are left out, say what they measured last.
DIET_NOT_RERUN = """Not rerun here: DIET (configs/experiments/diet_100.yml, tfidf_diet_entities.yml). On 2026-11-27, on 2,544
training examples, DIET for intents and entities scored intent accuracy 0.936 in 7 min 22 s of NLU training; DIET for
entities only took 11 min and extracted worse values than the CRF + rules (holdout entity value accuracy 0.9365 against
0.9841), so DIET is not in config.yml. Rerun them by name: `compare_pipelines.py diet_100 tfidf_diet_entities`.
"""


def run(name: str) -> dict:
    config = ROOT / "configs" / "experiments" / f"{name}.yml"
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    t0 = time.perf_counter()
    subprocess.run([str(BIN / "rasa"), "train", "nlu", "--config", str(config), "--nlu", "data/nlu", "--out",
                    str(OUT), "--fixed-model-name", name, "--num-threads", "2"],
                   cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    train_s = time.perf_counter() - t0
    reports = {}
    for test_set, files in (("dev", sorted(ROOT.glob("tests/nlu/*.yml"))),
                            ("holdout", sorted(ROOT.glob("tests/nlu_holdout/*.yml")))):
        subprocess.run([sys.executable, "scripts/eval_nlu.py", "--model", str(OUT / f"{name}.tar.gz"), "--test",
                        *map(str, files), "--out", str(OUT), "--name", f"{name}_{test_set}"],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        reports[test_set] = json.loads((OUT / f"{name}_{test_set}.json").read_text())
    return {"name": name, "train_s": round(train_s, 1), **reports}


def main() -> None:
    names = sys.argv[1:] or sorted(p.stem for p in (ROOT / "configs" / "experiments").glob("*.yml"))
    rows = []
    for name in names:
        print(f"training {name} ...", flush=True)
        rows.append(run(name))
        r = rows[-1]
        print(f"  holdout intent acc {r['holdout']['model_intent']['accuracy']}  "
              f"entity {r['holdout']['entities']['value_accuracy']}  train {r['train_s']} s", flush=True)
    first = rows[0]
    lines = ["# NLU pipelines compared", "",
             (f"Same training data ({first['dev']['train_examples']} examples). Two test sets: dev "
              f"({first['dev']['test_examples']} utterances, tests/nlu — its errors guided the data work) and "
              f"holdout ({first['holdout']['test_examples']} utterances, tests/nlu_holdout — written blind). "
              "NLU only; `rasa train nlu` wall time on this machine (2 cores, shared)."), "",
             ("| pipeline | dev intent acc | dev macro-F1 | holdout intent acc | holdout macro-F1 | "
              "holdout entity value acc | parse p50 ms | train s |"), "|---|---|---|---|---|---|---|---|"]
    for label, key in (("baseline: sklearn TF-IDF char_wb 1–3 + LR", "baseline_intent"),):
        d, h = first["dev"][key], first["holdout"][key]
        lines.append(f"| {label} | {d['accuracy']} | {d['macro_f1']} | {h['accuracy']} | {h['macro_f1']} | – | – | – |")
    for r in rows:
        d, h = r["dev"]["model_intent"], r["holdout"]["model_intent"]
        lines.append(f"| {r['name']} | {d['accuracy']} | {d['macro_f1']} | {h['accuracy']} | {h['macro_f1']} | "
                     f"{r['holdout']['entities']['value_accuracy']} | {r['holdout']['parse_ms']['p50']} | "
                     f"{r['train_s']} |")
    lines[2] = f"Measured {time.strftime('%Y-%m-%d')}. " + lines[2]
    text = "\n".join(lines) + "\n\nConfigs: configs/experiments/. Rerun: `.venv-rasa/bin/python scripts/compare_pipelines.py`.\n"
    if not any(name.startswith("diet") or "diet" in name for name in names):
        text += "\n" + DIET_NOT_RERUN
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "pipelines.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
