"""Legal aid: validation of legal_aid_form slot by slot. Which questions it asks is the law's call:
hotline.legal_aid.facts_needed through the flow spec (hotline/flows)."""
from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import FlowFormValidation
from actions.wage_claim import validate_street_value
from hotline.flows.reading import group_codes, matter_code, number_from

_CATEGORY = {"wage_arrears": "wage_arrears", "work_injury": "work_injury", "labor_relation": "labor_dispute",
             "labor_dispute": "labor_dispute", "social_insurance": "labor_dispute",
             "traffic_accident": "traffic_accident",
             "support_payment": "family_dispute", "family_dispute": "family_dispute", "contract_debt": "contract_debt",
             "property": "property", "criminal_defense": "criminal", "criminal_victim": "criminal",
             "state_compensation": "administrative", "social_assistance": "administrative", "pension": "administrative"}


def category_for(matter: str | None) -> str:
    return _CATEGORY.get(matter or "", "other")


class ValidateLegalAidForm(FlowFormValidation):
    flow_name = "legal_aid"

    def after_validation(self, tracker: Tracker) -> list[EventType]:
        """The matter is begun under its category (logged on goodbye if the form is left midway)."""
        topic = category_for(tracker.get_slot("matter")) if tracker.get_slot("matter") else None
        return [SlotSet("open_topic", topic)] if topic and tracker.get_slot("open_topic") != topic else []

    def validate_matter(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: DomainDict) -> dict[str, Any]:
        code = matter_code(value)
        if code is None:
            dispatcher.utter_message(response="utter_bad_matter")
        return {"matter": code}

    def validate_groups(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: DomainDict) -> dict[str, Any]:
        codes = group_codes(value)
        if codes is None:
            dispatcher.utter_message(response="utter_bad_groups")
        return {"groups": codes}

    def validate_monthly_income(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> dict[str, Any]:
        from hotline_nlu.numbers import parse_amount

        if isinstance(value, str) and re.fullmatch(r"(没有|没|无|零|0)(收入)?[。.]*", value.strip()):
            return {"monthly_income": 0.0}
        income = number_from("monthly_income", value, parse_amount)
        if income is not None and 0 <= income <= 10_000_000:
            return {"monthly_income": float(income)}
        dispatcher.utter_message(response="utter_bad_monthly_income")
        return {"monthly_income": None}

    def validate_household_size(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> dict[str, Any]:
        from hotline_nlu.numbers import parse_count

        size = number_from("household_size", value, parse_count)
        if size is not None and 1 <= size <= 30:
            return {"household_size": float(size)}
        dispatcher.utter_message(response="utter_bad_household_size")
        return {"household_size": None}

    def validate_street(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: DomainDict) -> dict[str, Any]:
        return validate_street_value(value, dispatcher)


def aid_facts(tracker: Tracker) -> Any:
    """The legal-aid facts of this conversation, from its slots (hotline.legal_aid.facts_from_slots)."""
    from hotline.legal_aid import facts_from_slots

    return facts_from_slots(tracker.current_slot_values())
