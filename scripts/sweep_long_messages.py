"""Which intent features help on long messages and on greetings in front of a question: 5-fold CV on TRAINING data.

    .venv-rasa/bin/python scripts/sweep_long_messages.py [--variants NAME ...] [--out reports/nlu_sweep_long.md]

Every variant is scored on the same stratified folds of data/nlu, on three slices of the held-out folds:
- all: every training example, as it is;
- long: examples of 40 characters or more (the register of questions typed into legal Q&A sites), and of 60+;
- greeted: every example of a topic intent (not small talk, not `inform`) with a greeting put in front of it
  ("您好！", "律师你好，" …), the way citizens open a question. A few of the greetings are forms that
  text_features.split_greeting does not know, so the slice also shows what happens when the cut misses.
No test set is read. Pure scikit-learn, no Rasa training. The variants:
- peer: the baseline of scripts/eval_nlu.py (TF-IDF char_wb 1–3 + logistic regression on the raw text);
- today: the classifier as configured before greetings were cut (strip_greeting off);
- strip: trained on the whole messages, reading each message in use without its leading greeting
  (split_greeting) — what the component does;
- strip-if-greet: the whole message first; only when that reads as `greet` and a greeting was cut, the rest,
  whose intent wins if it is surer than the whole message's `greet`;
- strip-both: the greeting cut in training too. Measured slow: SAGA stops converging on the full model (cut
  greetings leave look-alike texts under different intents) and a training runs for most of an hour;
- augment: no cut, but every topic example is also trained once with a greeting in front (the classifier learns
  to look past greetings; the greetings used are not the ones of the greeted slice);
- strip-no-pinyin, strip-no-words, strip-chars-1-3, strip-unweighted (class_weight None), strip-no-second
  (each read as the component reads: the cut text only when the whole reads greet, like strip-if-greet)
  (no characters-only second opinion), strip-tail (character 1–3-grams of the last 20 characters as an extra
  block: the ask of a long story comes last), strip-calibrated (sigmoid calibration of each LR, 3 inner folds),
  strip-C10 / strip-C50 (the logistic regressions' C, 20 configured).
"""
from __future__ import annotations

import argparse
import functools
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

SMALL_TALK = {"greet", "goodbye", "thank", "affirm", "deny", "inform", "bot_challenge"}
# Greetings put in front of held-out examples. The last four are not forms split_greeting cuts.
TEST_GREETINGS = ["您好！", "你好，请问", "律师你好，", "你好 ", "老师您好！", "您好，打扰一下，", "在吗？", "喂 你好 ",
                  "同志你好 ", "早上好，", "hello ", "你们好！", "尊敬的领导：", "律师同志，", "亲，", "打扰各位了 "]
# Greetings for the augment variant's extra training copies: different from the ones it is scored on.
TRAIN_GREETINGS = ["你好！", "您好 ", "律师您好 ", "在不在 ", "哈喽 ", "老师你好，", "晚上好 ", "你好你好 ", "喂 ",
                   "工作人员你好，"]
VARIANTS = ["peer", "today", "strip", "strip-if-greet", "strip-both", "augment", "strip-no-pinyin", "strip-no-words", "strip-chars-1-3",
            "strip-unweighted", "strip-no-second", "strip-tail", "strip-calibrated", "strip-C10", "strip-C50"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=VARIANTS, choices=VARIANTS)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "nlu_sweep_long.md")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    import numpy as np
    from eval_nlu import load_examples
    from sklearn.model_selection import StratifiedKFold
    from sweep_intent_features import configured

    from hotline_nlu import text_features

    # Jieba and pinyin once per distinct text, not once per fold and variant.
    text_features.jieba_tokens = functools.lru_cache(maxsize=None)(text_features.jieba_tokens)
    text_features.pinyin_tokens = functools.lru_cache(maxsize=None)(text_features.pinyin_tokens)
    train = load_examples(sorted((ROOT / "data" / "nlu").rglob("*.yml")))
    texts = [e["text"] for e in train]
    y = np.array([e["intent"] for e in train])
    places, aliases = roster()
    base = {**configured(), "strip_greeting": False}
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(texts, y))
    lengths = np.array([len(t) for t in texts])
    topic = np.array([label not in SMALL_TALK for label in y])
    greeted = [TEST_GREETINGS[i % len(TEST_GREETINGS)] + t for i, t in enumerate(texts)]
    rows = []
    for name in args.variants:
        start = time.perf_counter()
        pred, pred_greeted = np.empty(len(y), dtype=object), np.empty(len(y), dtype=object)
        for fit_idx, held_idx in folds:
            model, prepare, prepare_fit = build(name, base, places, aliases)
            x_fit, y_fit = [prepare_fit(texts[i]) for i in fit_idx], list(y[fit_idx])
            if name == "augment":
                extra = [i for i in fit_idx if y[i] not in SMALL_TALK]
                x_fit += [prepare_fit(TRAIN_GREETINGS[i % len(TRAIN_GREETINGS)] + texts[i]) for i in extra]
                y_fit += list(y[extra])
            model.fit(x_fit, y_fit)
            predict = functools.partial(predict_if_greet, model, prepare_fit, prepare) if reads_if_greet(name) \
                else (lambda batch, model=model, prepare=prepare: model.predict([prepare(t) for t in batch]))
            pred[held_idx] = predict([texts[i] for i in held_idx])
            topic_held = [i for i in held_idx if topic[i]]
            pred_greeted[topic_held] = predict([greeted[i] for i in topic_held])
        seconds = time.perf_counter() - start
        right = pred == y
        row = {"name": name, "all": right.mean(), "long40": right[lengths >= 40].mean(),
               "long60": right[lengths >= 60].mean(), "greeted": (pred_greeted[topic] == y[topic]).mean(),
               "greeted_as_greet": (pred_greeted[topic] == "greet").mean(), "seconds": seconds}
        rows.append(row)
        print(f"{name:18s} all {row['all']:.4f}  long40 {row['long40']:.4f}  long60 {row['long60']:.4f}  "
              f"greeted {row['greeted']:.4f} (as greet {row['greeted_as_greet']:.4f})  {seconds:.0f} s", flush=True)
    report = render(rows, len(y), int((lengths >= 40).sum()), int((lengths >= 60).sum()), int(topic.sum()))
    args.out.write_text(report, encoding="utf-8")
    print(report)
    return 0


def reads_if_greet(name: str) -> bool:
    """strip-if-greet and the feature variants read messages as the component does (the cut text only when the
    whole reads greet); `strip` and `strip-both` always read the cut text."""
    return name.startswith("strip") and name not in ("strip", "strip-both")


def predict_if_greet(model, whole, cut, texts: list[str]):  # noqa: ANN001, ANN201
    """The whole message's intent, unless it is greet and the message without its greeting is surer of another."""
    p_whole, p_cut = model.predict_proba([whole(t) for t in texts]), model.predict_proba([cut(t) for t in texts])
    classes = model.classes_
    out = classes[p_whole.argmax(axis=1)].astype(object)
    switch = (out == "greet") & (p_cut.max(axis=1) > p_whole.max(axis=1)) & (classes[p_cut.argmax(axis=1)] != "greet")
    out[switch] = classes[p_cut.argmax(axis=1)][switch]
    return out


def roster():  # noqa: ANN201
    from rasa.shared.nlu.training_data.loading import load_data

    from hotline_nlu.text_features import place_matcher

    data = load_data(str(ROOT / "data" / "nlu" / "generated" / "roster.yml"))
    syn = data.entity_synonyms
    aliases = {str(e): (t["name"], syn.get(str(e), str(e))) for t in data.lookup_tables for e in t["elements"]}
    return place_matcher(aliases), aliases


class Averaged:
    """fit/predict over the weighted (weight, pipeline) pairs of build_intent_models."""

    def __init__(self, weighted: list) -> None:
        self.weighted = weighted

    def fit(self, x: list[str], y: list[str]) -> Averaged:
        for _, model in self.weighted:
            model.fit(x, y)
        return self

    @property
    def classes_(self):  # noqa: ANN201
        return self.weighted[0][1].classes_

    def predict_proba(self, x: list[str]):  # noqa: ANN201
        return sum(w * m.predict_proba(x) for w, m in self.weighted)

    def predict(self, x: list[str]):  # noqa: ANN201
        return self.classes_[self.predict_proba(x).argmax(axis=1)]


def build(name: str, base: dict, places, aliases):  # noqa: ANN001, ANN201
    """(model, text → classifier input in use, text → classifier input in training)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from hotline_nlu.text_features import build_intent_models, intent_input

    if name == "peer":
        return make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True),
                             LogisticRegression(max_iter=2000)), (lambda t: t), (lambda t: t)
    strip = name.startswith("strip")
    config = {**base, "strip_greeting": strip}
    config.update({"strip-no-pinyin": {"use_pinyin": False}, "strip-no-words": {"use_words": False},
                   "strip-chars-1-3": {"char_max_ngram": 3}, "strip-unweighted": {"class_weight": None},
                   "strip-no-second": {"chars_weight": 0.0}, "strip-tail": {"tail_chars": 20},
                   "strip-C10": {"C": 10.0}, "strip-C50": {"C": 50.0}}.get(name, {}))
    weighted = build_intent_models(config)
    if name == "strip-calibrated":
        for _, pipeline in weighted:
            pipeline.steps[-1] = ("clf", CalibratedClassifierCV(pipeline.steps[-1][1], method="sigmoid", cv=3))
    prepare = functools.partial(intent_input, places=places, aliases=aliases, mask=config["mask_entities"],
                                strip_greeting=strip)
    prepare_fit = functools.partial(intent_input, places=places, aliases=aliases, mask=config["mask_entities"],
                                    strip_greeting=name == "strip-both")
    return (Averaged(weighted) if len(weighted) > 1 else weighted[0][1]), prepare, prepare_fit


def render(rows: list[dict], n: int, n40: int, n60: int, n_topic: int) -> str:
    lines = [
        "# Intent features on long messages and greeted questions (5-fold CV on training data)", "",
        "`.venv-rasa/bin/python scripts/sweep_long_messages.py` — no test set is read. "
        f"{n} training examples; long: {n40} of 40+ characters, {n60} of 60+; greeted: the {n_topic} topic examples "
        "with a greeting in front (four of the sixteen greetings are forms the cut does not know). "
        "Seconds: the five folds, this machine, shared.", "",
        "| variant | all | long 40+ | long 60+ | greeted | greeted read as greet | s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['name']} | {r['all']:.4f} | {r['long40']:.4f} | {r['long60']:.4f} | {r['greeted']:.4f} | "
                     f"{r['greeted_as_greet']:.4f} | {r['seconds']:.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
