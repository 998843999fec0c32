"""The guard of actions/safety.py in-process: an action that raises answers with the apology, the form is reset,
the log holds no personal data. (The real stack is walked in tests/test_walks_stack.py.)"""
from __future__ import annotations

import logging
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection

import actions.safety  # noqa: F401 - installs the guard
from actions.safety import FAILED_RESPONSE, FAULT_ENV


class Exploding(Action):
    def name(self) -> str:
        return "action_exploding"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        dispatcher.utter_message(text="half an answer")
        raise TypeError("unhashable type: 'list' for 13977212345")


class Rejecting(Action):
    def name(self) -> str:
        return "action_rejecting"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        raise ActionExecutionRejection(self.name())


def call(name: str, *, active_loop: str | None = "legal_aid_form", requested: str | None = "groups") -> dict[str, Any]:
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "都不是，我电话13977212345", "parse_data": {"intent": {"name": "deny"}}},
        {"event": "slot", "name": "groups", "value": [["无"]]},
    ]
    return {
        "next_action": name,
        "sender_id": "web:" + "a" * 64,
        "tracker": {
            "sender_id": "web:" + "a" * 64,
            "slots": {"requested_slot": requested, "groups": [["无"]], "matter": "wage_arrears"},
            "latest_message": {"text": "都不是，我电话13977212345", "intent": {"name": "deny"}},
            "events": events,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
        },
        "domain": {},
        "version": "3.6.2",
    }


def executor() -> ActionExecutor:
    ex = ActionExecutor()
    ex.register_action(Exploding)
    ex.register_action(Rejecting)
    return ex


async def test_a_raising_action_apologises_and_resets_the_form(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="actions.safety"):
        result = await executor().run(call("action_exploding"))
    assert result is not None
    assert [m.get("response") for m in result["responses"]] == [FAILED_RESPONSE]  # no half answer
    events = result["events"]
    assert {"event": "active_loop", "name": None} in [{k: e.get(k) for k in ("event", "name")} for e in events]
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["requested_slot"] is None
    assert slots["groups"] is None  # the value that broke the validator is not validated again
    assert "matter" not in slots  # what was set in earlier turns stays
    assert events[-1] == {"event": "followup", "name": "action_listen", "timestamp": events[-1].get("timestamp")}
    logged = caplog.text
    assert "action_exploding" in logged and "TypeError" in logged
    assert "13977212345" not in logged and "都不是" not in logged


async def test_without_a_form_only_the_apology() -> None:
    result = await executor().run(call("action_exploding", active_loop=None, requested=None))
    assert result is not None
    assert [e for e in result["events"] if e["event"] == "active_loop"] == []
    assert [m.get("response") for m in result["responses"]] == [FAILED_RESPONSE]


async def test_a_rejection_keeps_its_meaning() -> None:
    with pytest.raises(ActionExecutionRejection):
        await executor().run(call("action_rejecting"))


async def test_fault_injection_names_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    ex = executor()
    monkeypatch.setenv(FAULT_ENV, "action_rejecting@web:,other")
    result = await ex.run(call("action_rejecting"))  # injected before the action runs
    assert result is not None and result["responses"][0]["response"] == FAILED_RESPONSE
    monkeypatch.setenv(FAULT_ENV, "action_rejecting@telegram:")
    with pytest.raises(ActionExecutionRejection):  # another sender: the action itself runs
        await ex.run(call("action_rejecting"))


def test_the_apology_offers_a_way_out() -> None:
    from tests.test_actions import DOMAIN

    response = DOMAIN["responses"][FAILED_RESPONSE][0]
    assert "12348" in response["text"]
    assert {b["payload"] for b in response["buttons"]} >= {"/restart", "/request_human"}
