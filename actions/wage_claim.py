"""Unpaid wages: validation of wage_claim_form slot by slot (the slots and when each is asked: hotline/flows)."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import FlowFormValidation
from hotline import flows
from hotline.flows.reading import amount_per_head, number_from


class ValidateWageClaimForm(FlowFormValidation):
    flow_name = "wage_claim"

    def after_validation(self, tracker: Tracker) -> list[EventType]:
        """The matter is begun under the flow's category (logged on goodbye if the form is left midway)."""
        category = flows.flow(self.flow_name).category
        return [] if tracker.get_slot("open_topic") == category else [SlotSet("open_topic", category)]

    def validate_amount(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: DomainDict) -> dict[str, Any]:
        from hotline_nlu.numbers import parse_count

        result = self.answer("amount", value, tracker, dispatcher)
        message = tracker.latest_message or {}
        if result.get("amount") is None or not amount_per_head(message.get("text") or "", message.get("entities") or []):
            return result
        # Said per head: the claim's amount is the total. With the head count known (this message or before), it is
        # the product; without it, a sum told unasked is left for the form's own question, 「一共欠了多少钱」. Asked
        # for the total and given a sum per head, the answer is kept: asking again could go round for ever.
        people = number_from("people_count", tracker.get_slot("people_count"), parse_count)
        if people and people > 1:
            return {**result, "amount": float(result["amount"]) * people}
        return {**result, "amount": None} if tracker.get_slot("requested_slot") != "amount" else result

