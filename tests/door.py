"""The web app in the test's own process, wired to a real stack (tests/stack.py): the citizen's door (`/api/chat`),
the operator's API (queue, take, reply, close) and the handoff rows, as a shift uses them.

Office hours are files of hotline/office_hours.yml's shape (HOTLINE_OFFICE_HOURS_FILE), given to the action server
when the stack starts and to the web app here: "open" (every day, all day) or "closed" (never).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from hotline import office_hours
from hotline.store import operators
from hotline.store.models import ChatMessage, Handoff
from tests.stack import Stack, prepared_database, running_cluster

HOURS = {
    "open": "weekdays: [1, 2, 3, 4, 5, 6, 7]\nperiods:\n  - [\"00:00\", \"23:59\"]\n",
    "closed": "weekdays: []\nperiods:\n  - [\"08:00\", \"12:00\"]\n",
}


def hours_file(folder: Path, mode: str) -> Path:
    """An office-hours file that is always open or always closed (mode "open" | "closed")."""
    path = folder / f"office_hours_{mode}.yml"
    # The label is what citizens read after hours: the bureau's real hours, hotline/office_hours.yml's own.
    label = yaml.safe_load(office_hours.DATA.read_text(encoding="utf-8"))["label"]
    path.write_text(f"timezone: Asia/Shanghai\n{HOURS[mode]}label: {label}\n", encoding="utf-8")
    return path


@contextmanager
def stack_in_hours(tmp: Path, mode: str) -> Iterator[tuple[Stack, Path]]:
    """One Rasa and the action server on a fresh database, in office hours that are always `mode` (open | closed)."""
    hours = hours_file(tmp, mode)
    url = f"sqlite:///{tmp / 'hotline.db'}"
    prepared_database(url, HOTLINE_VAR_DIR=str(tmp / "var"))
    with running_cluster(tmp, url, rasa_processes=1, extra_env={"HOTLINE_OFFICE_HOURS_FILE": str(hours),
                                                                "HOTLINE_VAR_DIR": str(tmp / "var")}) as cluster:
        yield cluster.stack, hours


@dataclass
class Door:
    client: TestClient
    stack: Stack
    auth: dict[str, str]
    login: tuple[str, str] = ("", "")  # the operator's username and password

    def on_shift(self) -> None:
        """The operator logs in again (a fresh token): on shift for the actions' "anyone there?" check."""
        resp = self.client.post("/api/login", json={"username": self.login[0], "password": self.login[1]})
        assert resp.status_code == 200, resp.text
        self.client.cookies.clear()
        self.auth = {"Authorization": f"Bearer {resp.json()['token']}"}

    def off_shift(self) -> None:
        """The operator logs out: nobody on shift until `on_shift`."""
        self.client.post("/api/logout", headers=self.auth)

    def chat(self, sender: str, message: str) -> list[dict[str, Any]]:
        resp = self.client.post("/api/chat", json={"sender": sender, "message": message})
        assert resp.status_code == 200, resp.text
        return resp.json()["messages"]

    def said(self, sender: str, message: str) -> str:
        """The bot's whole answer to one message, as one text."""
        return "\n".join(m.get("text") or "" for m in self.chat(sender, message))

    def conversation(self, sender: str) -> str:
        from bot.rasa_client import rasa_sender

        return rasa_sender(sender, "web")

    def handoffs(self, sender: str) -> list[Handoff]:
        """Every handoff row of this web citizen's conversation, oldest first."""
        return self.handoffs_of(self.conversation(sender))

    def handoffs_of(self, conversation: str) -> list[Handoff]:
        """Every handoff row of a conversation (`channel:hash`), oldest first."""
        engine = create_engine(self.stack.database_url)
        try:
            with Session(engine) as s:
                rows = list(s.scalars(select(Handoff).where(Handoff.conversation_id == conversation)
                                      .order_by(Handoff.id)))
                s.expunge_all()
                return rows
        finally:
            engine.dispose()

    def open_handoff(self, sender: str) -> Handoff:
        rows = [h for h in self.handoffs(sender) if h.status != "closed"]
        assert len(rows) == 1, f"expected one open handoff, found {[(h.id, h.status) for h in self.handoffs(sender)]}"
        return rows[0]

    def status(self, handoff_id: int, status: str) -> dict[str, Any]:
        resp = self.client.post(f"/api/handoffs/{handoff_id}/status", headers=self.auth, json={"status": status})
        assert resp.status_code == 200, resp.text
        return resp.json()

    def reply(self, handoff_id: int, text: str) -> None:
        resp = self.client.post(f"/api/handoffs/{handoff_id}/reply", headers=self.auth, json={"text": text})
        assert resp.status_code == 201, resp.text

    def age(self, handoff_id: int, hours: float) -> None:
        """Move a handoff's every moment `hours` into the past, as if nobody had spoken in it since (the timeout)."""
        engine = create_engine(self.stack.database_url)
        shift = timedelta(hours=hours)
        try:
            with Session(engine) as s:
                h = s.get(Handoff, handoff_id)
                assert h is not None
                for column in ("created_at", "taken_at", "last_citizen_at"):
                    if getattr(h, column) is not None:
                        setattr(h, column, getattr(h, column) - shift)
                for line in s.scalars(select(ChatMessage).where(ChatMessage.conversation_id == h.conversation_id)):
                    line.at = line.at - shift
                s.commit()
        finally:
            engine.dispose()

    def tracker(self, sender: str) -> dict[str, Any]:
        return self.stack.tracker(self.conversation(sender))


def wire(monkeypatch: pytest.MonkeyPatch, stack: Stack, hours: Path | None = None) -> None:
    """Point this process's settings, database engine and office hours at the stack."""
    from hotline import office_hours, settings
    from hotline.store import db

    monkeypatch.setenv("HOTLINE_DATABASE_URL", stack.database_url)
    monkeypatch.setenv("RASA_URL", stack.rasa_url)
    monkeypatch.setenv("RASA_URLS", ",".join(stack.rasa_urls or [stack.rasa_url]))
    monkeypatch.setenv("HOTLINE_RASA_TOKEN", stack.rasa_token)
    monkeypatch.setenv("HOTLINE_ACTIONS_URL", stack.actions_url)
    monkeypatch.setenv("HOTLINE_RASA_TIMEOUT", "60")
    monkeypatch.setenv("HOTLINE_RATE_LIMIT", "0")
    if hours is not None:
        monkeypatch.setenv("HOTLINE_OFFICE_HOURS_FILE", str(hours))
    settings.get_settings.cache_clear()
    db.get_engine.cache_clear()
    office_hours._load.cache_clear()


def new_operator(client: TestClient, database_url: str, username: str,
                 display_name: str | None = None) -> tuple[dict[str, str], tuple[str, str]]:
    """A new operator logged in through the API: the bearer header (the login also puts them on shift) and the
    login."""
    engine = create_engine(database_url)
    try:
        with Session(engine) as s:
            password = operators.create_operator(session=s, username=username, display_name=display_name)
            s.commit()
    finally:
        engine.dispose()
    token = client.post("/api/login", json={"username": username, "password": password}).json()["token"]
    client.cookies.clear()
    return {"Authorization": f"Bearer {token}"}, (username, password)


@contextmanager
def door(monkeypatch: pytest.MonkeyPatch, stack: Stack, hours: Path | None = None,
         username: str | None = None) -> Iterator[Door]:
    import secrets

    from bot.app import create_app

    username = username or f"op.{secrets.token_hex(3)}"
    wire(monkeypatch, stack, hours)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        auth, login = new_operator(client, stack.database_url, username)
        yield Door(client, stack, auth, login)
