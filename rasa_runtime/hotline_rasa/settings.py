"""Every environment variable the Rasa runtime reads (serve, train, the speed-ups, the tracker store, resilience),
read here. hotline.settings is the app's own: it lives in the other environment, with SQLAlchemy 2, and reads
HOTLINE_ACTIONS_URLS the same way (a comma list, blanks dropped) for the web app's health checks."""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class RuntimeSettings:
    rasa_token: str          # HOTLINE_RASA_TOKEN: Rasa's HTTP API token (`?token=`)
    rasa_host: str           # HOTLINE_RASA_HOST: the interface `serve` binds when `-i` is not given
    speedups: bool           # HOTLINE_RASA_SPEEDUPS: "0" runs Rasa as shipped
    tracker_cache_chars: int  # HOTLINE_TRACKER_CACHE_CHARS: event JSON each process keeps (tracker_store)
    actions_urls: tuple[str, ...] = ()  # HOTLINE_ACTIONS_URLS: the other action servers to try (resilience)
    actions_retry_s: float = 6.0  # HOTLINE_ACTIONS_RETRY_S: how long an action call is retried (resilience)

    @classmethod
    def from_env(cls) -> RuntimeSettings:
        return cls(rasa_token=os.environ.get("HOTLINE_RASA_TOKEN", ""),
                   rasa_host=os.environ.get("HOTLINE_RASA_HOST", "127.0.0.1"),
                   speedups=os.environ.get("HOTLINE_RASA_SPEEDUPS", "1") != "0",
                   # A few hundred conversations' worth; least recently used ones are dropped first.
                   tracker_cache_chars=int(os.environ.get("HOTLINE_TRACKER_CACHE_CHARS", str(64 * 1024 * 1024))),
                   actions_urls=tuple(u.strip() for u in os.environ.get("HOTLINE_ACTIONS_URLS", "").split(",")
                                      if u.strip()),
                   actions_retry_s=float(os.environ.get("HOTLINE_ACTIONS_RETRY_S", "6")))
