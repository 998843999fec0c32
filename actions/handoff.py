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
        from hotline.store import repository
        from hotline.store.db import session_scope

        dispatcher.utter_message(response="utter_handoff_hotline")
        street = tracker.get_slot("street")
        utter_office(dispatcher, street, "utter_handoff_office", "utter_handoff_district")
        category = tracker.get_slot("open_topic") or tracker.get_slot("consultation_category") or "other"
        sender = sender_of(tracker)
        try:
            with session_scope() as session:
                repository.open_handoff(session=session, channel=sender.channel, sender_hash=sender.sender_hash,
                                        category=category, summary=summary(tracker))
                hours = office_hours()
                now = repository.utcnow()
                if not hours.is_open(now):
                    dispatcher.utter_message(response="utter_handoff_after_hours", hours=hours.label)
                elif not repository.operators_on_shift(session=session):
                    dispatcher.utter_message(response="utter_handoff_nobody")
                else:
                    dispatcher.utter_message(response="utter_handoff_queued")
        except Exception:  # 12348 was given: the citizen can still reach a person
            logger.exception("handoff not queued")
        events: list[EventType] = record_consultation(tracker, category=category, outcome="referred",
                                                      referral="人工（12348/司法所）", street=street)
        if tracker.active_loop.get("name"):
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        return [*events, ConversationPaused()]


# What the operator reads first, as Chinese sentences (no codes, no phone number: it stays in its slot).
_FACTS: tuple[tuple[str, str], ...] = (
    ("employer", "欠薪单位或老板：{}"), ("amount", "涉及金额约{}元"), ("people_count", "涉及{}人"),
    ("months_owed", "拖欠{}个月"), ("employment_ended", "{}"), ("has_contract", "{}"),
    ("monthly_income", "家庭月收入约{}元"), ("household_size", "家里{}口人"), ("street", "所在街道：{}"),
    ("community", "社区/村：{}"),
)
_YES_NO = {"employment_ended": ("已经离职", "还在干"), "has_contract": ("签了劳动合同", "没签劳动合同"),
           "migrant_worker": ("是农民工", "不是农民工"), "has_valuable_assets": ("有贵重财产", "没有贵重财产")}


def summary(tracker: Tracker) -> str:
    """「事项：追索劳动报酬。欠薪单位或老板：恒通建筑；涉及金额约20000元。」 from the slots the bot filled."""
    try:  # the flows issue may provide the one summary every part uses
        from hotline.flows import summary as flows_summary  # type: ignore[attr-defined]

        return str(flows_summary({k: v for k, v in tracker.slots.items() if v not in (None, "", [])}))
    except (ImportError, AttributeError, TypeError, ValueError):
        pass
    from hotline.codes import CATEGORIES, GROUPS, MATTERS

    sentences = []
    topic = tracker.get_slot("open_topic") or tracker.get_slot("consultation_category")
    matter = tracker.get_slot("matter")
    if matter in MATTERS:
        sentences.append(f"事项：{MATTERS[matter]}。")
    elif topic in CATEGORIES:
        sentences.append(f"事项：{CATEGORIES[topic]}。")
    facts = []
    for slot, pattern in _FACTS:
        value = tracker.get_slot(slot)
        if value in (None, "", []):
            continue
        if slot in _YES_NO:
            facts.append(_YES_NO[slot][0 if value else 1])
        else:
            facts.append(pattern.format(value))
    for slot in ("migrant_worker", "has_valuable_assets"):
        if tracker.get_slot(slot) is not None:
            facts.append(_YES_NO[slot][0 if tracker.get_slot(slot) else 1])
    groups = [GROUPS.get(g, "") for g in tracker.get_slot("groups") or [] if g in GROUPS]
    if groups:
        facts.append("属于" + "、".join(groups))
    evidence = tracker.get_slot("evidence") or []
    if isinstance(evidence, list) and evidence:
        facts.append("证据：" + "、".join(str(e) for e in evidence))
    if facts:
        sentences.append("已了解：" + "；".join(facts) + "。")
    return "".join(sentences) or "用户请求转人工，尚未说明具体事项。"
