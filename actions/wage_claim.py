"""Unpaid wages: validation of wage_claim_form slot by slot (the slots and when each is asked: hotline/flows)."""
from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import FlowFormValidation, street_for
from hotline.flows.reading import amount_per_head, evidence_items, number_from

# 「1500」, 「4个」, 「三万五块」: an answer that is only a quantity names nobody.
_ONLY_A_QUANTITY = re.compile(r"[\d\s.,，、零〇一二两三四五六七八九十百千万亿多来几个人块元钱月年半左右]+")


class ValidateWageClaimForm(FlowFormValidation):
    flow_name = "wage_claim"

    def after_validation(self, tracker: Tracker) -> list[EventType]:
        """The matter is begun (logged on goodbye if the form is left midway)."""
        return [] if tracker.get_slot("open_topic") == "wage_arrears" else [SlotSet("open_topic", "wage_arrears")]

    def validate_employer(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                          domain: DomainDict) -> dict[str, Any]:
        text = str(value or "").strip(" 。，,.!！")
        if 2 <= len(text) <= 60 and not _ONLY_A_QUANTITY.fullmatch(text):
            return {"employer": text}
        dispatcher.utter_message(response="utter_bad_employer")
        return {"employer": None}

    def _number(self, slot: str, value: Any, parse: Any, low: int, high: int,
                dispatcher: CollectingDispatcher) -> dict[str, Any]:
        number = number_from(slot, value, parse)
        if number is not None and low <= number <= high:
            return {slot: float(number)}
        dispatcher.utter_message(response=f"utter_bad_{slot}")
        return {slot: None}

    def validate_amount(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: DomainDict) -> dict[str, Any]:
        from hotline_nlu.numbers import parse_amount, parse_count

        result = self._number("amount", value, parse_amount, 1, 100_000_000, dispatcher)
        message = tracker.latest_message or {}
        if result["amount"] is None or not amount_per_head(message.get("text") or "", message.get("entities") or []):
            return result
        # Said per head: the claim's amount is the total. With the head count known (this message or before), it is
        # the product; without it, a sum told unasked is left for the form's own question, 「一共欠了多少钱」. Asked
        # for the total and given a sum per head, the answer is kept: asking again could go round for ever.
        people = number_from("people_count", tracker.get_slot("people_count"), parse_count)
        if people and people > 1:
            return {"amount": result["amount"] * people}
        return {"amount": None} if tracker.get_slot("requested_slot") != "amount" else result

    def validate_people_count(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        from hotline_nlu.numbers import parse_count

        return self._number("people_count", value, parse_count, 1, 10_000, dispatcher)

    def validate_months_owed(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> dict[str, Any]:
        from hotline_nlu.numbers import parse_months

        return self._number("months_owed", value, parse_months, 1, 240, dispatcher)

    def validate_evidence(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                          domain: DomainDict) -> dict[str, Any]:
        items = evidence_items(value)
        if items is None:
            dispatcher.utter_message(response="utter_bad_evidence")
        return {"evidence": items}

    def validate_street(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: DomainDict) -> dict[str, Any]:
        return validate_street_value(value, dispatcher)

    def validate_consent_phone(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> dict[str, Any]:
        if isinstance(value, bool):
            return {"consent_phone": value}
        from hotline_nlu.numbers import parse_phone

        phone = parse_phone(str(value or ""))
        if phone:  # answered the consent question with the number itself
            return {"consent_phone": True, "phone": phone}
        dispatcher.utter_message(response="utter_bad_yes_no")
        return {"consent_phone": None}

    def validate_phone(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                       domain: DomainDict) -> dict[str, Any]:
        from hotline_nlu.numbers import parse_phone

        phone = parse_phone(str(value or ""))
        if phone and re.fullmatch(r"1[3-9]\d{9}|0\d{9,11}", phone):
            return {"phone": phone}
        dispatcher.utter_message(response="utter_bad_phone")
        return {"phone": None}


def validate_street_value(value: Any, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    """A street office of the roster (水上 → 沿江街道), or a re-ask naming what was not found."""
    text = str(value or "").strip()
    street = street_for(text) if text else None
    if street:
        return {"street": street}
    dispatcher.utter_message(response="utter_bad_street", said=text[:20])
    return {"street": None}


def wage_facts(tracker: Tracker) -> Any:
    """The wage-claim facts of this conversation, from its slots only: migrant status and a construction site
    as answered or stated, never assumed (hotline.wage_claim.facts_from_slots)."""
    from hotline.wage_claim import facts_from_slots

    return facts_from_slots(tracker.current_slot_values())
