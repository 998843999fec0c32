"""The draft papers in the conversation (issue 25): document_form's validators, making the drafts, the reminders.

The personal fields are asked only after the citizen said yes, each can be skipped (a blank to write by hand), and
they leave the slots as soon as the draft is made: from then on they live only in the sealed draft.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import latest_intent, sender_of, today
from actions.consultation_log import record_consultation
from hotline import flows
from hotline.settings import get_settings
from hotline_nlu.phones import whole_phone

log = logging.getLogger(__name__)
PERSONAL = ("applicant_name", "applicant_sex", "applicant_id_number", "applicant_phone", "applicant_address")
_SKIP = re.compile(r"^(跳过|不想说|不说了?|不告诉你?|不方便|保密|没有|无|不知道|略)[。.!！]*$")
_STOP = re.compile(r"^(算了|不写了|不用写了|先不写了?|取消)[。.!！吧]*$")
_ID = re.compile(r"^[1-9]\d{16}[\dXx]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number_ok(text: str) -> bool:
    """GB 11643 check digit: a typo in an 18-digit ID number is caught before it goes on the form."""
    if not _ID.match(text):
        return False
    total = sum(int(c) * w for c, w in zip(text[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == text[17].upper()


def public_base(channel: str) -> str:
    """Where a link points: the web chat opens a path of its own site; WeChat needs the whole address."""
    return "" if channel == "web" else get_settings().public_url


class ValidateDocumentForm(FormValidationAction):
    def name(self) -> str:
        return "validate_document_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """「转人工」 asked for a person, not given as a name: the form steps aside for its handoff rule."""
        slot = tracker.get_slot("requested_slot")
        if slot and slot in tracker.slots_to_validate() and latest_intent(tracker) == "request_human":
            return [SlotSet(slot, None), ActionExecutionRejected(self.form_name())]
        return await super().run(dispatcher, tracker, domain)

    def _answer(self, slot: str, value: Any, dispatcher: CollectingDispatcher,
                ok: Any) -> dict[str, Any]:
        text = re.sub(r"\s+", "", str(value or "")).strip("。，,.")
        if _STOP.match(text):  # 算了: the form ends, nothing is made, nothing kept
            return {**dict.fromkeys(PERSONAL, ""), "document_cancelled": True}
        if _SKIP.match(text):
            return {slot: ""}
        cleaned = ok(text)
        if cleaned:
            return {slot: cleaned}
        dispatcher.utter_message(response=f"utter_bad_{slot}")
        return {slot: None}

    def validate_applicant_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> dict[str, Any]:
        def ok(t: str) -> str | None:
            t = re.sub(r"^(我叫|我是|姓名[:：]?|名字[:：]?)", "", t)
            return t if 2 <= len(t) <= 20 and not re.search(r"\d", t) else None
        return self._answer("applicant_name", value, dispatcher, ok)

    def validate_applicant_sex(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> dict[str, Any]:
        def ok(t: str) -> str | None:
            if re.fullmatch(r"(男|男的|男性|先生)", t):
                return "男"
            return "女" if re.fullmatch(r"(女|女的|女性|女士)", t) else None
        return self._answer("applicant_sex", value, dispatcher, ok)

    def validate_applicant_id_number(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> dict[str, Any]:
        return self._answer("applicant_id_number", value, dispatcher,
                            lambda t: t.upper() if id_number_ok(t) else None)

    def validate_applicant_phone(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> dict[str, Any]:
        return self._answer("applicant_phone", value, dispatcher,
                            whole_phone)

    def validate_applicant_address(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        return self._answer("applicant_address", value, dispatcher,
                            lambda t: t if 2 <= len(t) <= 80 else None)


def _cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _make(facts: Any, applicant: Any, on: dt.date, channel: str, sender_hash: str) -> list[Any]:
    from hotline.documents.service import make_drafts
    from hotline.store.db import session_scope

    with session_scope() as session:
        return make_drafts(session=session, facts=facts, applicant=applicant, on=on, channel=channel,
                           sender_hash=sender_hash)


class ActionMakeDocument(Action):
    def name(self) -> str:
        return "action_make_document"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """The drafts from this conversation's facts: their links, what to check, then the reminder offer."""
        from hotline.documents.arbitration import Applicant
        from hotline.documents.service import link_ttl_s
        from hotline.wage_claim import facts_from_slots

        clear = [SlotSet(s, None) for s in PERSONAL] + [SlotSet("document_cancelled", None)]
        if tracker.get_slot("document_cancelled"):
            dispatcher.utter_message(response="utter_document_cancelled")
            return clear
        applicant = Applicant(**{s.removeprefix("applicant_"): (tracker.get_slot(s) or None) for s in PERSONAL})
        sender = sender_of(tracker)
        facts = facts_from_slots(tracker.current_slot_values())
        try:
            # LibreOffice takes ~2 s: off the event loop, so other conversations' actions go on.
            made = await asyncio.to_thread(_make, facts, applicant, today(), sender.channel,
                                           sender.sender_hash)
        except Exception:
            log.exception("draft not made")
            dispatcher.utter_message(response="utter_document_failed")
            return clear
        base = public_base(sender.channel)
        hours = str(max(1, link_ttl_s() // 3600))
        arbitration = made[0]
        dispatcher.utter_message(response="utter_document_ready", link=arbitration.link(base=base), hours=hours)
        for extra in made[1:]:
            dispatcher.utter_message(response="utter_document_legal_aid_ready", link=extra.link(base=base))
        # The citizen reads what to fill or confirm; which articles await a check against the official text is
        # for the operators (it stays on the draft's own check list).
        checks = [c for c in arbitration.for_person if not c.startswith("申请人") and "条文未对照" not in c][:4]
        if checks:
            dispatcher.utter_message(response="utter_document_check", items="\n".join(f"· {c}" for c in checks))
        events: list[EventType] = clear
        events += record_consultation(tracker, category=flows.flow("wage_claim").category or "other",
                                      outcome="answered", referral="document",
                                      migrant_worker=bool(facts.migrant_worker))
        if arbitration.deadline is not None and arbitration.deadline > today():
            deadline = _cn_date(arbitration.deadline)
            events.append(SlotSet("document_deadline", deadline))
            dispatcher.utter_message(response="utter_offer_reminder", document_deadline=deadline)
        return events


def _deadline_of(text: str | None) -> dt.date | None:
    match = re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", text or "")
    return dt.date(*map(int, match.groups())) if match else None


class ActionSetReminder(Action):
    def name(self) -> str:
        return "action_set_reminder"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Reminders 30 and 7 days before the deadline, kept as rows (a restart loses none); the door adds the chat
        id the action never sees."""
        from hotline.store import documents as store
        from hotline.store.db import session_scope

        deadline = _deadline_of(tracker.get_slot("document_deadline"))
        if deadline is None:
            dispatcher.utter_message(response="utter_no_reminders")
            return []
        sender = sender_of(tracker)
        with session_scope() as session:
            store.schedule_reminders(session=session, channel=sender.channel, sender_hash=sender.sender_hash,
                                     deadline=deadline, today=today())
        dispatcher.utter_message(response="utter_reminder_set", document_deadline=tracker.get_slot("document_deadline"))
        return []


class ActionStopReminders(Action):
    def name(self) -> str:
        return "action_stop_reminders"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """「不用提醒了」: every pending reminder of this citizen stops."""
        from hotline.store import documents as store
        from hotline.store.db import session_scope

        with session_scope() as session:
            stopped = store.stop_reminders(session=session, sender_hash=sender_of(tracker).sender_hash)
        dispatcher.utter_message(response="utter_reminders_stopped" if stopped else "utter_no_reminders")
        return []
