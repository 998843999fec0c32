"""No exception wedges a conversation: every action and every form validation runs behind one guard.

rasa-sdk 3.6 runs each action call through `ActionExecutor.run` (rasa_sdk/endpoint.py `webhook`); an exception
there becomes an HTTP 500, Rasa then drops the whole turn and, while the form stays active, every later message of
that citizen fails the same way. The guard wraps `ActionExecutor.run` once, when the action package is registered
(rasa-sdk imports every module of `actions`), so it covers actions added later without anyone remembering it.

On any exception the citizen gets `utter_action_failed` (an apology with 重新开始 / 转人工 / 12348), the active form is
deactivated (`ActiveLoop(None)`, `requested_slot` cleared: Rasa 3.6's FormAction.request_next_slot/is_done treat both as
"stop the form early"), Rasa is told to listen next (`FollowupAction`) so no completion rule runs the form's answer
on half the facts, and the slots this turn set are emptied, so a value that made the validator fail is not validated again. The error is logged with
the action's name and the exception type and a masked message: no text of the citizen, no raw ids.
"""
from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Mapping
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException
from rasa_sdk.types import ActionCall

from hotline.privacy import mask_text
from hotline.settings import get_settings

logger = logging.getLogger(__name__)

FAILED_RESPONSE = "utter_action_failed"
# Fault injection for tests of the real stack: the actions named here raise on purpose. Comma-separated entries
# `action` or `action@sender_prefix` (only conversations whose sender id starts with the prefix).
FAULT_ENV = "HOTLINE_FAULT_ACTIONS"


class InjectedFault(RuntimeError):
    """Raised on purpose (HOTLINE_FAULT_ACTIONS) to prove the guard."""


def recovery_events(tracker: Tracker) -> list[dict[str, Any]]:
    """Events that leave the conversation usable: no active form, no requested slot, this turn's slots emptied."""
    events: list[dict[str, Any]] = []
    if tracker.active_loop.get("name"):
        events.append(ActiveLoop(None))
    if tracker.get_slot("requested_slot") is not None or events:
        events.append(SlotSet("requested_slot", None))
    try:
        just_set = tracker.slots_to_validate()
    except Exception:  # a tracker too broken to read: the form reset above is what matters
        just_set = {}
    events.extend(SlotSet(slot, None) for slot in just_set if slot != "requested_slot")
    # A form that ends early counts as completed for the rules (its answer would follow with half the facts):
    # listen instead.
    events.append(FollowupAction("action_listen"))
    return events


def _log_failure(action_name: str, exc: BaseException) -> None:
    """The failure in the log without personal data: type, masked message, and the code location only."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames[-4:]))
    logger.error("action %s failed: %s: %s [%s]", action_name, type(exc).__name__,
                 (mask_text(str(exc)) or "")[:200], where)


def failure_response(executor: ActionExecutor, action_call: Mapping[str, Any], exc: BaseException) -> dict[str, Any]:
    """The webhook answer for an action that raised: the apology and the events of `recovery_events`."""
    action_name = str(action_call.get("next_action") or "?")
    _log_failure(action_name, exc)
    dispatcher = CollectingDispatcher()
    dispatcher.utter_message(response=FAILED_RESPONSE)
    try:  # the call may be the malformed part: no tracker, or a broken one
        events = recovery_events(Tracker.from_dict(action_call["tracker"]))
    except Exception:
        logger.error("action %s: tracker unreadable, form not reset", action_name)
        events = []
    return executor._create_api_response(events, dispatcher.messages)


def injected_fault(action_call: Mapping[str, Any]) -> bool:
    faults = get_settings().fault_actions
    if not faults:
        return False
    name, sender = action_call.get("next_action"), str(action_call.get("sender_id") or "")
    for entry in faults.split(","):
        action, _, prefix = entry.strip().partition("@")
        if action == name and sender.startswith(prefix):
            return True
    return False


def install() -> None:
    """Wrap `ActionExecutor.run` (idempotent). Rejections and unknown actions keep rasa-sdk's own meaning."""
    original = ActionExecutor.run
    if getattr(original, "_hotline_guarded", False):
        return

    @functools.wraps(original)
    async def guarded_run(self: ActionExecutor, action_call: ActionCall) -> dict[str, Any] | None:
        try:
            if injected_fault(action_call):
                raise InjectedFault(f"fault injected into {action_call.get('next_action')}")
            return await original(self, action_call)
        except (ActionExecutionRejection, ActionNotFoundException):
            raise
        except Exception as exc:  # the whole point: nothing escapes to a 500
            return failure_response(self, action_call, exc)

    # Patching rasa-sdk's class is the point here; mypy flags any assignment to a method or a function's attribute.
    guarded_run._hotline_guarded = True  # type: ignore[attr-defined]
    ActionExecutor.run = guarded_run  # type: ignore[method-assign]


install()
