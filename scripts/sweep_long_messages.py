"""Which intent features help on long messages and on greetings in front of a question: 5-fold CV on TRAINING data.

    .venv-rasa/bin/python scripts/sweep_long_messages.py [--variants NAME ...] [--by-file FILE ...]
        [--out reports/nlu_sweep_long.md]

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
  strip-C2 / strip-C5 / strip-C10 / strip-C50 (the logistic regressions' C, 20 configured), strip-second-1 (the
  characters-only model alone), strip-raw (read as written, not in simplified characters and with punctuation: what
  config.yml's `simplify` and `drop_punctuation` are worth; before they shipped it was the reading, and the report's
  strip-t2s / strip-nopunct rows measured each of them added).
With --by-file FILE …, the folds are the named data/nlu files instead, each held out in turn and the model trained on
all the others: every file was written by another person at another time, so this scores the words of a writer the
model has never read, which random folds (near-twins of one writer on both sides) flatter.
Three more slices of the held-out folds show robustness to real writing: traditional (every example in traditional
characters, OpenCC s2t), unpunctuated (every example without punctuation) and homophones (one Chinese character in
ten swapped for another of the same toneless pinyin seen in the training data, seeded).
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
VARIANTS = ["peer", "today", "strip", "strip-if-greet", "strip-both", "augment", "strip-no-pinyin", "strip-no-words",
            "strip-chars-1-3", "strip-unweighted", "strip-no-second", "strip-tail", "strip-calibrated", "strip-C10",
            "strip-C50", "strip-raw", "strip-C2", "strip-C5", "strip-second-1"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=VARIANTS, choices=VARIANTS)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "nlu_sweep_long.md")
    parser.add_argument("--switch-factors", nargs="+", type=float, default=None,
                        help="instead: the shipped model once per fold, read switching to the cut text when the "
                             "whole reads greet and the cut's confidence exceeds FACTOR x the whole's")
    parser.add_argument("--by-file", nargs="+", default=None, metavar="FILE",
                        help="instead of 5 random folds, hold out each of these data/nlu files in turn (a new "
                             "writer's words) and train on the rest")
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
    files = sorted((ROOT / "data" / "nlu").rglob("*.yml"))
    per_file = [load_examples([f]) for f in files]
    train = [e for examples in per_file for e in examples]
    source = np.array([f.name for f, examples in zip(files, per_file, strict=True) for _ in examples])
    texts = [e["text"] for e in train]
    y = np.array([e["intent"] for e in train])
    places, aliases = roster()
    base = {**configured(), "strip_greeting": False}
    if args.by_file:
        held_files = [Path(f).name for f in args.by_file]
        folds = [(np.flatnonzero(source != f), np.flatnonzero(source == f)) for f in held_files]
    else:
        folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(texts, y))
    scored = np.zeros(len(y), dtype=bool)
    scored[np.concatenate([held for _, held in folds])] = True
    lengths = np.array([len(t) for t in texts])
    topic = np.array([label not in SMALL_TALK for label in y])
    greeted = [TEST_GREETINGS[i % len(TEST_GREETINGS)] + t for i, t in enumerate(texts)]
    slices = {"traditional": traditional(texts), "unpunctuated": [text_features.without_punctuation(t) for t in texts],
              "homophones": homophones(texts)}
    if args.switch_factors:
        return switch_factor_table(args.switch_factors, texts, y, folds, base, places, aliases, lengths, topic,
                                   greeted)
    rows = []
    for name in args.variants:
        start = time.perf_counter()
        pred, pred_greeted = np.empty(len(y), dtype=object), np.empty(len(y), dtype=object)
        pred_slices = {slice_name: np.empty(len(y), dtype=object) for slice_name in slices}
        for fit_idx, held_idx in folds:
            model, prepare, prepare_fit = build(name, base, places, aliases)
            x_fit, y_fit = [prepare_fit(texts[i]) for i in fit_idx], list(y[fit_idx])
            if name == "augment":
                extra = [i for i in fit_idx if y[i] not in SMALL_TALK]
                x_fit += [prepare_fit(TRAIN_GREETINGS[i % len(TRAIN_GREETINGS)] + texts[i]) for i in extra]
                y_fit += list(y[extra])
            model.fit(x_fit, y_fit)
            predict = functools.partial(predict_if_greet, model, prepare_fit, prepare,
                                        factor=base.get("greeting_switch", 1.0)) if reads_if_greet(name) \
                else (lambda batch, model=model, prepare=prepare: model.predict([prepare(t) for t in batch]))
            pred[held_idx] = predict([texts[i] for i in held_idx])
            topic_held = [i for i in held_idx if topic[i]]
            pred_greeted[topic_held] = predict([greeted[i] for i in topic_held])
            for slice_name, slice_texts in slices.items():
                pred_slices[slice_name][held_idx] = predict([slice_texts[i] for i in held_idx])
        seconds = time.perf_counter() - start
        right, topic_scored = pred == y, topic & scored
        row = {"name": name, "all": right[scored].mean(), "long40": right[scored & (lengths >= 40)].mean(),
               "long60": right[scored & (lengths >= 60)].mean(),
               "greeted": (pred_greeted[topic_scored] == y[topic_scored]).mean(),
               "greeted_as_greet": (pred_greeted[topic_scored] == "greet").mean(), "seconds": seconds,
               **{slice_name: (p[scored] == y[scored]).mean() for slice_name, p in pred_slices.items()}}
        rows.append(row)
        print(f"{name:18s} all {row['all']:.4f}  long40 {row['long40']:.4f}  long60 {row['long60']:.4f}  "
              f"greeted {row['greeted']:.4f} (as greet {row['greeted_as_greet']:.4f})  "
              + "  ".join(f"{n} {row[n]:.4f}" for n in slices) + f"  {seconds:.0f} s", flush=True)
        if args.by_file:
            print("    by held-out file: " + "  ".join(f"{f} {right[source == f].mean():.4f}" for f in held_files),
                  flush=True)
    how = (f"each of {', '.join(held_files)} held out in turn, trained on the rest" if args.by_file
           else "5-fold CV on training data")
    report = render(rows, how, int(scored.sum()), int((scored & (lengths >= 40)).sum()),
                    int((scored & (lengths >= 60)).sum()), int((topic & scored).sum()))
    args.out.write_text(report, encoding="utf-8")
    print(report)
    return 0


def traditional(texts: list[str]) -> list[str]:
    import opencc

    to_traditional = opencc.OpenCC("s2t")
    return [to_traditional.convert(t) for t in texts]


def homophones(texts: list[str], rate: float = 0.1, seed: int = 0) -> list[str]:
    """Each text with about one Chinese character in ten swapped for a different character of the same toneless
    pinyin that occurs in the training texts: the typos of voice input and hurried pinyin typing (工资 → 工姿)."""
    import random
    from collections import defaultdict

    from pypinyin import Style, lazy_pinyin

    chars = sorted({c for t in texts for c in t if "\u4e00" <= c <= "\u9fff"})
    sound = dict(zip(chars, lazy_pinyin(chars, style=Style.NORMAL), strict=True))
    by_sound: dict[str, list[str]] = defaultdict(list)
    for c in chars:
        by_sound[sound[c]].append(c)
    rng = random.Random(seed)
    out = []
    for t in texts:
        swapped = []
        for c in t:
            others = [o for o in by_sound.get(sound.get(c, ""), []) if o != c]
            swapped.append(rng.choice(others) if others and rng.random() < rate else c)
        out.append("".join(swapped))
    return out


def reads_if_greet(name: str) -> bool:
    """strip-if-greet and the feature variants read messages as the component does (the cut text only when the
    whole reads greet); `strip` and `strip-both` always read the cut text."""
    return name.startswith("strip") and name not in ("strip", "strip-both")


def predict_if_greet(model, whole, cut, texts: list[str], factor: float = 1.0):
    """The whole message's intent, unless it is greet and the message without its greeting is surer of another
    (its confidence above `factor` times the whole's)."""
    p_whole, p_cut = model.predict_proba([whole(t) for t in texts]), model.predict_proba([cut(t) for t in texts])
    classes = model.classes_
    out = classes[p_whole.argmax(axis=1)].astype(object)
    switch = ((out == "greet") & (p_cut.max(axis=1) > factor * p_whole.max(axis=1))
              & (classes[p_cut.argmax(axis=1)] != "greet"))
    out[switch] = classes[p_cut.argmax(axis=1)][switch]
    return out


def switch_factor_table(factors: list[float], texts: list[str], y, folds, base: dict, places, aliases,
                        lengths, topic, greeted: list[str]) -> int:
    """The shipped model fitted once per fold, read with each switch factor: how much surer than the whole message
    the text without its greeting must be before its intent replaces `greet`."""
    import numpy as np

    from hotline_nlu import text_features

    preds = {f: (np.empty(len(y), dtype=object), np.empty(len(y), dtype=object)) for f in factors}
    for fit_idx, held_idx in folds:
        model, prepare, prepare_fit = build("strip-if-greet", base, places, aliases)
        model.fit([prepare_fit(texts[i]) for i in fit_idx], list(y[fit_idx]))
        topic_held = [i for i in held_idx if topic[i]]
        for f, (pred, pred_greeted) in preds.items():
            pred[held_idx] = predict_if_greet(model, prepare_fit, prepare, [texts[i] for i in held_idx], f)
            pred_greeted[topic_held] = predict_if_greet(model, prepare_fit, prepare,
                                                        [greeted[i] for i in topic_held], f)
    greet_rows = y == "greet"
    print("| switch factor | all | long 40+ | greet examples kept greet | greeted | greeted read as greet |")
    print("|---|---|---|---|---|---|")
    for f, (pred, pred_greeted) in preds.items():
        right = pred == y
        print(f"| {f} | {right.mean():.4f} | {right[lengths >= 40].mean():.4f} | {right[greet_rows].mean():.4f} | "
              f"{(pred_greeted[topic] == y[topic]).mean():.4f} | {(pred_greeted[topic] == 'greet').mean():.4f} |",
              flush=True)
    # Each topic example got greeting i % len(TEST_GREETINGS): the greeted slice, greeting by greeting.
    form = np.arange(len(y)) % len(TEST_GREETINGS)
    print("\n| greeting in front | cut by split_greeting | " + " | ".join(f"factor {f}" for f in factors) + " |")
    print("|---|---|" + "---|" * len(factors))
    for k, greeting in enumerate(TEST_GREETINGS):
        rows = topic & (form == k)
        cut = "yes" if text_features.split_greeting(greeting + "老板欠我工资")[0] else "no"
        print(f"| 「{greeting}」 | {cut} | "
              + " | ".join(f"{(preds[f][1][rows] == y[rows]).mean():.3f}" for f in factors) + " |", flush=True)
    return 0


def roster():
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
    def classes_(self):
        return self.weighted[0][1].classes_

    def predict_proba(self, x: list[str]):
        return sum(w * m.predict_proba(x) for w, m in self.weighted)

    def predict(self, x: list[str]):
        return self.classes_[self.predict_proba(x).argmax(axis=1)]


def build(name: str, base: dict, places, aliases):
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
                   "strip-C10": {"C": 10.0}, "strip-C50": {"C": 50.0}, "strip-C2": {"C": 2.0},
                   "strip-C5": {"C": 5.0}, "strip-second-1": {"chars_weight": 1.0},
                   "strip-raw": {"simplify": False, "drop_punctuation": False}}.get(name, {}))
    weighted = build_intent_models(config)
    if name == "strip-calibrated":
        for _, pipeline in weighted:
            pipeline.steps[-1] = ("clf", CalibratedClassifierCV(pipeline.steps[-1][1], method="sigmoid", cv=3))
    reading = {"places": places, "aliases": aliases, "mask": config["mask_entities"],
               "simplify": config.get("simplify", False), "drop_punctuation": config.get("drop_punctuation", False)}
    prepare = functools.partial(intent_input, strip_greeting=strip, **reading)
    prepare_fit = functools.partial(intent_input, strip_greeting=name == "strip-both", **reading)
    return (Averaged(weighted) if len(weighted) > 1 else weighted[0][1]), prepare, prepare_fit


def render(rows: list[dict], how: str, n: int, n40: int, n60: int, n_topic: int) -> str:
    lines = [
        f"# Intent features on long messages and greeted questions ({how})", "",
        ("`.venv-rasa/bin/python scripts/sweep_long_messages.py` — no test set is read. "
         f"{n} training examples scored; long: {n40} of 40+ characters, {n60} of 60+; greeted: the {n_topic} topic "
         "examples with a greeting in front (four of the sixteen greetings are forms the cut does not know). "
         "Seconds: the five folds, this machine, shared."), "",
        ("| variant | all | long 40+ | long 60+ | greeted | greeted read as greet | traditional | unpunctuated | "
         "homophones | s |"),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['name']} | {r['all']:.4f} | {r['long40']:.4f} | {r['long60']:.4f} | {r['greeted']:.4f} | "
                     f"{r['greeted_as_greet']:.4f} | {r['traditional']:.4f} | {r['unpunctuated']:.4f} | "
                     f"{r['homophones']:.4f} | {r['seconds']:.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
