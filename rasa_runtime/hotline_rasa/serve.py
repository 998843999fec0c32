"""`rasa run` as the assistant serves it: `python -m hotline_rasa.serve` followed by `rasa run`'s own arguments.

    HOTLINE_RASA_TOKEN=... .venv-rasa/bin/python -m hotline_rasa.serve --enable-api -i 127.0.0.1 -p 5005 \
        -m models/current.tar.gz --endpoints endpoints.yml --credentials credentials.yml

The HTTP API's token comes from HOTLINE_RASA_TOKEN, never the command line, where `ps` would show it to every user
of the machine; the server binds 127.0.0.1 unless `-i` or HOTLINE_RASA_HOST says otherwise; issue 27's resilience
(a turn applied once, actions retried) is always applied; the speed-ups (speedups.SERVING) are applied unless
HOTLINE_RASA_SPEEDUPS=0, and refuse an unknown Rasa.
"""
from __future__ import annotations

import gc
import sys

from hotline_rasa.settings import RuntimeSettings


def rasa_argv(args: list[str], settings: RuntimeSettings) -> list[str]:
    """`rasa run`'s argv for our arguments; SystemExit with the reason when the token is missing or misplaced."""
    if not settings.rasa_token:
        sys.exit("HOTLINE_RASA_TOKEN is not set: Rasa's HTTP API would be open to anyone who reaches it")
    if "--auth-token" in args:
        sys.exit("pass the token in HOTLINE_RASA_TOKEN, not on the command line")
    if not {"-i", "--interface"} & set(args):  # closed by default: loopback unless told otherwise
        args = [*args, "-i", settings.rasa_host]
    return ["rasa", "run", *args, "--auth-token", settings.rasa_token]


def main() -> None:
    settings = RuntimeSettings.from_env()
    argv = rasa_argv(sys.argv[1:], settings)
    if settings.speedups:
        # Rasa's imports and the model make ~850,000 objects, and full collections walked them again and again
        # meanwhile (~1.3 s of CPU of the imports): the collector is paused until the agent is loaded, when
        # speedups' frozen_model_objects collects once, freezes what is there and turns it back on.
        gc.disable()
    from hotline_rasa import resilience

    resilience.apply()  # a turn applied once, actions retried across restarts (not a speed-up: always on)
    if settings.speedups:
        from hotline_rasa import speedups
        from hotline_rasa.versions import UnknownRasaVersion

        try:
            speedups.apply(list(speedups.SERVING))
        except (UnknownRasaVersion, speedups.RasaInternalsMoved) as e:
            sys.exit(str(e))
    from rasa.__main__ import main as rasa_main

    sys.argv = argv
    rasa_main()


if __name__ == "__main__":
    main()
