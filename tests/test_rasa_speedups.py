"""scripts/rasa_speedups.py changes how fast Rasa works, never what it answers: run Rasa's own code and the patched
code side by side in the Rasa environment and compare."""
from __future__ import annotations

import json
import subprocess

import pytest

from tests.stack import RASA_PYTHON, ROOT

CHECK = r"""
import json, sys
sys.path.insert(0, "scripts")
import jsonschema
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event

action = RemoteAction("action_x", None)
answers = [
    {"events": [{"event": "slot", "name": "amount", "value": 35000}], "responses": [{"response": "utter_ask_x"}]},
    {"events": [], "responses": []},
    {},
    {"events": [{"event": "slot", "value": 1}]},          # a slot event without its name
    {"events": [{"event": "nonsense"}]},
    {"events": "not a list"},
    {"responses": "not a list"},
]
names = ["slot", "action", "user", "bot", "session_started", "active_loop", "rewind", "restart", "followup",
         "pause", "resume", "loop_interrupted", "action_execution_rejected", "nonsense", "topic"]

def run():
    out = []
    for a in answers:
        try:
            out.append(["ok", action._validate_action_result(a)])
        except jsonschema.ValidationError as e:
            out.append(["error", e.message, list(e.path)])
    for n in names:
        try:
            cls = Event.resolve_by_type(n)
            out.append([n, cls.__name__ if cls else None])
        except ValueError as e:
            out.append([n, "ValueError", str(e)])
        out.append([n, "default", getattr(Event.resolve_by_type(n, default=Event), "__name__", None)])
    return out

stock = run()
import rasa_speedups
applied = rasa_speedups.apply()
print(json.dumps({"applied": applied, "stock": stock, "patched": run(), "again": run()}))
"""


@pytest.mark.rasa
def test_patched_rasa_validates_and_resolves_exactly_as_stock_rasa() -> None:
    if not RASA_PYTHON.exists():
        pytest.skip("no Rasa environment (make setup)")
    done = subprocess.run([str(RASA_PYTHON), "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["applied"] == ["compiled_action_validation", "cached_event_lookup"]
    assert result["patched"] == result["stock"]
    assert result["again"] == result["stock"]  # the cached lookups answer the same the second time
    # The comparison is not vacuous: bad answers are refused and unknown events are errors, in both.
    assert sum(1 for r in result["stock"] if r[0] == "error") == 4
    assert ["nonsense", "ValueError", "Unknown event name 'nonsense'."] in result["stock"]
