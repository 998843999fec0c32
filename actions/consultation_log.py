"""The one place the bot writes the consultation log (CONTRACT §5).

A consultation is one matter of one conversation. The row is written when a flow ends (a form answered, a handoff,
a one-question answer, a goodbye after a begun matter) and refined, not duplicated, when the same matter ends
again later in the conversation (a work-injury question followed by the legal-aid form). The slots
`consultation_count` and `consultation_category` remember what was written; the row's source_id
`bot:{sender_hash}:{session start}:{n}` makes a replayed action add nothing, while a returning citizen's next
session (slots reset, count back to 0) or a restarted Rasa server still gets rows of its own.
"""
from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.common import sender_of
from hotline import flows, logs, outbox

logger = logging.getLogger(__name__)
# The action server loads this module with its actions: with HOTLINE_LOG_FORMAT=json its logs become JSON lines
# without personal data from here on (hotline/logs.py), whichever way the server was started.
logs.configure_from_env("actions")


def session_started_at(tracker: Tracker) -> int:
    """When this conversation session began (epoch ms): the last session_started event, else the first event."""
    events = tracker.events or []
    starts = [e for e in events if e.get("event") == "session_started"]
    first = starts[-1] if starts else (events[0] if events else {})
    return int(float(first.get("timestamp") or 0) * 1000)


def record_consultation(
    tracker: Tracker,
    *,
    category: str,
    outcome: str,
    migrant_worker: bool = False,
    persons: int | None = None,
    street: str | None = None,
    community: str | None = None,
    referral: str | None = None,
    amount: int | None = None,
    eligibility: str | None = None,
    legal_basis: str | None = None,
    summary: str | None = None,
    phone: str | None = None,
) -> list[EventType]:
    """Log (or refine) this conversation's consultation about `category`; the slot events that remember it."""
    sender = sender_of(tracker)
    count = int(tracker.get_slot("consultation_count") or 0)
    same_matter = count > 0 and tracker.get_slot("consultation_category") == category
    n = count if same_matter else count + 1
    fields: dict[str, Any] = {
        "service": "online", "channel": sender.channel, "category": category, "migrant_worker": migrant_worker,
        "persons": max(1, persons or 1), "outcome": outcome, "sender_hash": sender.sender_hash,
        "street": street, "community": community, "referral": referral, "amount": amount,
        "eligibility": eligibility, "legal_basis": legal_basis, "summary": summary, "phone": phone,
    }
    entry = outbox.consultation_entry(
        source_id=f"bot:{sender.sender_hash}:{session_started_at(tracker)}:{n}", refine=same_matter, fields=fields)
    try:
        # Written now, or kept in the durable outbox until the database is back (hotline/outbox.py).
        outbox.deliver(entry)
    except Exception:  # the answer was given; a log failure is for the operators, not the citizen
        logger.exception("consultation not logged")
        return []
    return [
        SlotSet("consultation_count", float(n)),
        SlotSet("consultation_category", category),
        SlotSet("open_topic", None),
    ]


def record_open_topic(tracker: Tracker, *, outcome: str = "answered") -> list[EventType]:
    """At a goodbye or a handoff: log a matter that was begun (a form started and left) but not yet logged."""
    topic = tracker.get_slot("open_topic")
    if not topic:
        return []
    facts: dict[str, Any] = {"street": tracker.get_slot("street")}
    if topic == flows.flow("wage_claim").category:  # the facts collected before the user left count too (CONTRACT §5)
        people, amount = tracker.get_slot("people_count"), tracker.get_slot("amount")
        facts.update(migrant_worker=tracker.get_slot("migrant_worker") is True, persons=int(people) if people else None,
                     amount=int(amount) if amount else None)
    return record_consultation(tracker, category=topic, outcome=outcome, **facts)
