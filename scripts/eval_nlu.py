"""Score the trained NLU model on the held-out test set, beside a TF-IDF + logistic-regression baseline.

    .venv-rasa/bin/python scripts/eval_nlu.py --model models/current.tar.gz   (make eval)

Test utterances live in tests/nlu/*.yml, written separately from data/nlu (a check below refuses overlap).
Writes reports/nlu_eval.md and reports/nlu_eval.json: intent accuracy, macro-F1, the confusion pairs, entity value
accuracy (normalised values, not raw spans) and the baseline trained on the same data.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent


def pipeline_entry(name: str) -> dict:
    """The settings config.yml gives the pipeline component whose name ends with `name` (e.g. "FallbackClassifier")."""
    import yaml

    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    return next(c for c in pipeline if c["name"].endswith(name))


def fallback_threshold() -> float:
    """FallbackClassifier's threshold in config.yml: the one the ambiguity sweep is read at."""
    return float(pipeline_entry("FallbackClassifier")["threshold"])


def load_examples(paths: list[Path]) -> list[dict]:
    """[{text, intent, entities: [(entity, value)]}] from Rasa NLU YAML files."""
    from rasa.shared.nlu.training_data.loading import load_data

    out = []
    for path in paths:
        for m in load_data(str(path)).intent_examples:
            ents = [(e["entity"], str(e.get("value", ""))) for e in m.get("entities", []) or []]
            out.append({"text": m.get("text"), "intent": m.get("intent"), "entities": ents})
    return out


def baseline(train: list[dict], test: list[dict]) -> list[str]:
    """The reference the model must beat: plain TF-IDF (char_wb 1–3, sublinear tf) + logistic regression."""
    import hashlib

    import joblib
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts, labels = [e["text"] for e in train], [e["intent"] for e in train]
    # The same peer for every test set of one `make eval`: fitted once per training data, kept beside the models.
    key = hashlib.sha256(json.dumps([texts, labels], ensure_ascii=False).encode()).hexdigest()[:16]
    cached = ROOT / "models" / "nlu" / f"peer-{key}.joblib"
    try:
        model = joblib.load(cached)
    except (OSError, EOFError, ValueError):
        model = make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True),
                              LogisticRegression(max_iter=2000))
        model.fit(texts, labels)
        cached.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(model, cached)
    return list(model.predict([e["text"] for e in test]))


def intent_scores(gold: list[str], pred: list[str]) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    pairs = Counter((g, p) for g, p in zip(gold, pred, strict=True) if g != p)
    return {
        "accuracy": round(accuracy_score(gold, pred), 4),
        # Averaged over the real intents: nlu_fallback is an answer, not a class of the test set.
        "macro_f1": round(f1_score(gold, pred, labels=sorted(set(gold)), average="macro", zero_division=0), 4),
        "confusions": [{"gold": g, "predicted": p, "count": n} for (g, p), n in pairs.most_common()],
    }


def entity_scores(test: list[dict], predicted: list[list[tuple[str, str]]]) -> dict:
    expected_total = found_total = correct = predicted_total = 0
    misses: list[dict] = []
    extras: list[dict] = []
    for ex, pred in zip(test, predicted, strict=True):
        pred_left = list(pred)
        predicted_total += len(pred)
        for ent in ex["entities"]:
            expected_total += 1
            if ent in pred_left:
                correct += 1
                pred_left.remove(ent)
            else:
                misses.append({"text": ex["text"], "expected": ent, "predicted": pred})
        found_total += len(pred) - len(pred_left)
        # What was predicted but not expected at all: a wrong value of an expected entity is already a miss.
        expected_types = {ent[0] for ent in ex["entities"]}
        spurious = [p for p in pred_left if p[0] not in expected_types]
        if spurious:
            extras.append({"text": ex["text"], "spurious": spurious})
    return {
        "expected": expected_total,
        "value_accuracy": round(correct / expected_total, 4) if expected_total else None,
        "precision": round(found_total / predicted_total, 4) if predicted_total else None,
        "misses": misses,
        "extras": extras,
    }


async def parse_all(model: Path, texts: list[str]) -> tuple[list[dict], list[float]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    results, times = [], []
    for text in texts:
        t0 = time.perf_counter()
        results.append(await agent.parse_message(text))
        times.append((time.perf_counter() - t0) * 1000)
    return results, times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "current.tar.gz")
    parser.add_argument("--train", type=Path, nargs="*", default=sorted((ROOT / "data" / "nlu").rglob("*.yml")))
    parser.add_argument("--test", type=Path, nargs="*", default=sorted((ROOT / "tests" / "nlu").glob("*.yml")))
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    parser.add_argument("--name", default="nlu_eval")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)

    train, test = load_examples(args.train), load_examples(args.test)
    overlap = {e["text"] for e in train} & {e["text"] for e in test}
    if overlap:
        print(f"test set overlaps training data: {sorted(overlap)[:10]}", file=sys.stderr)
        return 2
    results, times = asyncio.run(parse_all(args.model, [e["text"] for e in test]))
    gold = [e["intent"] for e in test]
    pred = [r["intent"]["name"] for r in results]
    pred_entities = [[(e["entity"], str(e.get("value"))) for e in r.get("entities", [])] for r in results]
    # The classifier's own top intent, before FallbackClassifier: how many right answers a threshold eats.
    top = [next((i for i in r.get("intent_ranking", []) if i["name"] != "nlu_fallback"), r["intent"])
           for r in results]
    sweep = {}
    for threshold in (0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5):
        swept = [t["name"] if t["confidence"] >= threshold else "nlu_fallback" for t in top]
        sweep[str(threshold)] = round(sum(g == p for g, p in zip(gold, swept, strict=True)) / len(gold), 4)
    # The ambiguity rule at the configured threshold: a fallback too when the top two intents are within the margin.
    configured = fallback_threshold()
    ranked = [[i for i in r.get("intent_ranking", []) if i["name"] != "nlu_fallback"] for r in results]
    margins = [rk[0]["confidence"] - rk[1]["confidence"] if len(rk) > 1 else 1.0 for rk in ranked]
    ambiguity = {}
    for margin in (0.0, 0.01, 0.03):
        swept = [t["name"] if t["confidence"] >= configured and m >= margin else "nlu_fallback"
                 for t, m in zip(top, margins, strict=True)]
        ambiguity[str(margin)] = round(sum(g == p for g, p in zip(gold, swept, strict=True)) / len(gold), 4)
    report = {
        "model": str(args.model.relative_to(ROOT) if args.model.is_relative_to(ROOT) else args.model),
        "test_files": [str(p.resolve().relative_to(ROOT) if p.resolve().is_relative_to(ROOT) else p) for p in args.test],
        "train_examples": len(train),
        "test_examples": len(test),
        "intents": len(set(gold)),
        "model_intent": intent_scores(gold, pred),
        "baseline_intent": intent_scores(gold, baseline(train, test)),
        "accuracy_by_fallback_threshold": sweep,
        "fallback_threshold": configured,
        "accuracy_by_ambiguity_threshold": ambiguity,
        "entities": entity_scores(test, pred_entities),
        "parse_ms": {"p50": round(statistics.median(times), 2),
                     "p95": round(sorted(times)[int(0.95 * (len(times) - 1))], 2)},
        "errors": [{"text": e["text"], "gold": e["intent"], "predicted": p,
                    "confidence": round(r["intent"]["confidence"], 3)}
                   for e, p, r in zip(test, pred, results, strict=True) if e["intent"] != p],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    (args.out / f"{args.name}.md").write_text(render(report), encoding="utf-8")
    print(render(report))
    return 0


def render(r: dict) -> str:
    m, b, e = r["model_intent"], r["baseline_intent"], r["entities"]
    lines = [
        "# NLU evaluation", "",
        (f"Model `{r['model']}`; {r['train_examples']} training examples; {r['test_examples']} test utterances "
         f"over {r['intents']} intents ({', '.join(r['test_files'])}; never in training)."), "",
        "| | intent accuracy | macro-F1 |", "|---|---|---|",
        f"| model | {m['accuracy']:.4f} | {m['macro_f1']:.4f} |",
        f"| baseline: TF-IDF char_wb 1–3 + logistic regression | {b['accuracy']:.4f} | {b['macro_f1']:.4f} |", "",
        "Accuracy if FallbackClassifier's threshold were: "
        + ", ".join(f"{k} → {v}" for k, v in r["accuracy_by_fallback_threshold"].items()) + ".", "",
        f"At the configured threshold {r.get('fallback_threshold')}, if its ambiguity_threshold were: "
        + ", ".join(f"{k} → {v}" for k, v in r.get("accuracy_by_ambiguity_threshold", {}).items()) + ".", "",
        (f"Entity value accuracy (normalised values): {e['value_accuracy']} over {e['expected']} expected entities; "
         f"precision {e['precision']}."), "",
        f"Parse time per message (in process): p50 {r['parse_ms']['p50']} ms, p95 {r['parse_ms']['p95']} ms.", "",
        "## Confusion pairs (model)", "",
    ]
    lines += [f"- {c['gold']} → {c['predicted']}: {c['count']}" for c in m["confusions"]] or ["- none"]
    lines += ["", "## Intent errors (model)", ""]
    lines += [f"- 「{x['text']}」 {x['gold']} → {x['predicted']} ({x['confidence']})" for x in r["errors"]] or ["- none"]
    lines += ["", "## Entity misses", ""]
    lines += [f"- 「{x['text']}」 expected {x['expected']}, got {x['predicted']}" for x in e["misses"]] or ["- none"]
    lines += ["", "## Entities predicted where none of that type was expected", ""]
    lines += [f"- 「{x['text']}」 {x['spurious']}" for x in e["extras"]] or ["- none"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
