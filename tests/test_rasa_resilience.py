"""rasa_runtime/hotline_rasa/resilience.py's pure parts, in the app environment (the module imports Rasa only when
applied): the answer of a turn already applied, found by its id; the action servers tried in turn. The behaviour on
the real Rasa is tests/test_chaos.py's and tests/test_faults.py's."""
from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.stack import ROOT

sys.path.insert(0, str(ROOT / "rasa_runtime"))  # its settings (hotline_rasa.settings imports no Rasa)
_spec = importlib.util.spec_from_file_location("resilience", ROOT / "rasa_runtime" / "hotline_rasa" / "resilience.py")
assert _spec and _spec.loader
resilience = importlib.util.module_from_spec(_spec)
sys.modules["resilience"] = resilience
_spec.loader.exec_module(resilience)

EVENTS = [
    {"event": "user", "text": "我要讨薪", "metadata": {"hotline_turn": "t1"}},
    {"event": "bot", "text": "好的，先问几个问题。", "data": {"buttons": None}},
    {"event": "bot", "text": "欠钱的是哪个老板？", "data": {"buttons": [{"title": "跳过", "payload": "/skip"}]}},
    {"event": "action", "name": "action_listen"},
    {"event": "user", "text": "老李", "metadata": {"hotline_turn": "t2"}},
    {"event": "slot", "name": "employer", "value": "老李"},
    {"event": "bot", "text": "欠了多少钱？", "data": {}},
]


def test_the_answer_of_an_applied_turn_is_what_the_bot_said_after_it_up_to_the_next_user_turn() -> None:
    assert resilience.replies_after(EVENTS, "t1", "web:x") == [
        {"recipient_id": "web:x", "text": "好的，先问几个问题。"},
        {"recipient_id": "web:x", "text": "欠钱的是哪个老板？", "buttons": [{"title": "跳过", "payload": "/skip"}]}]
    assert resilience.replies_after(EVENTS, "t2", "web:x") == [{"recipient_id": "web:x", "text": "欠了多少钱？"}]


def test_a_turn_not_in_the_tracker_is_run() -> None:
    assert resilience.replies_after(EVENTS, "t3", "web:x") is None
    assert resilience.replies_after([{"event": "user", "text": "老李"}], "t2", "web:x") is None  # no id, no match


def test_action_servers_are_tried_configured_first(monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = "http://127.0.0.1:5055/webhook", "http://127.0.0.1:5056/webhook"
    monkeypatch.setenv("HOTLINE_ACTIONS_URLS", f"{a},{b}")
    assert resilience.action_urls(a) == [a, b]
    assert resilience.action_urls(b) == [b, a]
    monkeypatch.delenv("HOTLINE_ACTIONS_URLS")
    assert resilience.action_urls(a) == [a]


def test_an_abandoned_turn_escapes_rasas_catch_all_for_actions() -> None:
    # Rasa's processor catches every Exception of an action and carries on without its events.
    assert not issubclass(resilience.ActionsUnavailable, Exception)
