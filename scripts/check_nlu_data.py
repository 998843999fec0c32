"""Near-duplicate and overlap check for NLU example files.

    .venv/bin/python scripts/check_nlu_data.py                        # within data/nlu: duplicates, counts
    .venv/bin/python scripts/check_nlu_data.py --against tests/nlu    # training examples too close to a test one

Two examples are near-duplicates when their character-bigram sets, after dropping annotations, punctuation and
digits, have a Jaccard similarity of at least --threshold: that catches a swapped number or one changed word.
Exit status 1 when anything is found, so it can gate a data change.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]+\)|\{[^}]+\})")
NOISE = re.compile(r"[\s\d.,，。！!？?、~～…:：;；\"'“”‘’()（）\-—_/\\·]+")


def plain(example: str) -> str:
    return ANNOTATION.sub(r"\1", example)


def shape(example: str) -> str:
    text = plain(example)
    stripped = NOISE.sub("", text).lower()
    # A message that is only a number or a phone keeps its digits, or every such message would look alike.
    return stripped if len(stripped) >= 2 else re.sub(r"\s+", "", text).lower()


def bigrams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1)) or frozenset([text])


def load(paths: list[Path]) -> list[tuple[str, str, Path]]:
    """(intent, example, file) for every example in the YAML files under paths."""
    rows = []
    files = [p for path in paths for p in (sorted(path.rglob("*.yml")) if path.is_dir() else [path])]
    for file in files:
        for block in (yaml.safe_load(file.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" not in block:
                continue
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    rows.append((block["intent"], line[2:].strip(), file))
    return rows


def close_pairs(left: list[tuple[str, str, Path]], right: list[tuple[str, str, Path]], threshold: float,
                same: bool) -> list[tuple[float, tuple, tuple]]:
    """Pairs whose bigram Jaccard is ≥ threshold; an inverted index keeps it far from quadratic."""
    grams = [bigrams(shape(r[1])) for r in right]
    index: dict[str, list[int]] = defaultdict(list)
    for j, g in enumerate(grams):
        for gram in g:
            index[gram].append(j)
    found = []
    for i, row in enumerate(left):
        g = bigrams(shape(row[1]))
        shared: Counter[int] = Counter()
        for gram in g:
            shared.update(index.get(gram, ()))
        for j, n in shared.items():
            if same and j <= i:
                continue
            score = n / (len(g) + len(grams[j]) - n)
            if score >= threshold:
                found.append((score, row, right[j]))
    return sorted(found, key=lambda f: -f[0])


def shown(path: Path) -> str:
    """The path as the reader typed it: relative to the project when inside it."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "nlu")
    parser.add_argument("--against", type=Path, nargs="*", help="test files or folders to compare the data with")
    parser.add_argument("--threshold", type=float, default=0.8)
    args = parser.parse_args()
    data = load([args.data])
    if args.against:
        pairs = close_pairs(data, load(args.against), args.threshold, same=False)
        for score, row, test in pairs:
            print(f"{score:.2f}  {shown(row[2])}: {plain(row[1])}  ~  {plain(test[1])}")
        print(f"{len(pairs)} training examples at or above {args.threshold} similarity to a test example")
        return 1 if pairs else 0
    counts = Counter(r[0] for r in data)
    for intent, n in sorted(counts.items(), key=lambda kv: kv[1]):
        print(f"{n:5d}  {intent}")
    print(f"{sum(counts.values()):5d}  in all")
    pairs = close_pairs(data, data, args.threshold, same=True)
    for score, a, b in pairs:
        print(f"{score:.2f}  [{a[0]}] {plain(a[1])}  ~  [{b[0]}] {plain(b[1])}  ({a[2].name}, {b[2].name})")
    print(f"{len(pairs)} near-duplicate pairs at or above {args.threshold}")
    return 1 if pairs else 0


if __name__ == "__main__":
    sys.exit(main())
