"""The chaos benchmark, small and seeded (scripts/chaos.py; `make bench` runs the full one into reports/chaos.md):
whole wage claims through POST /api/chat of `make run`'s own supervisor while a Rasa process crash-loops (backed off
alone), then an action server, the web app and (where its binaries are) PostgreSQL are each killed with SIGKILL, in
the middle of turns. Every claim must finish with the facts the citizen said, one consultation row each, and no
outage message while a Rasa process was healthy."""
from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.stack import ROOT, require_model

pytestmark = pytest.mark.rasa


def test_processes_killed_mid_conversation_change_no_fact() -> None:
    require_model()
    spec = importlib.util.spec_from_file_location("chaos", ROOT / "scripts" / "chaos.py")
    assert spec and spec.loader
    chaos = importlib.util.module_from_spec(spec)
    sys.modules["chaos"] = chaos
    spec.loader.exec_module(chaos)
    # rasa0 killed five times as it comes back (the first while serving), then one kill of each kind, mid-turn.
    result, _ = chaos.run(conversations=10, concurrency=4, kills=1, seed=7, kill_every_s=2.0, crash_loop=5)
    assert "`backoff`" in result.crash_loop and "rasa1 `running`" in result.crash_loop, result.kill_log
    kinds = {"actions", "web"} | ({"postgres"} if chaos.Postgres.available() else set())
    assert all(result.kills.get(k) == 1 for k in kinds), result.kill_log
    assert result.problems == []
    assert result.finished == 10 and result.turns >= 10 * 10
    assert result.outages_rasa_healthy == 0 and result.wrong == 0 and result.lost == 0 and result.doubled == 0
