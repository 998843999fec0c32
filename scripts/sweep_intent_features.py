"""Choose TfidfIntentClassifier's features and C by 5-fold cross-validation on the TRAINING data only.

    .venv-rasa/bin/python scripts/sweep_intent_features.py [--chars 1-3 1-4 1-5] [--C 10 20 50] [--no-words]
        [--pinyin] [--fallback] [--second] [--solvers] [--confusion]

--fallback: instead of the sweep, the cross-validated probabilities of the model as config.yml configures it
(TfidfIntentClassifier's settings there, its defaults otherwise) scored against FallbackClassifier thresholds: how
many wrong predictions each setting turns into a fallback and how many right ones it eats.
--second: CV accuracy of the configured model with its characters-only second opinion averaged in at several weights.
--solvers: fit time of lbfgs against SAGA on all training data, and how far their probabilities differ.
--confusion: per-intent CV recall of the configured model, on all and on long (40+) training examples, and the
intents most often taken for one another: where fresh training data is needed most.

Prints CV accuracy for each setting (what the choice is made on) and, for information only, the held-out test
accuracy — the test set is never used to choose. Pure scikit-learn, no Rasa training: runs in a minute or two.
"""
from __future__ import annotations

import itertools
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", nargs="+", default=["1-4", "1-3", "1-5"], help="char n-gram ranges, e.g. 1-4")
    parser.add_argument("--C", nargs="+", type=float, default=[10.0, 20.0, 50.0], help="LR inverse regularisation")
    parser.add_argument("--no-words", action="store_true", help="also try without Jieba word n-grams")
    parser.add_argument("--pinyin", action="store_true", help="try with and without pinyin syllable n-grams")
    parser.add_argument("--fallback", action="store_true", help="score FallbackClassifier thresholds instead")
    parser.add_argument("--second", action="store_true", help="weigh the characters-only second opinion instead")
    parser.add_argument("--solvers", action="store_true", help="time lbfgs against SAGA instead")
    parser.add_argument("--confusion", action="store_true", help="per-intent CV recall and confusions instead")
    args = parser.parse_args()
    char_ranges = [tuple(int(x) for x in r.split("-")) for r in args.chars]
    logging.disable(logging.WARNING)
    from eval_nlu import load_examples
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import Pipeline

    from hotline_nlu.text_features import (
        build_classifier,
        build_intent_models,
        build_vectorizer,
        intent_input,
        mask_entities,
        place_matcher,
        tempered,
    )

    train = load_examples(sorted((ROOT / "data" / "nlu").rglob("*.yml")))
    test = load_examples(sorted((ROOT / "tests" / "nlu").glob("*.yml")))
    # The roster's place aliases, as the component reads them from the generated lookups.
    from rasa.shared.nlu.training_data.loading import load_data

    roster = load_data(str(ROOT / "data" / "nlu" / "generated" / "roster.yml"))
    syn = roster.entity_synonyms
    aliases = {str(e): (t["name"], syn.get(str(e), str(e))) for t in roster.lookup_tables for e in t["elements"]}
    places = place_matcher(aliases)
    y, y_test = [e["intent"] for e in train], [e["intent"] for e in test]
    if args.fallback or args.second or args.solvers or args.confusion:
        # Entities masked, whole messages, as the component trains and reads them (it reads a message without its
        # greeting only when the whole one says greet and the rest is surer of another intent; the few training
        # examples that start with a greeting are read whole here).
        reading = {k: configured().get(k, False) for k in ("simplify", "drop_punctuation")}
        masked = [intent_input(e["text"], places, aliases, strip_greeting=False, **reading) for e in train]
        in_use = masked
        if args.solvers:
            compare_solvers(masked, y, char_ranges[0], args.C[0])
        elif args.second:
            second_opinion_table(configured(), masked, y)
        elif args.confusion:
            confusion_table(cv_proba(build_intent_models(configured()), masked, y, in_use), y,
                            [len(e["text"]) >= 40 for e in train])
        else:
            # As the component gives them: averaged, then tempered by the configured temperature.
            proba = tempered(cv_proba(build_intent_models(configured()), masked, y, in_use),
                             configured().get("temperature", 1.0))
            long = [len(e["text"]) >= 40 for e in train]
            fallback_table(proba, y, long)
            calibration_table(proba, y, long)
        return
    rows = []
    for mask, chars, words, pinyin, c in itertools.product((True,), char_ranges,
                                                           (True, False) if args.no_words else (True,),
                                                           (True, False) if args.pinyin else (True,), args.C):
        prep = (lambda t: mask_entities(t, places, aliases)) if mask else (lambda t: t)
        x, x_test = [prep(e["text"]) for e in train], [prep(e["text"]) for e in test]
        model = Pipeline([("features", build_vectorizer(char_ngrams=chars, words=words, pinyin=pinyin)),
                          ("clf", build_classifier(c))])
        cv = cross_val_score(model, x, y, cv=StratifiedKFold(5, shuffle=True, random_state=0)).mean()
        held_out = model.fit(x, y).score(x_test, y_test)
        rows.append((cv, held_out, f"mask={mask} chars={chars} words={words} pinyin={pinyin} C={c}"))
        print(f"cv {cv:.4f}  test {held_out:.4f}  {rows[-1][2]}", flush=True)
    rows.sort(reverse=True)
    print("\nbest by cross-validation on training data:")
    for cv, held_out, name in rows[:5]:
        print(f"  cv {cv:.4f}  (test {held_out:.4f})  {name}")


def compare_solvers(x: list[str], y: list[str], chars: tuple[int, int], c: float) -> None:
    import time

    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from hotline_nlu.text_features import build_classifier, build_vectorizer

    features = build_vectorizer(char_ngrams=chars, pinyin=True).fit_transform(x)
    print(f"{features.shape[0]} messages x {features.shape[1]} n-grams")
    probabilities = []
    for name, clf in (("lbfgs", LogisticRegression(C=c, max_iter=3000, class_weight="balanced")),
                      ("saga (build_classifier)", build_classifier(c))):
        start = time.perf_counter()
        clf.fit(features, y)
        probabilities.append(clf.predict_proba(features))
        print(f"{name}: {time.perf_counter() - start:.1f} s, {int(clf.n_iter_.max())} iterations")
    print(f"largest probability difference: {np.abs(probabilities[0] - probabilities[1]).max():.4f}")


def configured() -> dict:
    """TfidfIntentClassifier's settings as training uses them: its defaults, overridden by config.yml."""
    from eval_nlu import pipeline_entry

    from hotline_nlu.components import TfidfIntentClassifier

    entry = pipeline_entry("TfidfIntentClassifier")
    return {**TfidfIntentClassifier.get_default_config(), **{k: v for k, v in entry.items() if k != "name"}}


def cv_proba(weighted: list, x: list[str], y: list[str], x_use: list[str] | None = None):
    """5-fold cross-validated probabilities of the weighted average of the (weight, unfitted Pipeline) pairs, fitted
    on x and predicting x_use (the text as read in use; x when not given)."""
    import numpy as np
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    x_use = x if x_use is None else x_use
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    proba = np.zeros((len(y), len(set(y))))
    for fit, held in folds.split(x, y):
        for weight, model in weighted:
            fitted = clone(model).fit([x[i] for i in fit], [y[i] for i in fit])
            proba[held] += weight * fitted.predict_proba([x_use[i] for i in held])
    return proba


def second_opinion_table(config: dict, x: list[str], y: list[str]) -> None:
    import numpy as np

    from hotline_nlu.text_features import build_intent_models

    (_, full), (_, chars) = build_intent_models({**config, "chars_weight": 0.5})
    p_full, p_chars = cv_proba([(1.0, full)], x, y), cv_proba([(1.0, chars)], x, y)
    classes = np.array(sorted(set(y)))
    print(f"5-fold CV on {len(y)} training examples, chars_max_ngram {config['chars_max_ngram']}, C {config['C']}")
    for weight in (0.0, 0.3, 0.5, 0.7, 1.0):
        proba = (1 - weight) * p_full + weight * p_chars
        print(f"  chars_weight {weight}: cv {np.mean(classes[proba.argmax(axis=1)] == np.array(y)):.4f}")


def fallback_table(proba, y: list[str], long: list[bool] | None = None) -> None:  # proba: CV probabilities
    """What each (threshold, ambiguity_threshold) of FallbackClassifier does to cross-validated predictions; with
    `long`, the same again for the long messages alone (40+ characters)."""
    import numpy as np

    classes = np.array(sorted(set(y)))
    ranked = np.sort(proba, axis=1)
    confidence, margin = ranked[:, -1], ranked[:, -1] - ranked[:, -2]
    right = classes[proba.argmax(axis=1)] == np.array(y)
    print("# FallbackClassifier thresholds on cross-validated training predictions\n")
    print("`.venv-rasa/bin/python scripts/sweep_intent_features.py --fallback` (part of `make eval`)\n")
    print(f"5-fold CV on {len(y)} training examples of the model config.yml configures; accuracy without fallback "
          f"{right.mean():.4f}. Net = wrong")
    print("guesses turned into 'please rephrase' minus right answers eaten.\n")
    slices = [("all", np.ones(len(y), dtype=bool))]
    if long is not None:
        slices.append(("long (40+ characters)", np.array(long)))
    for name, rows in slices:
        print(f"\n## {name}: {int(rows.sum())} examples, accuracy without fallback {right[rows].mean():.4f}\n")
        print("| threshold | ambiguity | accuracy | fallbacks | wrong caught | right eaten | net |")
        print("|---|---|---|---|---|---|---|")
        for threshold in (0.1, 0.15, 0.2, 0.25, 0.3):
            for ambiguity in (0.0, 0.01, 0.03):
                fallback = ((confidence < threshold) | (margin < ambiguity)) & rows
                ok = right & rows
                caught, eaten = int(np.sum(fallback & ~right)), int(np.sum(fallback & right))
                print(f"| {threshold} | {ambiguity} | {np.sum(ok & ~fallback) / rows.sum():.4f} | {fallback.sum()} | "
                      f"{caught} | {eaten} | {caught - eaten} |")


def confusion_table(proba, y: list[str], long: list[bool], top: int = 15) -> None:
    import collections

    import numpy as np

    classes = np.array(sorted(set(y)))
    pred, truth, long = classes[proba.argmax(axis=1)], np.array(y), np.array(long)
    print(f"5-fold CV of the configured model on {len(y)} training examples ({int(long.sum())} of 40+ characters)\n")
    print("| intent | examples | recall | long examples | long recall |")
    print("|---|---|---|---|---|")
    for c in classes:
        rows, rows_long = truth == c, (truth == c) & long
        recall_long = f"{np.mean(pred[rows_long] == c):.3f}" if rows_long.any() else "—"
        print(f"| {c} | {int(rows.sum())} | {np.mean(pred[rows] == c):.3f} | {int(rows_long.sum())} | {recall_long} |")
    for name, rows in (("all", np.ones(len(y), dtype=bool)), ("long", long)):
        pairs = collections.Counter(zip(truth[rows & (pred != truth)], pred[rows & (pred != truth)], strict=True))
        print(f"\nMost frequent confusions, {name} (labelled → predicted: count)")
        for (t, p), n in pairs.most_common(top):
            print(f"- {t} → {p}: {n}")


def expected_calibration_error(confidence, right, bins: int = 10) -> float:  # numpy arrays
    """The gap between confidence and accuracy, averaged over equal-width confidence bins, weighted by their size."""
    import numpy as np

    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    return float(sum(abs(confidence[which == b].mean() - right[which == b].mean()) * np.mean(which == b)
                     for b in range(bins) if np.any(which == b)))


def calibration_table(proba, y: list[str], long: list[bool]) -> None:  # proba: CV probabilities
    """Are the cross-validated confidences calibrated, on all and on long messages, and would temperature scaling
    (one number, fitted to the CV log-loss of all examples) change what the fallback threshold does? Temperature
    keeps each message's ranking of intents, so accuracy is the same by construction."""
    import numpy as np

    from hotline_nlu.text_features import tempered

    classes = np.array(sorted(set(y)))
    index = {c: i for i, c in enumerate(classes)}
    truth = np.array([index[label] for label in y])
    right = proba.argmax(axis=1) == truth

    from eval_nlu import fallback_threshold

    def log_loss(p, t) -> float:  # probabilities and the true intents' indices, same rows
        return float(-np.mean(np.log(np.clip(p[np.arange(len(t)), t], 1e-12, 1.0))))

    grid = np.round(np.arange(0.3, 2.01, 0.05), 2)
    best = min(grid, key=lambda t: log_loss(tempered(proba, t), truth))
    threshold = fallback_threshold()
    scaled = tempered(proba, best)
    print("\n## Calibration of the cross-validated confidences\n")
    print(f"Temperature fitted on the CV log-loss of all examples: {best} (1 = as the model gives them; above 1 the "
          "model was over-confident). ECE: expected calibration error over ten confidence bins.\n")
    print("| slice | examples | accuracy | mean confidence | ECE | ECE tempered | log-loss | log-loss tempered | "
          f"net of threshold {threshold} | net tempered, best threshold |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, rows in (("all", np.ones(len(y), dtype=bool)), ("long (40+ characters)", np.array(long))):
        conf, conf_t = proba[rows].max(axis=1), scaled[rows].max(axis=1)
        ok = right[rows]
        net = int(np.sum((conf < threshold) & ~ok) - np.sum((conf < threshold) & ok))
        net_t = max(int(np.sum((conf_t < t) & ~ok) - np.sum((conf_t < t) & ok)) for t in np.arange(0.05, 0.61, 0.05))
        loss, loss_t = log_loss(proba[rows], truth[rows]), log_loss(scaled[rows], truth[rows])
        print(f"| {name} | {int(rows.sum())} | {ok.mean():.4f} | {conf.mean():.4f} | "
              f"{expected_calibration_error(conf, ok):.4f} | {expected_calibration_error(conf_t, ok):.4f} | "
              f"{loss:.4f} | {loss_t:.4f} | {net} | {net_t} |")
    for name, rows in (("all", np.ones(len(y), dtype=bool)), ("long (40+ characters)", np.array(long))):
        conf_t, ok = scaled[rows].max(axis=1), right[rows]
        print(f"\n### Thresholds on the tempered confidences (temperature {best}), {name}\n")
        print("| threshold | accuracy | fallbacks | wrong caught | right eaten | net |")
        print("|---|---|---|---|---|---|")
        for threshold in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5):
            fallback = conf_t < threshold
            caught, eaten = int(np.sum(fallback & ~ok)), int(np.sum(fallback & ok))
            print(f"| {threshold} | {np.sum(ok & ~fallback) / rows.sum():.4f} | {int(fallback.sum())} | {caught} | "
                  f"{eaten} | {caught - eaten} |")


if __name__ == "__main__":
    main()
