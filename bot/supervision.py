"""What the supervisor of `make run` (scripts/supervise.py) says about each service, and what this web app's door
knows of the Rasa processes: shown on /healthz and /metrics, so a service backing off after a crash loop is seen
while the others serve."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

STALE_S = 10.0  # the supervisor writes every quarter second: older than this, it is gone


def state_path() -> Path:
    """HOTLINE_SUPERVISOR_STATE (run.sh sets it), else supervisor.json in HOTLINE_VAR_DIR, read when called."""
    from hotline.settings import get_settings

    settings = get_settings()
    return settings.supervisor_state or settings.var_dir / "supervisor.json"


def units() -> dict[str, dict[str, Any]] | None:
    """Each supervised unit's state (`state`, `ready`, `restarts`, `backoff_level`, `next_start_in`, ...), or None
    when no supervisor runs this web app (or it stopped writing)."""
    try:
        data = json.loads(state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or time.time() - float(data.get("updated") or 0) > STALE_S:
        return None
    found = data.get("units")
    return found if isinstance(found, dict) else None


def summary() -> dict[str, Any]:
    """/healthz's part: units by state, and the ones backing off by name."""
    from bot.rasa_client import rasa_down

    found = units()
    out: dict[str, Any] = {"rasa_marked_down": sorted(rasa_down())}
    if found is not None:
        out["units"] = {name: {k: u.get(k) for k in ("state", "ready", "restarts", "next_start_in")}
                        for name, u in found.items()}
        out["backing_off"] = sorted(name for name, u in found.items() if u.get("state") == "backoff")
    return out
