"""`rasa train` without the YAML work it repeats: `python -m hotline_rasa.train` followed by `rasa train`'s own
arguments (what `make train` runs):

    .venv-rasa/bin/python -m hotline_rasa.train --config config.yml --domain domain --data data --out models

speedups.TRAINING: each training file parsed and schema-checked once per run, not once per importer. With
HOTLINE_RASA_SPEEDUPS=0 it is `rasa train` exactly as shipped. Either way the importers read the same training data,
stories and domain, and a bad file fails every time it is read (tests/test_rasa_speedups.py). Measured on a fresh
cache (RASA_CACHE_DIRECTORY empty, as in CI), 5,925 examples: 157 s against `rasa train`'s 166 s.
"""
from __future__ import annotations

import sys

from hotline_rasa.settings import RuntimeSettings


def main() -> None:
    if RuntimeSettings.from_env().speedups:
        from hotline_rasa import speedups
        from hotline_rasa.versions import UnknownRasaVersion

        try:
            speedups.apply(list(speedups.TRAINING))
        except (UnknownRasaVersion, speedups.RasaInternalsMoved) as e:
            sys.exit(str(e))
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", "train", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
