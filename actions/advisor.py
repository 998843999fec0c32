"""The legal advisor lookup (一村（社区）一法律顾问) and the office answer, both from the roster in the database."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    FlowFormValidation,
    latest_text,
    message_entities,
    new_run,
    office_kwargs,
    office_of,
    roster,
    user_texts,
)
from actions.consultation_log import record_consultation
from hotline.directory import ambiguous_former_name, communities_of, former_name_in


class ValidateAdvisorForm(FlowFormValidation):
    """One of the two suffices: a community fills its street; a street answers when the community is skipped."""

    flow_name = "advisor"

    def validate_community(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: DomainDict) -> dict[str, Any]:
        text = str(value or "").strip()
        entries = roster()
        ambiguous = ambiguous_former_name(entries, latest_text(tracker))
        if ambiguous:  # 「水上」: 沿江街道 by its former name, or its 水上社区 — ask, with that community first
            return {"community": None, "street": ambiguous[0]}
        heard = self.heard("community", tracker, text)
        if heard.read:
            street = next((e.street for e in entries if e.community == heard.value), None)
            return {"community": heard.value, "street": street}
        street = self.heard("street", tracker, text).value
        if street:  # the citizen named a street office instead (「不清楚 反正在中南街道」): that suffices
            skipped = list(tracker.get_slot("skipped_slots") or [])
            return {"community": None, "street": street, "skipped_slots": [*skipped, "community"]}
        return self.answer("community", value, tracker, dispatcher)  # a "don't know" skips, else the re-ask


def community_buttons(names: list[str], intent: str) -> list[dict[str, str]]:
    return [{"title": name, "payload": f'/{intent}{{"community": "{name}"}}'} for name in names]


def say_renamed(dispatcher: CollectingDispatcher, tracker: Tracker, street: str) -> str | None:
    """Says the street's current name back when the citizen used its former one (水上 → 沿江街道)."""
    old = former_name_in(" ".join(user_texts(tracker)[-3:]), street)
    if old:
        dispatcher.utter_message(response="utter_street_renamed", old=old, street=street)
    return old


class ActionAskCommunity(Action):
    def name(self) -> str:
        return "action_ask_community"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """The community question: with the street known, its communities as buttons and its 司法所."""
        new_run()
        street = tracker.get_slot("street")
        entries = roster() if street else []
        names = communities_of(entries, street) if street else []
        if not street or not names:
            dispatcher.utter_message(response="utter_ask_community")
            return []
        old = say_renamed(dispatcher, tracker, street)
        buttons = community_buttons(communities_of(entries, street, first=old), "inform")
        dispatcher.utter_message(response="utter_ask_community_in_street", street=street,
                                 buttons=[*buttons, {"title": "不知道", "payload": "不知道"}])
        if office := office_of(street, entries):
            dispatcher.utter_message(response="utter_advisor_office", **office_kwargs(office))
        return []


class ActionFindAdvisor(Action):
    def name(self) -> str:
        return "action_find_advisor"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """The community's advisor and its 司法所 with address, phone and hours; says when the roster is sample data."""
        new_run()
        entries = roster()
        community, street = tracker.get_slot("community"), tracker.get_slot("street")
        matches = [e for e in entries if community and e.community == community and (not street or e.street == street)]
        sample = False
        if matches:
            entry = matches[0]
            dispatcher.utter_message(response="utter_advisor_found", community=entry.community,
                                     advisor=entry.advisor or "（名单未写）", firm=entry.advisor_firm or "律师事务所",
                                     phone=entry.advisor_phone or "请问社区居委会")
            dispatcher.utter_message(response="utter_advisor_visits")
            dispatcher.utter_message(response="utter_advisor_office", **office_kwargs(entry))
            sample = entry.sample
        elif street and (office := office_of(street, entries)):
            old = say_renamed(dispatcher, tracker, street)
            names = communities_of(entries, street, first=old)
            dispatcher.utter_message(response="utter_advisor_street_only", street=street, communities="、".join(names),
                                     buttons=community_buttons(names, "find_advisor"))
            dispatcher.utter_message(response="utter_advisor_office", **office_kwargs(office))
            sample = office.sample
        else:
            dispatcher.utter_message(response="utter_advisor_not_found")
        if sample:
            dispatcher.utter_message(response="utter_sample_data")
        category = tracker.get_slot("open_topic") or tracker.get_slot("consultation_category") or "other"
        return record_consultation(tracker, category=category, outcome="referred", referral="社区法律顾问",
                                   street=street, community=community, summary="查询社区法律顾问")


class ActionOfficeInfo(Action):
    def name(self) -> str:
        return "action_office_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """12348 around the clock, and the user's 司法所 when the street is known (else the district's offices)."""
        new_run()
        dispatcher.utter_message(response="utter_office_hotline")
        # The street this question names (「中南街道司法所在哪」) before the one the citizen said they live in.
        named = next((e.get("value") for e in message_entities(tracker) if e.get("entity") == "street"), None)
        utter_office(dispatcher, named or tracker.get_slot("street"), "utter_office_street", "utter_office_district")
        return []


def utter_office(dispatcher: CollectingDispatcher, street: str | None, with_office: str, without: str) -> None:
    """The street's 司法所 with address, phone and hours (flagged when sample data), else the district's offices."""
    office = office_of(street)
    if office:
        dispatcher.utter_message(response=with_office, **office_kwargs(office))
        if office.sample:
            dispatcher.utter_message(response="utter_sample_data")
    else:
        dispatcher.utter_message(response=without)
