"""A prefilled 法律援助申请表 from the legal-aid assessment — pure.

Only for an assessment that said eligible or needs_review (an ineligible one gets no form: the agency may still take
an application, but we do not fill one that our own check says fails). The fields follow the 司法部 form: applicant,
the matter, the reason, the economic situation — the means statement, or the exemption from verification with its
article (《法律援助法》第四十二条) — and the 个人诚信承诺 (第四十一条).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from hotline.codes import MATTERS
from hotline.documents.arbitration import BLANK, Applicant, cn_date
from hotline.law.params import parameter_or_none
from hotline.legal_aid import AidFacts, Assessment


class NotEligible(ValueError):
    """The assessment said ineligible: no prefilled form."""


@dataclass(frozen=True)
class LegalAidForm:
    made_on: dt.date
    applicant: Applicant
    matter: str            # 中文 label of the matter
    request: str           # 申请事项
    reason: str            # 案情及申请理由
    verdict: str           # eligible | needs_review
    means: str             # the economic-situation paragraph
    exemption_basis: list[str]
    pledge: str            # 个人诚信承诺
    basis: list[str]
    for_person: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = dict(vars(self))
        data.update(kind="legal_aid", made_on=self.made_on.isoformat(), applicant=self.applicant.to_dict())
        return data


def _pledge(on: dt.date) -> tuple[str, list[str]]:
    art41 = parameter_or_none("legal_aid.art41", on)
    text = ("本人承诺：以上所填内容及提交的材料真实、准确、完整，经济困难状况如实说明。如有虚假，"
            "本人愿意承担由此产生的一切法律责任。")
    return text, [art41.citation] if art41 else []


def legal_aid_form(*, assessment: Assessment, facts: AidFacts, applicant: Applicant, reason: str,
                   on: dt.date) -> LegalAidForm:
    """The form's content; raises NotEligible for an ineligible assessment."""
    if assessment.verdict not in ("eligible", "needs_review"):
        raise NotEligible("the legal-aid check said ineligible: no form is prefilled")
    label = MATTERS.get(facts.matter, facts.matter)
    request = {"wage_arrears": "请求为申请人追索劳动报酬（劳动争议仲裁及诉讼）提供法律援助（代理）。",
               "work_injury": "请求为申请人的工伤事故人身损害赔偿提供法律援助（代理）。"}.get(
        facts.matter, f"请求为申请人的{label}事项提供法律援助。")
    for_person: list[str] = []
    exemption: list[str] = []
    if assessment.means_test in ("waived", "not_required"):
        exemption = [b for b in assessment.basis if "第四十二条" in b or "第三十二条" in b]
        why = "、".join(exemption) or "、".join(assessment.basis)
        means = (f"免予核查经济困难状况（{why}）。"
                 + ("申请人是进城务工人员，申请支付劳动报酬，附进城务工的证明材料。"
                    if facts.matter == "wage_arrears" and facts.migrant_worker else ""))
    else:
        size = facts.household_size
        per = facts.per_capita_income()
        means = (f"家庭人口{size if size else BLANK}人，家庭月收入{facts.monthly_income if facts.monthly_income is not None else BLANK}元，"
                 f"人均月收入{round(per) if per is not None else BLANK}元"
                 + (f"（当地标准{assessment.threshold['value']}{assessment.threshold.get('unit', '元/月')}，"
                    f"{assessment.threshold.get('source', '')}）" if assessment.threshold else "")
                 + ("；无高价值财产。" if facts.has_valuable_assets is False else "。"))
        if facts.has_valuable_assets is None:
            for_person.append("是否有高价值财产没有说，请如实填写。")
    if assessment.verdict == "needs_review":
        for_person.append("自助判断结果是「需要人工审核」：是否给予援助由法律援助中心审查决定。"
                          + " ".join(assessment.reasons[:2]))
    for name, value in (("姓名", applicant.name), ("性别", applicant.sex), ("身份证号", applicant.id_number),
                        ("电话", applicant.phone), ("住址", applicant.address)):
        if not value:
            for_person.append(f"申请人{name}未填写。")
    pledge, pledge_basis = _pledge(on)
    basis = list(dict.fromkeys(list(assessment.basis) + pledge_basis))
    return LegalAidForm(made_on=on, applicant=applicant, matter=str(label), request=request, reason=reason,
                        verdict=assessment.verdict, means=means, exemption_basis=exemption, pledge=pledge,
                        basis=basis, for_person=for_person)


def wage_reason(*, employer: str | None, amount: int | None, months: int | None, end_date: dt.date | None) -> str:
    """案情 in one or two plain sentences from the wage claim's facts."""
    text = f"申请人为{employer or BLANK}提供劳动，被拖欠"
    text += f"{months}个月的" if months else ""
    text += f"工资{amount}元" if amount is not None else "工资"
    text += f"，工作于{cn_date(end_date)}结束" if end_date else ""
    return text + "，经催要未付，申请人经济困难，无力聘请律师，拟申请劳动仲裁追讨。"
