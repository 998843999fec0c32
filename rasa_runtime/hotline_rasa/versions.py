"""The Rasa versions whose internals `speedups` and `tracker_store` were read against and tested on.

They replace or extend private methods of Rasa's classes. On another Rasa a method may have been renamed, moved or
changed in meaning; a patch set on a name Rasa no longer calls would do nothing, silently, and one set on a method
whose meaning changed would be wrong. So anything else is refused until someone has checked it: run
tests/test_rasa_speedups.py on the new Rasa, read each patch's `touches` against the new code, then add the version.
"""
from __future__ import annotations

KNOWN_RASA_VERSIONS: tuple[str, ...] = ("3.6.21",)


class UnknownRasaVersion(RuntimeError):
    """The installed Rasa is not one the runtime's patches were checked against."""


def installed_rasa_version() -> str:
    from rasa import __version__

    return str(__version__)


def check_rasa_version(version: str | None = None) -> str:
    """The installed Rasa version when it is known; `UnknownRasaVersion` with what to do otherwise."""
    found = version if version is not None else installed_rasa_version()
    if found not in KNOWN_RASA_VERSIONS:
        raise UnknownRasaVersion(
            f"hotline_rasa patches the internals of Rasa {', '.join(KNOWN_RASA_VERSIONS)}, and this is Rasa {found}. "
            "Check each patch of hotline_rasa/speedups.py and hotline_rasa/tracker_store.py against the new Rasa "
            "(tests/test_rasa_speedups.py, each patch's `touches`), then add the version to KNOWN_RASA_VERSIONS in "
            "hotline_rasa/versions.py; or run Rasa as shipped: HOTLINE_RASA_SPEEDUPS=0 (endpoints.yml's tracker "
            "store then behaves as Rasa's own SQLTrackerStore).")
    return found
