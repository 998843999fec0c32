"""Choose TfidfIntentClassifier's features and C by 5-fold cross-validation on the TRAINING data only.

    .venv-rasa/bin/python scripts/sweep_intent_features.py [--chars 1-3 1-4 1-5] [--C 10 20 50] [--no-words]

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
    parser.add_argument("--chars", nargs="+", default=["1-3", "1-4", "1-5"], help="char n-gram ranges, e.g. 1-4")
    parser.add_argument("--C", nargs="+", type=float, default=[10.0, 20.0, 50.0], help="LR inverse regularisation")
    parser.add_argument("--no-words", action="store_true", help="also try without Jieba word n-grams")
    args = parser.parse_args()
    char_ranges = [tuple(int(x) for x in r.split("-")) for r in args.chars]
    logging.disable(logging.WARNING)
    from eval_nlu import load_examples
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import Pipeline

    from hotline_nlu.text_features import build_vectorizer, mask_entities, place_matcher

    train = load_examples(sorted((ROOT / "data" / "nlu").rglob("*.yml")))
    test = load_examples(sorted((ROOT / "tests" / "nlu").glob("*.yml")))
    # The roster's place aliases, as the component reads them from the generated lookups.
    from rasa.shared.nlu.training_data.loading import load_data

    roster = load_data(str(ROOT / "data" / "nlu" / "generated" / "roster.yml"))
    syn = roster.entity_synonyms
    aliases = {str(e): (t["name"], syn.get(str(e), str(e))) for t in roster.lookup_tables for e in t["elements"]}
    places = place_matcher(aliases)
    y, y_test = [e["intent"] for e in train], [e["intent"] for e in test]
    rows = []
    for mask, chars, words, c in itertools.product((True,), char_ranges, (True, False) if args.no_words else (True,),
                                                   args.C):
        prep = (lambda t: mask_entities(t, places, aliases)) if mask else (lambda t: t)
        x, x_test = [prep(e["text"]) for e in train], [prep(e["text"]) for e in test]
        model = Pipeline([("features", build_vectorizer(char_ngrams=chars, words=words)),
                          ("clf", LogisticRegression(C=c, max_iter=3000, class_weight="balanced"))])
        cv = cross_val_score(model, x, y, cv=StratifiedKFold(5, shuffle=True, random_state=0)).mean()
        held_out = model.fit(x, y).score(x_test, y_test)
        rows.append((cv, held_out, f"mask={mask} chars={chars} words={words} C={c}"))
        print(f"cv {cv:.4f}  test {held_out:.4f}  {rows[-1][2]}", flush=True)
    rows.sort(reverse=True)
    print("\nbest by cross-validation on training data:")
    for cv, held_out, name in rows[:5]:
        print(f"  cv {cv:.4f}  (test {held_out:.4f})  {name}")


if __name__ == "__main__":
    main()
