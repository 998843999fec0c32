"""`rasa run` with the HTTP API's token taken from HOTLINE_RASA_TOKEN, not from the command line, where `ps` would
show it to every user of the machine; bound to 127.0.0.1 unless `-i` or HOTLINE_RASA_HOST says otherwise. Everything
else is `rasa run`'s own arguments:

    HOTLINE_RASA_TOKEN=... .venv-rasa/bin/python scripts/rasa_serve.py --enable-api -i 127.0.0.1 -p 5005 \
        -m models/current.tar.gz --endpoints endpoints.yml --credentials credentials.yml
"""
from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    token = os.environ.get("HOTLINE_RASA_TOKEN", "")
    if not token:
        sys.exit("HOTLINE_RASA_TOKEN is not set: Rasa's HTTP API would be open to anyone who reaches it")
    if "--auth-token" in sys.argv:
        sys.exit("pass the token in HOTLINE_RASA_TOKEN, not on the command line")
    if os.environ.get("HOTLINE_RASA_SPEEDUPS", "1") != "0":  # per-turn work done once (scripts/rasa_speedups.py)
        import rasa_speedups

        rasa_speedups.apply()
    from rasa.__main__ import main

    args = sys.argv[1:]
    if not {"-i", "--interface"} & set(args):  # closed by default: loopback unless told otherwise
        args += ["-i", os.environ.get("HOTLINE_RASA_HOST", "127.0.0.1")]
    sys.argv = ["rasa", "run", *args, "--auth-token", token]
    main()
