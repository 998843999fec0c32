"""The long-running processes move what starting them made out of the collector's sight and raise its thresholds,
once per process (hotline/collector.py; issue 28): a full collection no longer walks ~310,000 objects that live as
long as the process, nor runs in the middle of a crowd with every turn waiting. Rasa's processes do the same
(hotline_rasa.speedups.frozen_model_objects) with the same thresholds."""
from __future__ import annotations

import ast
import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot import app as web
from hotline import collector

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh_collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(collector, "_settled", False)
    thresholds = gc.get_threshold()
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_the_web_app_settles_the_collector_once(fresh_collector: None) -> None:
    gc.set_threshold(700, 10, 10)
    with TestClient(web.create_app()) as client:
        assert client.get("/").status_code == 200  # the web chat
        frozen = gc.get_freeze_count()
        assert gc.get_threshold() == collector.THRESHOLDS
    assert frozen > 100_000
    with TestClient(web.create_app()):
        assert gc.get_freeze_count() <= frozen  # a second app in the same process freezes nothing more


def test_the_action_server_settles_the_collector_before_serving(fresh_collector: None,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from actions import server

    seen: dict[str, object] = {}
    monkeypatch.setattr(server.Sanic, "run", lambda self, *a, **k: seen.update(
        frozen=gc.get_freeze_count(), thresholds=gc.get_threshold()))
    server.main(["-p", "0"])
    assert seen["thresholds"] == collector.THRESHOLDS and int(str(seen["frozen"])) > 100_000


def test_rasa_raises_the_same_thresholds() -> None:
    """The Rasa environment has no `hotline` package: its copy of the thresholds must stay equal to this one."""
    tree = ast.parse((ROOT / "rasa_runtime" / "hotline_rasa" / "speedups.py").read_text())
    [value] = [ast.literal_eval(node.value) for node in tree.body
               if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "GC_THRESHOLDS" for t in node.targets)]
    assert value == collector.THRESHOLDS
