"""Start the real Rasa server(s) and action server on free loopback ports for end-to-end tests.

Doors closed as in `make run`: Rasa wants its API token (`?token=`), the action server wants the shared secret Rasa
sends from `endpoints.yml` (the project's own file, with its ${VAR}s set here). `running_stack` is one Rasa and one
action server; `running_cluster` is several Rasa processes sharing a tracker store, with handles to stop, kill and
restart each process (the fault tests).
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "current.tar.gz"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
APP_PYTHON = ROOT / ".venv" / "bin" / "python"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_in_rasa(script: str, *args: str, timeout: float = 300) -> Any:
    """Run a Python script in the Rasa environment (from the project root, Rasa's telemetry and TensorFlow's chatter
    off) and return the JSON its last printed line holds; skip when there is no Rasa environment."""
    if not RASA_PYTHON.exists():
        pytest.skip("no Rasa environment (make setup)")
    done = subprocess.run([str(RASA_PYTHON), "-c", script, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={"TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false",
                                                "PATH": "/usr/bin:/bin", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


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
    rasa_token: str = ""
    actions_token: str = ""
    rasa_urls: list[str] = field(default_factory=list)

    def tracker(self, sender: str, rasa_url: str | None = None) -> dict:
        """The conversation's tracker through Rasa's HTTP API, token included: from `rasa_url`, else from the first
        process that takes the connection (they share one tracker store)."""
        bases = [rasa_url] if rasa_url else (self.rasa_urls or [self.rasa_url])
        for base in bases:
            try:
                resp = httpx.get(f"{base}/conversations/{sender}/tracker", params={"token": self.rasa_token},
                                 timeout=30)
            except httpx.ConnectError:
                if base == bases[-1]:
                    raise
                continue
            resp.raise_for_status()
            return resp.json()
        raise AssertionError("no Rasa process")


def prepared_database(url: str, **env: str) -> str:
    """`url` migrated to head with the sample roster loaded, through the `hotline` CLI as an operator would; the url."""
    environ = {**os.environ, **env, "HOTLINE_DATABASE_URL": url}
    hotline = str(ROOT / ".venv" / "bin" / "hotline")
    subprocess.run([hotline, "db", "upgrade"], env=environ, check=True, capture_output=True)
    subprocess.run([hotline, "directory", "import", str(ROOT / "data" / "directory_sample.csv")], env=environ,
                   check=True, capture_output=True)
    return url


def _wait(url: str, procs: list[subprocess.Popen], logs: list[Path], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc, log in zip(procs, logs, strict=True):
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[0]} exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up in {timeout} s")


class Cluster:
    """The processes of one test stack: the action server and Rasa processes 0..n-1, each restartable."""

    def __init__(self, tmp: Path, database_url: str, *, rasa_processes: int = 1, with_actions: bool = True,
                 tracker_store_url: str | None = None, lock_store: str = "in_memory",
                 redis: tuple[str, int] | None = None, extra_env: dict[str, str] | None = None) -> None:
        self.tmp = tmp
        self.actions_port = free_port()
        self.rasa_ports = [free_port() for _ in range(rasa_processes)]
        self.rasa_token, self.actions_token = secrets.token_hex(16), secrets.token_hex(16)
        redis_host, redis_port = redis or ("127.0.0.1", 6379)
        self.env = {
            **os.environ, "HOTLINE_DATABASE_URL": database_url, "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "HOTLINE_RASA_TOKEN": self.rasa_token, "HOTLINE_ACTIONS_TOKEN": self.actions_token,
            "HOTLINE_ACTIONS_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
            "HOTLINE_TRACKER_STORE_URL": tracker_store_url or f"sqlite:///{tmp / 'rasa_tracker.db'}",
            "HOTLINE_LOCK_STORE": lock_store, "HOTLINE_REDIS_HOST": redis_host,
            "HOTLINE_REDIS_PORT": str(redis_port), "HOTLINE_REDIS_DB": "1", "HOTLINE_REDIS_PASSWORD": "",
            **(extra_env or {}),
        }
        self.with_actions = with_actions
        self.actions: subprocess.Popen | None = None
        self.rasa: list[subprocess.Popen | None] = [None] * rasa_processes
        self.stack = Stack(self.rasa_url(0), f"http://127.0.0.1:{self.actions_port}/webhook", database_url,
                           self.rasa_token, self.actions_token, [self.rasa_url(i) for i in range(rasa_processes)])

    def rasa_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[i]}"

    def _log(self, name: str) -> Path:
        return self.tmp / f"{name}.log"

    def start_actions(self, *, wait: bool = True) -> None:
        log = self._log("actions")
        self.actions = subprocess.Popen(
            [str(APP_PYTHON), "-m", "actions.server", "-p", str(self.actions_port)],
            cwd=ROOT, env=self.env, stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True)
        if wait:
            _wait(f"http://127.0.0.1:{self.actions_port}/health", [self.actions], [log])

    def start_rasa(self, i: int, *, wait: bool = True) -> None:
        log = self._log(f"rasa{i}")
        self.rasa[i] = subprocess.Popen(
            [str(RASA_PYTHON), "-m", "hotline_rasa.serve", "--enable-api", "-i", "127.0.0.1",
             "-p", str(self.rasa_ports[i]), "-m", str(MODEL), "--endpoints", str(ROOT / "endpoints.yml"),
             "--credentials", str(ROOT / "credentials.yml")],
            cwd=ROOT, env=self.env, stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True)
        if wait:
            self.wait_rasa(i)

    def wait_rasa(self, i: int) -> None:
        proc = self.rasa[i]
        assert proc is not None
        _wait(f"{self.rasa_url(i)}/", [proc], [self._log(f"rasa{i}")])

    @staticmethod
    def _end(proc: subprocess.Popen | None, sig: signal.Signals) -> None:
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def kill_actions(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no clean shutdown."""
        self._end(self.actions, signal.SIGKILL)
        self.actions = None

    def kill_rasa(self, i: int) -> None:
        self._end(self.rasa[i], signal.SIGKILL)
        self.rasa[i] = None

    def stop(self) -> None:
        for proc in [self.actions, *self.rasa]:
            self._end(proc, signal.SIGTERM)


@contextmanager
def action_server_alone(tmp: Path, secret: str) -> Iterator[str]:
    """The action server by itself on a free port with its default host (loopback), its database and var under
    `tmp`; yields its base URL."""
    port = free_port()
    env = {**os.environ, "HOTLINE_ACTIONS_TOKEN": secret, "HOTLINE_VAR_DIR": str(tmp / "var"),
           "HOTLINE_DATABASE_URL": f"sqlite:///{tmp / 'actions.db'}"}
    env.pop("HOTLINE_ACTIONS_HOST", None)
    log = tmp / "actions.log"
    proc = subprocess.Popen([str(APP_PYTHON), "-m", "actions.server", "-p", str(port)], cwd=ROOT, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        _wait(f"http://127.0.0.1:{port}/health", [proc], [log], timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@contextmanager
def running_cluster(tmp: Path, database_url: str, *, rasa_processes: int = 2, **kwargs: object) -> Iterator[Cluster]:
    """Several Rasa processes (loaded in parallel) and one action server, stopped at the end whatever happens."""
    require_model()
    cluster = Cluster(tmp, database_url, rasa_processes=rasa_processes, **kwargs)  # type: ignore[arg-type]
    try:
        if cluster.with_actions:
            cluster.start_actions(wait=False)
        for i in range(rasa_processes):
            cluster.start_rasa(i, wait=False)
        if cluster.with_actions:
            assert cluster.actions is not None
            _wait(f"http://127.0.0.1:{cluster.actions_port}/health", [cluster.actions], [cluster._log("actions")])
        for i in range(rasa_processes):
            cluster.wait_rasa(i)
        yield cluster
    finally:
        cluster.stop()


@contextmanager
def running_stack(tmp: Path, database_url: str, *, with_actions: bool = True) -> Iterator[Stack]:
    """One Rasa process and one action server."""
    with running_cluster(tmp, database_url, rasa_processes=1, with_actions=with_actions) as cluster:
        yield cluster.stack
