"""The fixed codes of CONTRACT §5 and §7, with their 中文 labels.

Everything that reads or writes a code (ledger import, stats, exports, the API) takes it from here, so a label
exists in exactly one place.
"""
from __future__ import annotations

SERVICES: dict[str, str] = {
    "hotline_12348": "12348热线",
    "visit": "来访",
    "online": "网络咨询",
    "advisor": "法律顾问",
    "legal_aid": "法律援助",
    "mediation": "人民调解",
    "plea_leniency": "认罪认罚",
    "publicity": "普法咨询",
}

OUTCOMES: dict[str, str] = {
    "answered": "已解答",
    "referred": "已转介",
    "mediated": "参与调解",
    "accepted": "已受理",
    "assigned": "已指派",
    "rejected": "不予援助",
    "success": "调解成功",
    "failed": "调解不成",
    "pending": "调解中",
}

# Which outcomes belong to which service (CONTRACT §5).
SERVICE_OUTCOMES: dict[str, tuple[str, ...]] = {
    "hotline_12348": ("answered", "referred"),
    "visit": ("answered", "referred"),
    "online": ("answered", "referred"),
    "advisor": ("answered", "mediated"),
    "legal_aid": ("accepted", "assigned", "rejected"),
    "mediation": ("success", "failed", "pending"),
    # One row per 认罪认罚从宽 case a lawyer was assigned to at the procuratorate; persons = 法律帮助人次 in it.
    "plea_leniency": ("assigned",),
    # Legal questions answered at a 法治宣传 event; persons = 人次.
    "publicity": ("answered",),
}

# The channels on which the assistant itself answers (the bot's own consultations, service online).
ASSISTANT_CHANNELS: tuple[str, ...] = ("wechat", "web", "telegram")

CATEGORIES: dict[str, str] = {
    "wage_arrears": "欠薪",
    "work_injury": "工伤",
    "labor_dispute": "劳动争议",
    "family_dispute": "婚姻家庭",
    "traffic_accident": "交通事故",
    "neighbor_dispute": "邻里纠纷",
    "contract_debt": "合同借贷",
    "property": "房产物业",
    "criminal": "刑事",
    "administrative": "行政",
    "other": "其他",
}

CHANNELS: dict[str, str] = {
    "telegram": "Telegram",
    "wechat": "微信",
    "web": "网页",
    "phone": "电话",
    "in_person": "现场",
    "import": "台账导入",
}

# 中文 names of the intents the fallback may ask about (CONTRACT §2).
INTENT_LABELS: dict[str, str] = {
    "greet": "打招呼", "goodbye": "再见", "thank": "谢谢", "affirm": "是的", "deny": "不是",
    "bot_challenge": "你是机器人吗", "request_human": "转人工", "wage_arrears": "讨要工资",
    "work_injury": "工伤", "labor_dispute": "劳动纠纷", "legal_aid": "法律援助", "find_advisor": "找法律顾问",
    "mediation": "调解纠纷", "family_dispute": "婚姻家庭", "traffic_accident": "交通事故",
    "other_legal_question": "其他法律问题", "ask_materials": "要带什么材料", "ask_office": "司法所地址电话",
    "inform": "补充情况", "out_of_scope": "别的事",
}

ELIGIBILITY_VERDICTS = ("eligible", "ineligible", "needs_review")
MEANS_TEST_RESULTS = ("not_required", "waived", "passed", "failed", "unknown")

MATTERS: dict[str, str] = {
    "wage_arrears": "追索劳动报酬",
    "labor_relation": "确认劳动关系",
    "work_injury": "工伤事故人身损害赔偿",
    "social_insurance": "社会保险待遇",
    "social_assistance": "社会救助",
    "pension": "抚恤金",
    "support_payment": "赡养费、抚养费、扶养费",
    "civil_capacity": "认定无/限制民事行为能力",
    "traffic_accident": "交通事故人身损害赔偿",
    "medical_accident": "医疗事故人身损害赔偿",
    "food_drug_accident": "食品药品安全事故人身损害赔偿",
    "environment": "环境污染、生态破坏损害赔偿",
    "state_compensation": "国家赔偿",
    "labor_dispute": "其他劳动争议",
    "family_dispute": "婚姻家庭纠纷",
    "contract_debt": "合同借贷纠纷",
    "property": "房产物业纠纷",
    "criminal_defense": "刑事辩护",
    "criminal_victim": "刑事被害人",
    # 广西法律援助条例 (2025-09-01): women, minors, the elderly, the disabled and veterans may also apply for other
    # personal-injury claims.
    "personal_injury": "其他人身损害赔偿",
    "other": "其他",
}

GROUPS: dict[str, str] = {
    "minor": "未成年人",
    "elderly": "老年人",
    "disabled": "残疾人",
    "no_fixed_income": "无固定生活来源",
    "social_assistance": "社会救助对象",
    "judicial_assistance": "司法救助对象",
    "preferential_care": "优抚对象",
    "domestic_violence_victim": "家庭暴力受害人",
    "abuse_or_abandonment_victim": "虐待、遗弃受害人",
    "heroic_act": "见义勇为",
    "martyr_relative": "英雄烈士近亲属",
    "retrial_acquitted": "再审改判无罪",
    "woman": "妇女",
    "veteran": "退役军人",
}


def code_for(value: str, table: dict[str, str]) -> str | None:
    """The code for `value` given as a code or as its 中文 label, or None when it is neither."""
    value = value.strip()
    if value in table:
        return value
    for code, label in table.items():
        if label == value:
            return code
    return None
