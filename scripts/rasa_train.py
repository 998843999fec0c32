"""`rasa train` without the YAML work it repeats (scripts/rasa_speedups.py TRAINING_PATCHES: each training file parsed
and schema-checked once per run, not once per importer). Arguments are `rasa train`'s own:

    .venv-rasa/bin/python scripts/rasa_train.py --config config.yml --domain domain --data data --out models

HOTLINE_RASA_SPEEDUPS=0 trains with Rasa exactly as shipped. Either way the importers read the same training data,
stories and domain, and a bad file fails every time it is read (tests/test_rasa_speedups.py). Measured on a fresh
cache (RASA_CACHE_DIRECTORY empty, as in CI), 5,925 examples: 157 s against `rasa train`'s 166 s.
"""
from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    if os.environ.get("HOTLINE_RASA_SPEEDUPS", "1") != "0":
        import rasa_speedups

        rasa_speedups.apply(list(rasa_speedups.TRAINING_PATCHES))
    from rasa.__main__ import main

    sys.argv = ["rasa", "train", *sys.argv[1:]]
    main()
