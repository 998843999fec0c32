"""The operator copilot: what the caller said (Rasa NLU), what we know so far, what to ask next.

Pure functions over a parse result and the slots remembered for the call; the endpoint in api.py does the I/O
(Rasa, database). Slot names are CONTRACT §4's.
"""
from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hotline.wage_claim import normalise_evidence

# Which form an intent starts (CONTRACT §4) and the slots it needs, in the order an operator asks them.
FLOW_SLOTS: dict[str, tuple[str, ...]] = {
    "wage_claim": ("employer", "amount", "people_count", "months_owed", "employment_ended", "has_contract",
                   "evidence", "street"),
    "legal_aid": ("matter", "migrant_worker", "monthly_income", "household_size", "has_valuable_assets", "groups",
                  "street"),
    "advisor": ("street", "community"),
}
INTENT_FLOW = {"wage_arrears": "wage_claim", "legal_aid": "legal_aid", "find_advisor": "advisor"}

# Intents that name the caller's problem, and so its category (CONTRACT §5).
INTENT_CATEGORY = {
    "wage_arrears": "wage_arrears",
    "work_injury": "work_injury",
    "labor_dispute": "labor_dispute",
    "family_dispute": "family_dispute",
    "traffic_accident": "traffic_accident",
}
CATEGORY_MATTER = {
    "wage_arrears": "wage_arrears",
    "work_injury": "work_injury",
    "labor_dispute": "labor_dispute",
    "family_dispute": "family_dispute",
    "traffic_accident": "traffic_accident",
    "contract_debt": "contract_debt",
    "property": "property",
}
# Art. 42(3) of the Legal Aid Law: a migrant worker claiming pay or work-injury damages needs no means test,
# so the operator need not ask about income and assets.
MEANS_TEST_WAIVED_MATTERS = {"wage_arrears", "work_injury"}
MEANS_SLOTS = ("monthly_income", "household_size", "has_valuable_assets")

QUESTIONS: dict[str, str] = {
    "employer": "请问拖欠工资的是哪家公司，或者哪位老板、包工头？",
    "amount": "一共被拖欠了多少钱？",
    "people_count": "一共有几位工友被欠薪（包括您自己）？",
    "months_owed": "拖欠了几个月的工资？",
    "employment_ended": "您现在还在那里干活，还是已经不干了？",
    "has_contract": "当时有没有签劳动合同？",
    "evidence": "手上有哪些证据？比如欠条、工资条、考勤记录、微信聊天记录或转账记录。",
    "street": "您在哪个街道（或社区、村）？我帮您找就近的司法所。",
    "community": "是哪个社区或村？",
    "matter": "请问是什么事情需要法律援助？",
    "migrant_worker": "您是外出务工的农民工吗？",
    "monthly_income": "家里每个月总收入大概多少钱？",
    "household_size": "家里一共几口人？",
    "has_valuable_assets": "家里有没有房产、车辆这类值钱的财产？",
    "groups": "您是否属于老年人、残疾人、未成年人、低保对象或家庭暴力受害人？",
}

INTENT_REPLIES: dict[str, str] = {
    "greet": "您好，这里是12348公共法律服务热线，请问有什么可以帮您？",
    "goodbye": "感谢来电，如有需要请随时拨打12348。",
    "thank": "不客气，如有需要请随时拨打12348。",
    "bot_challenge": "我是12348热线的接线员，可以为您解答法律问题。",
    "request_human": "好的，我为您记录下来，请稍等，马上安排律师或工作人员与您联系。",
    "mediation": "人民调解是免费的。可以到您所在社区（村）的人民调解委员会或街道司法所申请调解。您在哪个街道？",
    "work_injury": "受伤后请先及时治疗并保留病历；单位应在事故发生之日起30日内申请工伤认定，单位不申请的，本人或近亲属可在1年内申请。请问是在哪里受的伤？",
    "labor_dispute": "请您说说具体情况：是被辞退、没签合同、没交社保还是加班费的问题？",
    "family_dispute": "请您具体说说情况，是离婚、抚养费、赡养还是继承的问题？",
    "traffic_accident": "请先保存好事故认定书、病历和费用票据。请问交警的事故责任认定出来了吗？",
    "ask_materials": "一般需要带身份证，以及和这件事有关的证据材料，比如合同、欠条、聊天记录、转账记录等。",
    "ask_office": "12348热线24小时有人接听；各街道司法所办公时间为周一至周五 8:00-12:00 15:00-18:00。",
    "out_of_scope": "这个问题不属于法律服务范围。请问有什么法律方面的问题需要咨询吗？",
    "other_legal_question": "请您具体说说情况，我帮您看看可以怎么处理。",
}

_INT_ENTITIES = {"amount", "people_count", "months_owed", "monthly_income", "household_size"}
_TEXT_ENTITIES = {"street", "community", "employer", "phone"}

# (pattern, value): the first pattern that matches wins, so negations come before the positive forms they contain.
_BOOL_RULES: dict[str, list[tuple[str, bool]]] = {
    "has_contract": [(r"(没|没有|未)签(过|订)?(劳动)?合同|没有?(劳动)?合同", False),
                     (r"签(了|过|订了)(劳动)?合同|有(劳动)?合同", True)],
    "employment_ended": [(r"还在(干|做|上班)|在职", False),
                         (r"不干了|不做了|离职|辞职|辞退|开除|干完|完工|走了|已经离开|结束了", True)],
    "migrant_worker": [(r"农民工|民工|工地|包工头|工友|打工", True)],
    "has_valuable_assets": [(r"没(有)?(房|车|存款|财产|什么值钱)", False), (r"有(房|车|存款)", True)],
}
_GROUP_WORDS = {
    "disabled": r"残疾",
    "elderly": r"老年人|老人家|[六七八九]十多?岁",
    "minor": r"未成年",
    "social_assistance": r"低保|特困",
    "domestic_violence_victim": r"家暴|家庭暴力",
}
_CATEGORY_WORDS = [
    ("neighbor_dispute", r"邻居|邻里|楼上|楼下"),
    ("contract_debt", r"借钱|借款|欠款|欠钱|合同|货款"),
    ("property", r"房子|房产|物业|租房|房东"),
    ("criminal", r"诈骗|派出所|被抓|拘留|判刑|打人"),
    ("administrative", r"政府|行政|拆迁|罚款"),
]


@dataclass
class CallState:
    """What the operator's copilot remembers about one call."""

    intent: str | None = None
    flow: str | None = None
    category: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    touched: float = field(default_factory=time.monotonic)


class CallMemory:
    """Per-conversation state, in memory, bounded in size and age (a call lasts minutes, not days)."""

    def __init__(self, max_calls: int = 2000, ttl_s: float = 4 * 3600, clock: Callable[[], float] = time.monotonic):
        self._calls: OrderedDict[str, CallState] = OrderedDict()
        self.max_calls, self.ttl_s, self.clock = max_calls, ttl_s, clock

    def get(self, key: str) -> CallState:
        now = self.clock()
        state = self._calls.pop(key, None)
        if state is None or now - state.touched > self.ttl_s:
            state = CallState(touched=now)
        state.touched = now
        self._calls[key] = state
        while len(self._calls) > self.max_calls:
            self._calls.popitem(last=False)
        return state


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value.strip()):
        return int(float(value))
    return None


def entity_slots(entities: list[dict[str, Any]]) -> dict[str, Any]:
    """The CONTRACT §3 entities of a parse result as slot values (ints for numbers, text otherwise)."""
    slots: dict[str, Any] = {}
    for ent in entities:
        name, value = ent.get("entity"), ent.get("value")
        if name in _INT_ENTITIES:
            if (number := _as_int(value)) is not None:
                slots[name] = number
        elif name in _TEXT_ENTITIES and isinstance(value, str) and value.strip():
            slots[name] = value.strip()
    return slots


def keyword_slots(text: str) -> dict[str, Any]:
    """Yes/no and list slots an operator hears in plain words (no NLU entity carries them)."""
    slots: dict[str, Any] = {}
    for slot, rules in _BOOL_RULES.items():
        for pattern, value in rules:
            if re.search(pattern, text):
                slots[slot] = value
                break
    groups = [code for code, pattern in _GROUP_WORDS.items() if re.search(pattern, text)]
    if groups:
        slots["groups"] = groups
    # "我们12个工友" is a head count, not witness evidence: take 工友证言 only when testimony is mentioned.
    evidence = [item for item in normalise_evidence(text) if item != "工友证言" or "证" in text]
    if evidence:
        slots["evidence"] = evidence
    return slots


def category_for(intent: str, text: str) -> str | None:
    """The CONTRACT §5 category an intent (or, for general questions, the wording) points to."""
    if intent in INTENT_CATEGORY:
        return INTENT_CATEGORY[intent]
    if intent in ("other_legal_question", "mediation"):
        for category, pattern in _CATEGORY_WORDS:
            if re.search(pattern, text):
                return category
        return "other"
    return None


def update_state(state: CallState, parse_result: dict[str, Any], text: str) -> None:
    """Fold one utterance into the call: the flow and category stick; later facts overwrite earlier ones."""
    intent = str(parse_result.get("intent", {}).get("name") or "")
    state.intent = intent
    if intent in INTENT_FLOW:
        state.flow = INTENT_FLOW[intent]
    if (category := category_for(intent, text)) is not None and (state.category in (None, "other")):
        state.category = category
    new = {**keyword_slots(text), **entity_slots(parse_result.get("entities") or [])}
    for key in ("groups", "evidence"):
        if key in new and key in state.slots:
            new[key] = list(dict.fromkeys([*state.slots[key], *new[key]]))
    state.slots.update(new)
    if state.category in CATEGORY_MATTER and "matter" not in state.slots:
        state.slots["matter"] = CATEGORY_MATTER[state.category]


def missing_slots(flow: str | None, slots: dict[str, Any]) -> list[str]:
    """The slots of the call's form still unknown, in asking order; [] outside a form."""
    if flow is None:
        return []
    wanted = list(FLOW_SLOTS[flow])
    if (flow == "legal_aid" and slots.get("migrant_worker") is True
            and slots.get("matter") in MEANS_TEST_WAIVED_MATTERS):
        wanted = [s for s in wanted if s not in MEANS_SLOTS and s != "groups"]
    return [s for s in wanted if s not in slots]


def aid_facts_ready(slots: dict[str, Any]) -> bool:
    """Whether the legal-aid rules can give an answer worth showing: a matter plus what its means test needs."""
    if "matter" not in slots:
        return False
    if slots.get("migrant_worker") is True and slots["matter"] in MEANS_TEST_WAIVED_MATTERS:
        return True
    if slots.get("groups"):
        return True
    return "monthly_income" in slots and "household_size" in slots


def aid_facts_body(slots: dict[str, Any]) -> dict[str, Any]:
    """The slots as the body of POST /api/eligibility (the rules derive the per-capita income themselves)."""
    return {
        "matter": slots["matter"],
        "migrant_worker": slots.get("migrant_worker"),
        "monthly_income_per_capita": None,
        "monthly_income": slots.get("monthly_income"),
        "household_size": slots.get("household_size"),
        "has_valuable_assets": slots.get("has_valuable_assets"),
        "groups": list(slots.get("groups") or []),
        "criminal": None,
    }


def suggest_reply(state: CallState, missing: list[str], eligibility: dict[str, Any] | None,
                  advisor: dict[str, Any] | None) -> str:
    """What the operator can say next, in plain Chinese."""
    if missing:
        return QUESTIONS[missing[0]]
    parts: list[str] = []
    if eligibility is not None:
        verdict = eligibility.get("verdict")
        basis = (eligibility.get("basis") or [""])[0]
        if verdict == "eligible":
            parts.append(f"按您说的情况，可以申请法律援助{f'（依据{basis}）' if basis else ''}。")
        elif verdict == "ineligible":
            parts.append("按您说的情况，暂不符合法律援助条件，但可以到司法所免费咨询，也可以申请人民调解。")
        else:
            parts.append("能否获得法律援助，需要法律援助中心进一步审查。")
    if advisor is not None:
        parts.append(
            f"{advisor.get('community')}的法律顾问是{advisor.get('advisor')}，电话{advisor.get('advisor_phone')}；"
            f"{advisor.get('justice_office')}在{advisor.get('office_address')}，办公时间{advisor.get('office_hours')}。"
        )
    if parts:
        return "".join(parts)
    if state.flow == "wage_claim":
        return "情况已经记清楚了。建议先向劳动保障监察投诉或申请劳动仲裁，可以申请法律援助，请带上身份证和证据材料。"
    return INTENT_REPLIES.get(state.intent or "", INTENT_REPLIES["other_legal_question"])
