"""The supervisor of `make run` (scripts/supervise.py): a service that keeps dying is backed off alone while the
others keep serving, and /healthz and /metrics say so (bot/supervision.py)."""
from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("supervise", ROOT / "scripts" / "supervise.py")
assert _spec and _spec.loader
supervise = importlib.util.module_from_spec(_spec)
sys.modules["supervise"] = supervise
_spec.loader.exec_module(supervise)


def test_restart_at_once_until_the_burst_then_back_off_doubling_to_the_cap() -> None:
    deaths: list[float] = []
    level = 0
    delays = []
    for t in range(8):
        deaths.append(float(t))
        delay, level = supervise.next_delay(deaths, float(t), level)
        delays.append(delay)
    assert delays[:4] == [supervise.RESTART_S] * 4
    assert delays[4:] == [2.0, 4.0, 8.0, 16.0]
    deaths = [float(t) for t in range(40)]
    assert supervise.next_delay(deaths, 40.0, 9)[0] == supervise.BACKOFF_MAX_S
    # Deaths spread over more than a minute are no crash loop.
    assert supervise.next_delay([0.0, 20.0, 40.0, 61.0, 90.0], 90.0, 0) == (supervise.RESTART_S, 0)


def _state(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())["units"]


def test_a_crash_looping_service_backs_off_alone_while_the_other_keeps_serving(tmp_path: Path) -> None:
    state, log = tmp_path / "supervisor.json", tmp_path / "supervisor.log"
    flag = tmp_path / "started"
    # `looper` answers its health check at first (a file exists), then dies 0.3 s after each start.
    looper = f"bash -c 'if [ -e {flag} ]; then sleep 0.3; exit 3; fi; touch {flag}; sleep 1; exit 3'"
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "supervise.py"), "--state", str(state),
                             "--log", str(log), "--unit", "steady", "-", "sleep 600", "--unit", "looper", "-", looper],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            units = _state(state) if state.exists() else {}
            if units.get("looper", {}).get("state") == "backoff":
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"no back-off: {log.read_text() if log.exists() else ''}")
        steady_pid = units["steady"]["pid"]
        assert units["steady"]["state"] == "running" and units["steady"]["restarts"] == 0
        assert units["looper"]["restarts"] >= 4 and units["looper"]["next_start_in"] > 0
        assert proc.poll() is None  # the supervisor carries on: nothing else was stopped
        time.sleep(1.0)
        assert _state(state)["steady"]["pid"] == steady_pid
        assert "backing off" in log.read_text() and "the other services keep serving" in log.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    assert all(u["state"] == "stopped" and not u["ready"] for u in _state(state).values())


def test_a_death_while_starting_stops_everything(tmp_path: Path) -> None:
    state, log = tmp_path / "supervisor.json", tmp_path / "supervisor.log"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "supervise.py"), "--state", str(state),
                           "--log", str(log), "--unit", "steady", "http://127.0.0.1:9/", "sleep 600",
                           "--unit", "broken", "-", "exit 2"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and "broken died while starting" in done.stdout


def test_healthz_and_metrics_show_the_unit_backing_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       fake_rasa: Any) -> None:
    state = tmp_path / "supervisor.json"
    state.write_text(json.dumps({"updated": time.time(), "units": {
        "rasa0": {"state": "backoff", "ready": False, "restarts": 6, "next_start_in": 8.0},
        "rasa1": {"state": "running", "ready": True, "restarts": 0, "next_start_in": None}}}))
    monkeypatch.setenv("HOTLINE_SUPERVISOR_STATE", str(state))
    from bot.app import create_app

    with TestClient(create_app()) as client:
        health = client.get("/healthz")
        assert health.status_code == 200  # the rest serves
        body = health.json()
        assert body["status"] == "degraded" and body["processes"]["backing_off"] == ["rasa0"]
        assert body["processes"]["units"]["rasa0"]["restarts"] == 6
        metrics = client.get("/metrics").text
    assert 'hotline_unit_backoff{unit="rasa0"} 1.0' in metrics
    assert 'hotline_unit_backoff{unit="rasa1"} 0.0' in metrics
    assert 'hotline_unit_up{unit="rasa1"} 1.0' in metrics
    assert 'hotline_unit_restarts_total{unit="rasa0"} 6.0' in metrics
