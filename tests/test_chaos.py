"""The chaos benchmark, small and seeded (scripts/chaos.py; `make bench` runs the full one into reports/chaos.md):
whole wage claims through POST /api/chat of `make run`'s own supervisor while a Rasa process, an action server, the
web app and (where its binaries are) PostgreSQL are each killed with SIGKILL. Every claim must finish with the facts
the citizen said, one consultation row each, and no outage message while a Rasa process was healthy."""
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
    result, _ = chaos.run(conversations=8, concurrency=4, kills=1, seed=7, kill_every_s=3.0)
    kinds = {"rasa", "actions", "web"} | ({"postgres"} if chaos.Postgres.available() else set())
    assert set(result.kills) == kinds and all(n == 1 for n in result.kills.values()), result.kill_log
    assert result.problems == []
    assert result.finished == 8 and result.turns >= 8 * 10
    assert result.outages_rasa_healthy == 0 and result.wrong == 0 and result.lost == 0 and result.doubled == 0
