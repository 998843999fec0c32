"""The blind sets stay blind: no training example is a near-copy of a dev or holdout message. A copied test message
would score itself and hide exactly the misreadings the sets exist to show (scripts/check_nlu_data.py --against)."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from check_nlu_data import close_pairs, load  # noqa: E402


def test_no_training_example_is_a_near_copy_of_a_test_message() -> None:
    training = load([ROOT / "data" / "nlu"])
    tests = load([ROOT / "tests" / "nlu", ROOT / "tests" / "nlu_holdout"])
    assert len(training) > 6000 and len(tests) > 1500  # both sides really read
    pairs = close_pairs(training, tests, 0.8, same=False)
    assert not [(row[1], test[1], test[2].name) for _, row, test in pairs]


def test_the_check_catches_a_swapped_number_and_an_annotation(tmp_path: Path) -> None:
    """What the check is for: a test message copied into training with its number changed or annotated."""
    data = tmp_path / "data.yml"
    data.write_text('version: "3.1"\nnlu:\n- intent: wage_arrears\n  examples: |\n'
                    "    - 包工头欠我们[八个](people_count)人的工钱 人跑到外省去了 怎么办\n"
                    "    - 我想问一下交通事故的责任怎么认定\n", encoding="utf-8")
    test = tmp_path / "test.yml"
    test.write_text('version: "3.1"\nnlu:\n- intent: wage_arrears\n  examples: |\n'
                    "    - 包工头欠我们五个人的工钱，人跑到外省去了，怎么办？\n", encoding="utf-8")
    pairs = close_pairs(load([data]), load([test]), 0.8, same=False)
    assert [row[1] for _, row, _ in pairs] == ["包工头欠我们[八个](people_count)人的工钱 人跑到外省去了 怎么办"]
