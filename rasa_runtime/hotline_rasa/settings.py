"""The environment variables serve, train, the speed-ups and the tracker store read, read here (hotline.settings is
the app's own: it lives in the other environment, with SQLAlchemy 2). resilience.py still reads its two itself
(HOTLINE_ACTIONS_URLS, HOTLINE_ACTIONS_RETRY_S)."""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class RuntimeSettings:
    rasa_token: str          # HOTLINE_RASA_TOKEN: Rasa's HTTP API token (`?token=`)
    rasa_host: str           # HOTLINE_RASA_HOST: the interface `serve` binds when `-i` is not given
    speedups: bool           # HOTLINE_RASA_SPEEDUPS: "0" runs Rasa as shipped
    tracker_cache_chars: int  # HOTLINE_TRACKER_CACHE_CHARS: event JSON each process keeps (tracker_store)

    @classmethod
    def from_env(cls) -> RuntimeSettings:
        return cls(rasa_token=os.environ.get("HOTLINE_RASA_TOKEN", ""),
                   rasa_host=os.environ.get("HOTLINE_RASA_HOST", "127.0.0.1"),
                   speedups=os.environ.get("HOTLINE_RASA_SPEEDUPS", "1") != "0",
                   # A few hundred conversations' worth; least recently used ones are dropped first.
                   tracker_cache_chars=int(os.environ.get("HOTLINE_TRACKER_CACHE_CHARS", str(64 * 1024 * 1024))))
