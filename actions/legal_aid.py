"""Legal aid: validation of legal_aid_form slot by slot and the answer at its end (hotline.legal_aid.assess)."""
from __future__ import annotations

import re
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import number_from, resumed, run_with_skip
from actions.wage_claim import validate_street_value, yes_no
from hotline.codes import GROUPS, MATTERS, code_for

SKIPPABLE = {"migrant_worker", "groups", "monthly_income", "household_size", "has_valuable_assets", "street"}
# Matters where a migrant worker's means test is waived (《法律援助法》第四十二条第三项) — only these two.
WAIVED_FOR_MIGRANTS = ("wage_arrears", "work_injury")
LABOUR_MATTERS = ("wage_arrears", "work_injury", "labor_relation", "labor_dispute", "social_insurance")
# A matter as a citizen words it → its code (CONTRACT §7).
_MATTER_WORDS: tuple[tuple[str, str], ...] = (
    (r"工资|工钱|讨薪|欠薪|劳动报酬", "wage_arrears"),
    (r"工伤|摔伤|受伤", "work_injury"),
    (r"劳动关系", "labor_relation"),
    (r"社保|养老保险|医保|失业金", "social_insurance"),
    (r"低保|救助", "social_assistance"),
    (r"抚恤", "pension"),
    (r"赡养|抚养费|扶养", "support_payment"),
    (r"车祸|交通事故|撞", "traffic_accident"),
    (r"医疗事故|医院", "medical_accident"),
    (r"食品|药品", "food_drug_accident"),
    (r"污染|环境", "environment"),
    (r"国家赔偿", "state_compensation"),
    (r"离婚|婚姻|家暴|家庭", "family_dispute"),
    (r"辞退|开除|加班|合同", "labor_dispute"),
    (r"借钱|欠钱|借款|债", "contract_debt"),
    (r"房|物业", "property"),
    (r"刑事|抓|拘留|判刑|辩护", "criminal_defense"),
)
_GROUP_WORDS: tuple[tuple[str, str], ...] = (
    (r"未成年|小孩|孩子", "minor"), (r"老人|老年|60岁|七十|八十", "elderly"), (r"残疾", "disabled"),
    (r"低保|救助|特困|五保", "social_assistance"), (r"司法救助", "judicial_assistance"), (r"优抚|军属|退役", "preferential_care"),
    (r"家暴|家庭暴力|打我", "domestic_violence_victim"), (r"虐待|遗弃", "abuse_or_abandonment_victim"),
    (r"见义勇为", "heroic_act"), (r"烈士", "martyr_relative"), (r"无固定|没有收入|没收入", "no_fixed_income"),
)
_NONE = re.compile(r"^(都不是|都没有|没有|不是|无|没)[。.!！了啊的]*$")
_MIGRANT = re.compile(r"农民工|打工|务工|外地|农村|进城")
_NOT_MIGRANT = re.compile(r"不是农民工|本地|城里人|不是打工")
_CATEGORY = {"wage_arrears": "wage_arrears", "work_injury": "work_injury", "labor_relation": "labor_dispute",
             "labor_dispute": "labor_dispute", "social_insurance": "labor_dispute",
             "traffic_accident": "traffic_accident",
             "support_payment": "family_dispute", "family_dispute": "family_dispute", "contract_debt": "contract_debt",
             "property": "property", "criminal_defense": "criminal", "criminal_victim": "criminal",
             "state_compensation": "administrative", "social_assistance": "administrative", "pension": "administrative"}


def matter_code(value: Any) -> str | None:
    text = str(value or "").strip()
    code = code_for(text, MATTERS)
    if code:
        return code
    return next((code for pattern, code in _MATTER_WORDS if re.search(pattern, text)), None)


def group_codes(value: Any) -> list[str] | None:
    """Group codes from buttons or words; [] for 都不是; None when nothing is understood."""
    values = value if isinstance(value, list) else [value]
    codes: list[str] = []
    for item in (str(v).strip() for v in values if v):
        if item == "无" or _NONE.match(item):
            continue
        code = code_for(item, GROUPS) or next((c for p, c in _GROUP_WORDS if re.search(p, item)), None)
        if code is None:
            return None
        if code not in codes:
            codes.append(code)
    return codes


def category_for(matter: str | None) -> str:
    return _CATEGORY.get(matter or "", "other")


# Art. 32 groups: no economic-hardship condition at all.
_ART32 = {"heroic_act", "martyr_relative", "retrial_acquitted", "domestic_violence_victim", "abuse_or_abandonment_victim"}


def means_test_waived(tracker: Tracker) -> bool:
    groups = set(tracker.get_slot("groups") or [])
    return bool(groups & _ART32) or (tracker.get_slot("migrant_worker") is True
                                    and tracker.get_slot("matter") in WAIVED_FOR_MIGRANTS)


class ValidateLegalAidForm(FormValidationAction):
    def name(self) -> str:
        return "validate_legal_aid_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events = await run_with_skip(self, SKIPPABLE, dispatcher, tracker, domain)
        topic = category_for(tracker.get_slot("matter")) if tracker.get_slot("matter") else None
        if topic and tracker.get_slot("open_topic") != topic:
            events.append(SlotSet("open_topic", topic))
        return events + resumed(tracker, "legal_aid_form")

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        """Only the questions the law needs: migrant status for labour matters; no means test when it is waived."""
        skipped = set(tracker.get_slot("skipped_slots") or [])
        slots = [s for s in domain_slots if s not in skipped]
        matter = tracker.get_slot("matter")
        if matter and matter not in LABOUR_MATTERS:
            slots = [s for s in slots if s != "migrant_worker"]
        if means_test_waived(tracker):
            slots = [s for s in slots if s not in ("groups", "monthly_income", "household_size", "has_valuable_assets")]
        return slots

    def validate_matter(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: DomainDict) -> dict[str, Any]:
        code = matter_code(value)
        if code is None:
            dispatcher.utter_message(response="utter_bad_matter")
        return {"matter": code}

    def validate_migrant_worker(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> dict[str, Any]:
        answer = yes_no(value, _MIGRANT, _NOT_MIGRANT)
        if answer is None:
            dispatcher.utter_message(response="utter_bad_yes_no")
        return {"migrant_worker": answer}

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

    def validate_has_valuable_assets(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> dict[str, Any]:
        if isinstance(value, bool):
            return {"has_valuable_assets": value}
        dispatcher.utter_message(response="utter_bad_yes_no")
        return {"has_valuable_assets": None}

    def validate_street(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: DomainDict) -> dict[str, Any]:
        return validate_street_value(value, dispatcher)

