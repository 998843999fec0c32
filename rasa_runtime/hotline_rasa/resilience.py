"""What a Rasa process of the 12348 assistant does so that a process dying mid-conversation changes no fact (issue 27).
Applied by `python -m hotline_rasa.serve` to every Rasa process it starts (not a speed-up: never switched off).

1. **A turn is applied once.** The door (bot/rasa_client.py) sends every turn with an id in the REST message's
   metadata (`hotline_turn`). When a turn with an id already in the conversation's tracker arrives again — the door
   sent it once, the process (or the web app) died before the answer came back, and the turn is sent again — Rasa
   does not run it a second time: it answers with what the bot said after that turn. The check runs inside Rasa's
   per-conversation lock, so a resend that arrives while the first is still running waits and then finds it.
   Rasa saves a turn's events in one transaction at its end (MessageProcessor.handle_message), so a turn is either
   in the tracker whole or not at all.
2. **A custom action outlives an action-server restart.** A call that cannot reach the action server (refused, or
   the server died mid-call) is tried on the other action servers (HOTLINE_ACTIONS_URLS) and again, with backoff,
   for HOTLINE_ACTIONS_RETRY_S seconds (default 6). An action's only side effect outside Rasa is the consultation
   log, idempotent on its source_id, so running it again adds nothing. Stock Rasa would log the failure and carry
   on without the action's events: the form's validation lost, the citizen's answer misfiled.
3. **A turn that still cannot reach an action server leaves no trace.** It is abandoned before anything is saved,
   and the answer is one message with `custom: {"hotline": "actions_unavailable"}`: the door holds the citizen's
   message and replays it later (bot/held_turns.py) instead of a half-done turn.
"""
from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from typing import Any

from hotline_rasa.settings import RuntimeSettings

logger = logging.getLogger(__name__)

TURN_KEY = "hotline_turn"  # the metadata key of the turn id (bot/rasa_client.py sends it)
UNAVAILABLE = {"hotline": "actions_unavailable"}
RETRY_S = RuntimeSettings.from_env().actions_retry_s
FIRST_PAUSE_S, MAX_PAUSE_S = 0.1, 1.0


class ActionsUnavailable(BaseException):
    """No action server answered within the retry budget: the turn is abandoned unsaved.

    A BaseException on purpose: Rasa's processor catches every Exception of an action and carries on without its
    events (`_run_action`), which is exactly the half-done turn this prevents.
    """


def action_urls(first: str) -> list[str]:
    """The action servers to try, the configured one first, then HOTLINE_ACTIONS_URLS' others."""
    others = RuntimeSettings.from_env().actions_urls  # read at each call: tests and restarts may change it
    return [first, *[u for u in others if u != first]]


def replies_after(events: list[dict[str, Any]], turn: str, recipient: str) -> list[dict[str, Any]] | None:
    """What the bot said after the user event carrying turn id `turn` (up to the next user event), as the REST
    channel's messages; None when no user event carries it."""
    start = None
    for i, e in enumerate(events):
        if e.get("event") == "user" and (e.get("metadata") or {}).get(TURN_KEY) == turn:
            start = i
    if start is None:
        return None
    out: list[dict[str, Any]] = []
    for e in events[start + 1:]:
        if e.get("event") == "user":
            break
        if e.get("event") != "bot":
            continue
        data = {k: v for k, v in (e.get("data") or {}).items() if v}
        message: dict[str, Any] = {"recipient_id": recipient}
        if e.get("text") is not None:
            message["text"] = e["text"]
        message.update(data)
        out.append(message)
    return out


def stored_turns_of(store: Any) -> Any:
    """The store under Rasa's wrappers (FailSafeTrackerStore, AwaitableTrackerStore) that can say cheaply whether a
    conversation may hold a turn id (tracker_store.KeptRowsSQLTrackerStore.may_hold), or None."""
    for _ in range(4):
        if store is None or callable(getattr(store, "may_hold", None)):
            return store
        store = getattr(store, "_tracker_store", None)
    return None


def _turn_once() -> None:
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.trackers import EventVerbosity

    original = MessageProcessor.handle_message

    async def handle_message(self: Any, message: Any) -> Any:
        turn = (message.metadata or {}).get(TURN_KEY) if isinstance(message.metadata, dict) else None
        collecting = isinstance(message.output_channel, CollectingOutputChannel)
        # Nearly every turn is new: the stored rows are searched for the id's JSON text first, and the tracker is
        # built and serialised only when it is there (what Rasa would find is then exactly what it finds).
        store = stored_turns_of(self.tracker_store) if turn and collecting else None
        if turn and collecting and (store is None or store.may_hold(message.sender_id, json.dumps(str(turn)))):
            tracker = await self.tracker_store.retrieve(message.sender_id)
            if tracker is not None:
                events = tracker.current_state(EventVerbosity.ALL).get("events") or []
                done = replies_after(events, str(turn), message.sender_id)
                if done is not None:
                    logger.info("turn %s was already applied: its answer is sent again, the turn is not rerun", turn)
                    message.output_channel.messages.extend(done)
                    return message.output_channel.messages
        try:
            return await original(self, message)
        except ActionsUnavailable:
            logger.warning("no action server answered: the turn is abandoned unsaved")
            if collecting:
                message.output_channel.messages[:] = [{"recipient_id": message.sender_id, "custom": UNAVAILABLE}]
            return None

    MessageProcessor.handle_message = handle_message  # type: ignore[method-assign]


class _FailoverEndpoint:
    """The action endpoint, tried on every action server and again with backoff while none answers."""

    def __init__(self, endpoint: Any) -> None:
        self._endpoint = endpoint

    def __getattr__(self, name: str) -> Any:
        return getattr(self._endpoint, name)

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        import aiohttp

        deadline = time.monotonic() + RETRY_S
        pause = FIRST_PAUSE_S
        while True:
            for url in action_urls(self._endpoint.url):
                endpoint = self._endpoint
                if url != endpoint.url:
                    endpoint = copy.copy(endpoint)  # shares the pooled session (its __dict__ entry), not the url
                    endpoint.url = url
                try:
                    return await endpoint.request(*args, **kwargs)
                except aiohttp.ClientConnectionError as exc:  # refused, or the server went away mid-call
                    logger.warning("action server %s unavailable (%s); trying the next", url, type(exc).__name__)
            if time.monotonic() + pause > deadline:
                raise ActionsUnavailable()
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE_S)


def _actions_retried() -> None:
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction.__init__

    # The endpoint is wrapped where the action is made, so RemoteAction.run stays Rasa's own (speedups.py patches
    # inside it and checks its source).
    def __init__(self: Any, name: str, action_endpoint: Any) -> None:
        if action_endpoint is not None and not isinstance(action_endpoint, _FailoverEndpoint):
            action_endpoint = _FailoverEndpoint(action_endpoint)
        original(self, name, action_endpoint)

    RemoteAction.__init__ = __init__  # type: ignore[method-assign]


def apply() -> None:
    _turn_once()
    _actions_retried()
