"""request_human: how to reach a person now, a queued handoff for the operators, and the bot paused.

Outside office hours, or with no operator's console seen recently, the citizen is told so plainly and offered
12348 and a call-back (bot/conversation.py keeps the number they send).
"""
from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.advisor import utter_office
from actions.common import sender_of
from actions.consultation_log import record_consultation

logger = logging.getLogger(__name__)


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """12348 now; the street's 司法所 (else the district's); a handoff row; the conversation paused."""
        from hotline.office_hours import office_hours
        from hotline.store import handoffs, operators
        from hotline.store.db import session_scope
        from hotline.store.models import utcnow

        dispatcher.utter_message(response="utter_handoff_hotline")
        street = tracker.get_slot("street")
        utter_office(dispatcher, street, "utter_handoff_office", "utter_handoff_district")
        category = tracker.get_slot("open_topic") or tracker.get_slot("consultation_category") or "other"
        sender = sender_of(tracker)
        said = summary(tracker)  # pure: a slip here is a bug to see (actions/safety.py), not an outage to hide
        try:
            with session_scope() as session:
                handoffs.open_handoff(session=session, channel=sender.channel, sender_hash=sender.sender_hash,
                                      category=category, summary=said)
                on_shift = bool(operators.operators_on_shift(session=session))
        except SQLAlchemyError:  # the database is down: 12348 was given, the citizen can still reach a person
            logger.exception("handoff not queued")
        else:
            hours = office_hours()
            if not hours.is_open(utcnow()):
                dispatcher.utter_message(response="utter_handoff_after_hours", hours=hours.label)
            elif not on_shift:
                dispatcher.utter_message(response="utter_handoff_nobody")
            else:
                dispatcher.utter_message(response="utter_handoff_queued")
        events: list[EventType] = record_consultation(tracker, category=category, outcome="referred",
                                                      referral="人工（12348/司法所）", street=street)
        if tracker.active_loop.get("name"):
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        return [*events, ConversationPaused()]


def summary(tracker: Tracker) -> str:
    """What the operator reads first (the console shows it, bot/handback.py): the core's one summary of the slots,
    hotline.flows.summary, in the flow spec's labels — no codes, no phone number."""
    from hotline.flows import summary as flows_summary

    return flows_summary(tracker.slots) or "用户请求转人工，尚未说明具体事项。"
