"""Structured logs without personal data (hotline/logs.py): a conversation with a phone number and an ID number
goes through the web app (a real uvicorn process, a fake Rasa) and the action server (a real rasa-sdk process,
with the database down so it has something to complain about); every log line is grepped for them."""
from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hotline import logs
from hotline.privacy import hash_sender
from tests.fakes.rasa import FakeRasa
from tests.fakes.server import LoopbackServer
from tests.stack import APP_PYTHON, ROOT, free_port

PHONE, ID_NUMBER = "13977212345", "450202199001011234"
PERSONAL = (PHONE, ID_NUMBER, "139-7721-2345", "1397721", "20199001")


def test_formatter_masks_numbers_tokens_and_addresses() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tests.logs.unit")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter("unit"))
    logger.addHandler(handler)
    try:
        logger.warning("call %s about %s", "139-7721-2345", f"身份证{ID_NUMBER}", extra={"channel": "web"})
        try:
            raise ValueError(f"bad text 我的电话{PHONE}")
        except ValueError:
            logger.exception("failed on http://127.0.0.1:5005/x?token=s3cr3t&q=1 and /bot123:AAH-x_y/send")
        access = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                                   ("203.0.113.7:5123", "GET", f"/api/advisors?q={PHONE}", "1.1", 200), None)
        handler.handle(access)
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    text = stream.getvalue()
    for secret in (*PERSONAL, "s3cr3t", "AAH-x_y", "203.0.113.7"):
        assert secret not in text, secret
    assert lines[0]["msg"] == "call 139****2345 about 身份证450202********1234" and lines[0]["channel"] == "web"
    assert "ValueError" in lines[1]["exc"] and "139****2345" in lines[1]["exc"]
    assert lines[2]["msg"].startswith('- - "GET /api/advisors?q=139****2345')


def _wait(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text()[-3000:])
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[str, Path, FakeRasa]]:
    """The web app as a uvicorn process with JSON logs at DEBUG, in front of a fake Rasa."""
    fake = FakeRasa()
    env = {**os.environ, "HOTLINE_LOG_FORMAT": "json", "HOTLINE_LOG_LEVEL": "DEBUG",
           "HOTLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.db'}", "HOTLINE_VAR_DIR": str(tmp_path / "var"),
           "HOTLINE_SENDER_SALT": "log-salt", "HOTLINE_RASA_TIMEOUT": "2"}
    from sqlalchemy import create_engine

    from hotline.store.models import Base

    engine = create_engine(env["HOTLINE_DATABASE_URL"])
    Base.metadata.create_all(engine)
    engine.dispose()
    port, log = free_port(), tmp_path / "web.log"
    with LoopbackServer(fake.app()) as rasa:
        env["RASA_URL"] = rasa.url
        proc = subprocess.Popen([str(APP_PYTHON), "-m", "uvicorn", "bot.app:app", "--host", "127.0.0.1", "--port",
                                 str(port), "--log-level", "debug"], cwd=ROOT, env=env,
                                stdout=log.open("w"), stderr=subprocess.STDOUT)
        try:
            _wait(f"http://127.0.0.1:{port}/healthz", proc, log)
            yield f"http://127.0.0.1:{port}", log, fake
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def check_log(name: str, text: str) -> None:
    for secret in PERSONAL:
        assert secret not in text, f"{secret} in the {name} log"
    json_lines = [line for line in text.splitlines() if line.startswith("{")]
    assert json_lines and all(json.loads(line)["service"] == name for line in json_lines)


def test_a_conversation_with_a_phone_and_an_id_number_leaves_neither_in_the_web_log(web) -> None:  # type: ignore[no-untyped-def]
    url, log, fake = web
    said = [f"我叫张三，电话{PHONE}", f"身份证号{ID_NUMBER}", "139-7721-2345 打这个"]
    with httpx.Client(base_url=url, timeout=10) as client:
        for text in said:
            assert client.post("/api/chat", json={"sender": PHONE, "message": text}).status_code == 200
        fake.mode = "error"  # Rasa fails: the web app logs a warning and answers with the fallback
        assert client.post("/api/chat", json={"sender": ID_NUMBER, "message": said[0]}).status_code == 200
        fake.mode = "garbage"
        assert client.post("/api/chat", json={"sender": ID_NUMBER, "message": said[1]}).status_code == 200
        client.get("/api/advisors", params={"q": PHONE})  # the access log line carries the query
        client.get(f"/api/chat/{ID_NUMBER}/messages", params={"since": 0})
        client.post("/api/chat", content=f'{{"sender": "{PHONE}", "message": '.encode())  # malformed
        client.post("/api/login", json={"username": PHONE, "password": ID_NUMBER})
        assert client.get("/metrics").status_code == 200
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]  # no unexpected error on the way
    assert '"service": "web"' in text and "Rasa unavailable" in text  # the formatter ran; a warning was logged
    assert "/api/advisors?q=139****2345" in text
    check_log("web", text)


def test_the_actions_log_a_consultation_without_personal_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The action server's write path, database down (the outbox warns), phone and ID in the tracker."""
    from rasa_sdk import Tracker

    from actions.consultation_log import record_open_topic
    from hotline.settings import get_settings
    from hotline.store import db

    away = tmp_path / "db-is-down"
    away.mkdir()  # a directory where the SQLite file should be: every write fails
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{away}")
    monkeypatch.setenv("HOTLINE_OUTBOX_PATH", str(tmp_path / "outbox.db"))
    monkeypatch.setenv("HOTLINE_OUTBOX_RETRY_S", "3600")
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure("actions", level="DEBUG", stream=stream)
        sender = "web:" + hash_sender(PHONE, "test-salt")
        events = [{"event": "session_started", "timestamp": time.time()},
                  {"event": "user", "text": f"电话{PHONE}，身份证{ID_NUMBER}", "timestamp": time.time()}]
        tracker = Tracker(sender, {"open_topic": "wage_arrears", "phone": PHONE, "street": None, "amount": 20000,
                                   "people_count": 3, "employer": f"张三{ID_NUMBER}"},
                          {"text": events[1]["text"], "intent": {"name": "goodbye"}}, events, False, None, {},
                          "action_listen")
        assert record_open_topic(tracker)  # logged (in the outbox): the slots that remember it are set
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    text = stream.getvalue()
    assert "outbox" in text  # the warning that could have leaked did run
    check_log("actions", text)
