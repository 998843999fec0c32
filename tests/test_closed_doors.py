"""Closed doors (CONTRACT §1): the action server only runs actions for a caller with the shared secret and listens on
loopback; Rasa's HTTP API is only started with a token; every call of the web app to Rasa's API carries it.
The real Rasa server's refusal of an unauthenticated tracker read is in tests/test_faults.py (it needs the model)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from actions.server import TOKEN_HEADER, secret_matches
from bot.rasa_client import forward_to_rasa, parse, resume_conversation
from tests.fakes.server import LoopbackServer
from tests.stack import RASA_PYTHON, ROOT, action_server_alone

SECRET = "a-shared-secret-for-this-test"
GREET_CALL = {
    "next_action": "action_goodbye", "sender_id": "web:" + "a" * 64, "version": "3.6.21",
    "tracker": {"sender_id": "web:" + "a" * 64, "slots": {}, "latest_message": {"text": "再见", "intent": {}},
                "events": [], "paused": False, "followup_action": None, "active_loop": {},
                "latest_action_name": "action_listen", "latest_input_channel": "rest"},
    "domain": {"responses": {}, "slots": {}, "forms": {}},
}


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the TCP sockets listening on `port` (from /proc/net/tcp{,6}: state 0A is LISTEN)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(addr)
    return found


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with action_server_alone(tmp_path_factory.mktemp("doors"), SECRET) as url:
        yield url


def test_action_server_listens_on_loopback_only(action_server: str) -> None:
    port = int(action_server.rsplit(":", 1)[1])
    assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing on 0.0.0.0 or ::


@pytest.mark.parametrize("headers", [{}, {TOKEN_HEADER: ""}, {TOKEN_HEADER: "wrong"},
                                     {TOKEN_HEADER: SECRET[:-1]}, {"Authorization": f"Bearer {SECRET}"}],
                         ids=["none", "empty", "wrong", "prefix", "other-header"])
def test_action_server_refuses_a_call_without_the_secret(action_server: str, headers: dict[str, str]) -> None:
    resp = httpx.post(f"{action_server}/webhook", json=GREET_CALL, headers=headers, timeout=10)
    assert resp.status_code == 403
    assert resp.json() == {"error": "forbidden"}  # nothing about actions or the tracker comes back
    assert httpx.get(f"{action_server}/actions", headers=headers, timeout=10).status_code == 403


def test_action_server_runs_actions_for_rasa(action_server: str) -> None:
    resp = httpx.post(f"{action_server}/webhook", json=GREET_CALL, headers={TOKEN_HEADER: SECRET}, timeout=30)
    assert resp.status_code == 200, resp.text
    assert "events" in resp.json()
    names = {a["name"] for a in httpx.get(f"{action_server}/actions", headers={TOKEN_HEADER: SECRET}).json()}
    assert "action_goodbye" in names


def test_action_server_health_needs_no_secret(action_server: str) -> None:
    assert httpx.get(f"{action_server}/health", timeout=10).json() == {"status": "ok"}


def test_secret_comparison() -> None:
    assert secret_matches("abc", "abc")
    assert not secret_matches(None, "abc") and not secret_matches("abd", "abc") and not secret_matches("", "")


def test_rasa_launcher_refuses_to_start_without_a_token() -> None:
    python = RASA_PYTHON if RASA_PYTHON.exists() else Path(sys.executable)
    # The checks come before Rasa is imported: the package's source alone is enough, in either environment.
    env = {k: v for k, v in os.environ.items() if k != "HOTLINE_RASA_TOKEN"} | {
        "PYTHONPATH": str(ROOT / "rasa_runtime")}
    done = subprocess.run([str(python), "-m", "hotline_rasa.serve", "--enable-api"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "HOTLINE_RASA_TOKEN" in done.stderr
    done = subprocess.run([str(python), "-m", "hotline_rasa.serve", "--auth-token", "x"],
                          env={**env, "HOTLINE_RASA_TOKEN": "t"}, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "not on the command line" in done.stderr


def test_endpoints_send_the_secret_and_read_the_environment() -> None:
    """endpoints.yml is Rasa's; what the action server checks must be what Rasa is told to send."""
    import yaml

    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    assert endpoints["action_endpoint"]["headers"] == {TOKEN_HEADER: "${HOTLINE_ACTIONS_TOKEN}"}
    assert endpoints["action_endpoint"]["url"] == "${HOTLINE_ACTIONS_URL}"
    # Rasa's SQL store with rows kept per process (tests/test_rasa_speedups.py checks Rasa really builds this class)
    assert endpoints["tracker_store"] == {"type": "hotline_rasa.tracker_store.KeptRowsSQLTrackerStore",
                                          "url": "${HOTLINE_TRACKER_STORE_URL}"}
    assert endpoints["lock_store"]["type"] == "${HOTLINE_LOCK_STORE}"


# --- the web app's calls carry the token ---------------------------------------------------------------------


@pytest.fixture
def recording_rasa(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, dict[str, str]]]]:
    """A fake Rasa that records (path, query) of every call; RASA_URLS points at it, with a known token."""
    calls: list[tuple[str, dict[str, str]]] = []
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def any_route(path: str, request: Request) -> JSONResponse:
        calls.append(("/" + path, dict(request.query_params)))
        body: Any = [{"text": "好的"}] if path.startswith("webhooks") else {
            "intent": {"name": "greet", "confidence": 0.9}, "entities": []}
        return JSONResponse(body)

    with LoopbackServer(app) as srv:
        monkeypatch.setenv("RASA_URLS", srv.url)
        monkeypatch.setenv("HOTLINE_RASA_TOKEN", "tok-123")
        from hotline.settings import get_settings

        get_settings.cache_clear()
        yield calls


async def test_api_calls_carry_the_token_and_the_webhook_does_not(recording_rasa: list) -> None:
    await parse("你好")
    assert await resume_conversation("web", "b" * 64)
    await forward_to_rasa("u1", "你好", "web")
    by_path = dict(recording_rasa)
    assert by_path["/model/parse"]["token"] == "tok-123"
    assert by_path[f"/conversations/web:{'b' * 64}/tracker/events"] == {"token": "tok-123", "include_events": "NONE"}
    assert "token" not in by_path["/webhooks/rest/webhook"]  # the REST channel is not behind the token
    assert "tok-123" not in json.dumps([c for c in recording_rasa if c[0].startswith("/webhooks")])
