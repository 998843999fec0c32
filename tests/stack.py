"""Start the real Rasa server and action server on free loopback ports for end-to-end tests."""
from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "current.tar.gz"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
APP_PYTHON = ROOT / ".venv" / "bin" / "python"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_model() -> None:
    """Skip when there is no trained model, unless `make test` demands one (HOTLINE_REQUIRE_MODEL=1)."""
    if MODEL.exists() and RASA.exists():
        return
    if os.environ.get("HOTLINE_REQUIRE_MODEL") == "1":
        pytest.fail(f"no trained model at {MODEL}: run `make train`")
    pytest.skip("no trained model (make train)")


@dataclass
class Stack:
    rasa_url: str
    actions_url: str
    database_url: str


def _wait(url: str, procs: list[subprocess.Popen], logs: list[Path], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc, log in zip(procs, logs):
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[0]} exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up in {timeout} s")


@contextmanager
def running_stack(tmp: Path, database_url: str, *, with_actions: bool = True) -> Iterator[Stack]:
    require_model()
    rasa_port, actions_port = free_port(), free_port()
    env = {**os.environ, "HOTLINE_DATABASE_URL": database_url, "RASA_TELEMETRY_ENABLED": "false",
           "TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    endpoints = tmp / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n')
    procs: list[subprocess.Popen] = []
    logs: list[Path] = []
    try:
        if with_actions:
            log = tmp / "actions.log"
            procs.append(subprocess.Popen(
                [str(APP_PYTHON), "-m", "rasa_sdk", "--actions", "actions", "-p", str(actions_port)],
                cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT))
            logs.append(log)
        log = tmp / "rasa.log"
        procs.append(subprocess.Popen(
            [str(RASA), "run", "--enable-api", "-i", "127.0.0.1", "-p", str(rasa_port), "-m", str(MODEL),
             "--endpoints", str(endpoints), "--credentials", str(ROOT / "credentials.yml")],
            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT))
        logs.append(log)
        if with_actions:
            _wait(f"http://127.0.0.1:{actions_port}/health", procs, logs)
        _wait(f"http://127.0.0.1:{rasa_port}/status", procs, logs)
        yield Stack(f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{actions_port}/webhook", database_url)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
