"""The web app moves what starting it made out of the collector's sight, once per process (bot/app.py; issue 28):
a full collection no longer walks ~310,000 objects that live as long as the process, with every turn waiting."""
from __future__ import annotations

import gc

import pytest
from fastapi.testclient import TestClient

from bot import app as web


def test_the_web_app_freezes_its_startup_objects_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web, "_frozen", False)
    gc.unfreeze()
    try:
        with TestClient(web.create_app()) as client:
            assert client.get("/").status_code == 200  # the web chat
            frozen = gc.get_freeze_count()
        assert frozen > 100_000
        with TestClient(web.create_app()):
            assert gc.get_freeze_count() <= frozen  # a second app in the same process freezes nothing more
    finally:
        gc.unfreeze()
