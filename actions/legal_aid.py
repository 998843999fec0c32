"""Legal aid: validation of legal_aid_form slot by slot. Which questions it asks is the law's call:
hotline.legal_aid.facts_needed through the flow spec (hotline/flows)."""
from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.common import FlowFormValidation
from hotline import flows


class ValidateLegalAidForm(FlowFormValidation):
    flow_name = "legal_aid"

    def after_validation(self, tracker: Tracker) -> list[EventType]:
        """The matter is begun under its category (flows.yaml `matters`; logged on goodbye if the form is left
        midway)."""
        matter = tracker.get_slot("matter")
        topic = flows.matter_category(matter) if matter else None
        return [SlotSet("open_topic", topic)] if topic and tracker.get_slot("open_topic") != topic else []
