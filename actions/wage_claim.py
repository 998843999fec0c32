"""Unpaid wages: validation of wage_claim_form slot by slot, and the advice at its end (hotline.wage_claim)."""
from __future__ import annotations

import re
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import number_from, resumed, run_with_skip, street_for

SKIPPABLE = {"employer", "amount", "people_count", "months_owed", "employment_ended", "has_contract", "evidence",
             "street", "phone"}
_NONE = re.compile(r"^(没有|没|无|都没有|啥也没有|什么都没有|没得|冇)[。.!！了啊的]*$")
_ENDED = re.compile(r"不干了|不做了|离职|辞职|辞退|走了|结束|完工|散了|被开|开除|已经不")
_ONGOING = re.compile(r"还在|没走|在干|在做|没离职|没辞职|还没结束")
_SIGNED = re.compile(r"(签了|签过|有合同|有劳动合同)")
_UNSIGNED = re.compile(r"(没签|没有签|未签|没合同|没有合同|没有劳动合同)")


def yes_no(value: Any, yes: re.Pattern[str], no: re.Pattern[str]) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if no.search(value):
            return False
        if yes.search(value):
            return True
    return None


# 「1500」, 「4个」, 「三万五块」: an answer that is only a quantity names nobody.
_ONLY_A_QUANTITY = re.compile(r"[\d\s.,，、零〇一二两三四五六七八九十百千万亿多来几个人块元钱月年半左右]+")


class ValidateWageClaimForm(FormValidationAction):
    def name(self) -> str:
        return "validate_wage_claim_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Whole-message 跳过/算了 first; then the per-slot validators. Marks the matter as begun for the log and the
        form as no longer paused."""
        events = await run_with_skip(self, SKIPPABLE, dispatcher, tracker, domain)
        if tracker.get_slot("open_topic") != "wage_arrears":
            events.append(SlotSet("open_topic", "wage_arrears"))
        return events + resumed(tracker, "wage_claim_form")

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        """Skipped slots are not asked again; the phone only after the user agreed to leave one."""
        skipped = set(tracker.get_slot("skipped_slots") or [])
        slots = [s for s in domain_slots if s not in skipped]
        if tracker.get_slot("consent_phone") is not True:
            slots = [s for s in slots if s != "phone"]
        return slots

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
        from hotline_nlu.numbers import parse_amount

        return self._number("amount", value, parse_amount, 1, 100_000_000, dispatcher)

    def validate_people_count(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        from hotline_nlu.numbers import parse_count

        return self._number("people_count", value, parse_count, 1, 10_000, dispatcher)

    def validate_months_owed(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> dict[str, Any]:
        from hotline_nlu.numbers import parse_months

        return self._number("months_owed", value, parse_months, 1, 240, dispatcher)

    def validate_employment_ended(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> dict[str, Any]:
        answer = yes_no(value, _ENDED, _ONGOING)
        if answer is None:
            dispatcher.utter_message(response="utter_bad_yes_no")
        return {"employment_ended": answer}

    def validate_has_contract(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        answer = yes_no(value, _SIGNED, _UNSIGNED)
        if answer is None:
            dispatcher.utter_message(response="utter_bad_yes_no")
        return {"has_contract": answer}

    def validate_evidence(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                          domain: DomainDict) -> dict[str, Any]:
        from hotline.wage_claim import normalise_evidence

        texts = value if isinstance(value, list) else [value]
        texts = [str(t).strip() for t in texts if t]
        if texts and all(_NONE.match(t) for t in texts):
            return {"evidence": []}
        items: list[str] = []
        for text in texts:
            items.extend(i for i in normalise_evidence(text) if i not in items)
        if items:
            return {"evidence": items}
        dispatcher.utter_message(response="utter_bad_evidence")
        return {"evidence": None}

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

