"""Legal aid: validation of legal_aid_form slot by slot. Which questions it asks is the law's call:
hotline.legal_aid.facts_needed through the flow spec (hotline/flows)."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import FlowFormValidation

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


def aid_facts(tracker: Tracker) -> Any:
    """The legal-aid facts of this conversation, from its slots (hotline.legal_aid.facts_from_slots)."""
    from hotline.legal_aid import facts_from_slots

    return facts_from_slots(tracker.current_slot_values())
