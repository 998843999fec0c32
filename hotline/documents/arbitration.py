"""The content of a draft 劳动人事争议仲裁申请书 from a finished wage claim — pure, no files, no I/O.

Every figure comes from the facts the citizen gave and the law data (hotline/law/data), with its article. What the
facts cannot settle (an amount per person, a name not given, an unverified article or commission) is written as a
blank to fill and listed in `for_person`: the draft is a start the citizen or an operator checks, never a verdict.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hotline.law.params import ParameterValue, parameter_or_none
from hotline.law.quotes import cn_number
from hotline.wage_claim import WageFacts, WageGuidance, guidance, limitation_start

DATA_DIR = Path(__file__).resolve().parent / "data"
BLANK = "＿＿＿＿"  # a line to fill by hand


@dataclass(frozen=True)
class Applicant:
    """The personal fields, asked only after the citizen says yes to the draft; kept only with the draft."""

    name: str | None = None
    sex: str | None = None
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"name": self.name, "sex": self.sex, "id_number": self.id_number, "phone": self.phone,
                "address": self.address}


@dataclass(frozen=True)
class ClaimFacts:
    """Facts beyond the wage claim's slots that some claims need; the console can give them, the chat does not ask."""

    start_date: dt.date | None = None      # first day of work: months for double wages, years for 经济补偿
    monthly_wage: int | None = None        # yuan: the unit of double wages and 经济补偿
    resigned_for_arrears: bool | None = None  # the worker ended the job because wages were not paid (第三十八条)
    general_contractor: str | None = None  # 施工总承包单位, as the worker names it
    developer: str | None = None           # 建设单位, as the worker names it


@dataclass(frozen=True)
class Commission:
    name: str
    address: str | None
    phone: str | None
    verified: bool
    note: str | None
    basis: list[str]


@dataclass(frozen=True)
class Party:
    role: str        # 用人单位 | 施工总承包单位 | 建设单位
    name: str
    why: str         # one sentence: why this party answers for the wages
    basis: list[str]


@dataclass(frozen=True)
class Claim:
    text: str
    amount: int | None
    basis: list[str]
    check: str | None = None  # what a person must check before the claim is filed


@dataclass(frozen=True)
class ArbitrationDraft:
    made_on: dt.date
    commission: Commission
    applicant: Applicant
    respondents: list[Party]
    claims: list[Claim]
    facts_and_reasons: list[str]
    evidence: list[str]
    missing_evidence: list[str]
    deadline: dt.date | None
    deadline_text: str
    basis: list[str]
    for_person: list[str] = field(default_factory=list)

    @property
    def total(self) -> int | None:
        amounts = [c.amount for c in self.claims if c.amount is not None]
        return sum(amounts) if amounts else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "arbitration", "made_on": self.made_on.isoformat(),
            "commission": vars(self.commission), "applicant": self.applicant.to_dict(),
            "respondents": [vars(p) for p in self.respondents], "claims": [vars(c) for c in self.claims],
            "facts_and_reasons": list(self.facts_and_reasons), "evidence": list(self.evidence),
            "missing_evidence": list(self.missing_evidence),
            "deadline": self.deadline.isoformat() if self.deadline else None, "deadline_text": self.deadline_text,
            "basis": list(self.basis), "for_person": list(self.for_person), "total": self.total,
        }


def cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def commission_for(street_or_district: str | None, on: dt.date) -> Commission:
    """The commission for work done in 城中区 (every street of the roster is in it), from data/commissions.yaml."""
    table = yaml.safe_load((DATA_DIR / "commissions.yaml").read_text(encoding="utf-8"))
    entry = table["城中区"]
    art21 = parameter_or_none("labor_arbitration.jurisdiction", on)
    return Commission(name=entry["name"], address=entry.get("address"), phone=entry.get("phone"),
                      verified=bool(entry.get("verified")), note=entry.get("note"),
                      basis=[art21.citation] if art21 else [])


def _months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from start to end (2024-03-10 → 2024-07-09 is 3, → 2024-07-10 is 4)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


class _Cites:
    def __init__(self, on: dt.date) -> None:
        self.on = on
        self.items: list[str] = []  # the citations quoted, in order
        self.unverified: list[str] = []  # those not checked against the official text

    def get(self, name: str) -> ParameterValue | None:
        pv = parameter_or_none(name, self.on)
        if pv is not None:
            if pv.citation not in self.items:
                self.items.append(pv.citation)
            if not pv.verified and pv.citation not in self.unverified:
                self.unverified.append(pv.citation)
        return pv


def _respondents(facts: WageFacts, extra: ClaimFacts, g: WageGuidance, c: _Cites) -> list[Party]:
    """The employer as said; on a building site also whoever the law makes answer for the wages. Who that is
    (条例第三十条 or 第三十六条) is the law core's call (issue 23's `construction_liability`); before it lands, the
    general contractor by 第三十条."""
    parties = [Party("用人单位", facts.employer or BLANK, "申请人为其提供劳动，其拖欠申请人工资。", [])]
    if not facts.construction:
        return parties
    liability = getattr(g, "construction_liability", None)
    who = extra.general_contractor or (extra.developer if liability and "建设单位" in liability.respondent
                                       and not extra.general_contractor else None) or BLANK
    if liability is not None:
        for citation in liability.citation.split("、"):
            if citation not in c.items:
                c.items.append(citation)
            if not liability.verified and citation not in c.unverified:
                c.unverified.append(citation)
        parties.append(Party(liability.respondent, who,
                             f"依法对申请人的工资承担{liability.duty}责任。", liability.citation.split("、")))
    elif (art30 := c.get("wage_payment.art30")) is not None:
        parties.append(Party("施工总承包单位", who,
                             "分包单位或包工头拖欠农民工工资的，由施工总承包单位先行清偿。", [art30.citation]))
    if extra.developer and extra.developer != who and (art29 := c.get("wage_payment.art29")) is not None:
        parties.append(Party("建设单位", extra.developer,
                             "建设单位未按约定支付工程款导致拖欠的，由建设单位在未付工程款范围内先行垫付。",
                             [art29.citation]))
    return parties


def _wage_claim(facts: WageFacts, c: _Cites, for_person: list[str]) -> Claim:
    art30 = c.get("labor_contract.art30")
    basis = [art30.citation] if art30 else []
    people = facts.people_count or 1
    if facts.amount is None:
        for_person.append("拖欠工资的数额没有说，请填写。")
        return Claim("请求裁决被申请人支付拖欠申请人的工资" + BLANK + "元。", None, basis)
    if people > 1:
        each = round(facts.amount / people)
        for_person.append(f"您说{people}人共被欠{facts.amount}元；仲裁申请书每人一份，请改成您本人被欠的数额"
                          f"（按人均算约{each}元）。")
        return Claim(f"请求裁决被申请人支付拖欠申请人的工资{each}元（按{people}人共{facts.amount}元人均计算，"
                     "以实际为准）。", each, basis, check="人均数额，请改为本人实际被欠数额")
    return Claim(f"请求裁决被申请人支付拖欠申请人的工资{facts.amount}元。", facts.amount, basis)


def _double_wages(facts: WageFacts, extra: ClaimFacts, on: dt.date, c: _Cites,
                  for_person: list[str]) -> Claim | None:
    """劳动合同法第八十二条: only without a written contract; the months from the second to at most the eleventh."""
    if facts.has_contract is not False:
        return None
    art82, most = c.get("labor_contract.art82"), parameter_or_none("labor_contract.art82_months", on)
    if art82 is None or most is None:
        return None
    max_months = int(most.value["max_months"])  # 超过一个月不满一年: from the second month, at most eleven
    # Not 劳动报酬: the employment exception of 第二十七条 does not keep this claim alive while the job lasts.
    check = "二倍工资不属于劳动报酬，不适用在职期间不受时效限制的例外，可能已部分超过时效，请核对"
    if facts.construction:
        check += "；与包工头个人之间往往不认定劳动关系，这一项可能不被支持"
    check += "。"
    end = facts.end_date or on
    said = getattr(facts, "months_worked", None)  # issue 23's fact: months of work, as said
    if extra.start_date is not None:
        worked: int | None = _months_between(extra.start_date, end + dt.timedelta(days=1))  # the last day counts
        since = f"{cn_date(extra.start_date)}入职，"
    else:
        worked, since = (said if isinstance(said, int) else None), (f"工作{said}个月，" if said else "")
    if worked is None:
        for_person.append("未签书面劳动合同的二倍工资：需要入职日期（或干了几个月）和月工资才能算出金额，请补充。")
        return Claim("请求裁决被申请人支付未签订书面劳动合同的二倍工资差额" + BLANK + "元（自用工第二个月起算，"
                     f"最多{cn_number(max_months)}个月）。", None, [art82.citation], check=check)
    months = max(0, min(worked - 1, max_months))
    if months == 0:
        return None
    if extra.monthly_wage is None:
        for_person.append(f"二倍工资差额按{months}个月计算，还需要月工资才能算出金额，请补充。")
        return Claim(f"请求裁决被申请人支付未签订书面劳动合同的二倍工资差额{BLANK}元"
                     f"（{since}自第二个月起{months}个月×月工资{BLANK}元）。", None, [art82.citation], check=check)
    amount = months * extra.monthly_wage
    return Claim(f"请求裁决被申请人支付未签订书面劳动合同的二倍工资差额{amount}元"
                 f"（{since}自第二个月起{months}个月×月工资{extra.monthly_wage}元）。",
                 amount, [art82.citation], check=check)


def _compensation(facts: WageFacts, extra: ClaimFacts, c: _Cites, for_person: list[str]) -> Claim | None:
    """第三十八、四十六条: the worker ended the job because wages were not paid; the amount by 第四十七条."""
    if not (facts.employment_ended and extra.resigned_for_arrears):
        return None
    found = [c.get(n) for n in ("labor_contract.art38", "labor_contract.art46", "labor_contract.art47")]
    arts = [a for a in found if a is not None]
    if len(arts) < len(found):
        return None
    art47 = arts[2]
    basis = [a.citation for a in arts]
    if extra.start_date is None or facts.end_date is None or extra.monthly_wage is None:
        for_person.append("经济补偿：需要入职日期、离职日期和月工资才能计算，请补充。")
        return Claim("请求裁决被申请人支付解除劳动合同的经济补偿" + BLANK + "元。", None, basis)
    worked = _months_between(extra.start_date, facts.end_date + dt.timedelta(days=1))
    years, rest = divmod(worked, 12)
    rule = art47.value
    units = years * rule["months_per_full_year"]
    if rest >= 6 and rule["half_year_or_more_counts_as_year"]:
        units += rule["months_per_full_year"]
    elif rest > 0 or worked == 0:
        units += rule["under_half_year_months"]
    amount = round(units * extra.monthly_wage)
    return Claim(f"请求裁决被申请人支付解除劳动合同的经济补偿{amount}元（工作{years}年{rest}个月，"
                 f"按{units:g}个月工资×{extra.monthly_wage}元）。", amount, basis)


def _facts_and_reasons(facts: WageFacts, extra: ClaimFacts, g: WageGuidance) -> list[str]:
    lines = []
    where = f"在城中区{facts.street}" if facts.street else "在城中区"
    since = f"自{cn_date(extra.start_date)}起" if extra.start_date else ""
    site = "的工地" if facts.construction else ""
    lines.append(f"申请人{since}{where}为被申请人{facts.employer or BLANK}{site}提供劳动"
                 + ("，双方签订了书面劳动合同。" if facts.has_contract else
                    "，双方未签订书面劳动合同。" if facts.has_contract is False else "。"))
    owed = f"{facts.amount}元" if facts.amount is not None else BLANK + "元"
    months = f"{facts.months_owed}个月的" if facts.months_owed else ""
    people = f"（包括申请人在内共{facts.people_count}名工人）" if (facts.people_count or 1) > 1 else ""
    lines.append(f"被申请人拖欠{months}工资共计{owed}{people}，经申请人多次催要至今未付。")
    if facts.end_date is not None:
        how = "申请人因被拖欠工资解除劳动关系" if extra.resigned_for_arrears else "申请人的工作"
        lines.append(f"{how}于{cn_date(facts.end_date)}结束。")
    elif facts.employment_ended:
        lines.append("申请人的工作已经结束。")
    liability = getattr(g, "construction_liability", None)
    if liability is not None:
        lines.append(f"本案涉及工程建设项目，依法由{liability.respondent}对拖欠的农民工工资承担{liability.duty}责任"
                     f"（{liability.citation}）。")
    elif g.general_contractor:
        lines.append("本案涉及工程建设项目，依法由施工总承包单位先行清偿拖欠的农民工工资。")
    lines.append("被申请人的行为侵害了申请人的合法权益。为维护申请人的合法权益，特依据《中华人民共和国劳动争议调解仲裁法》"
                 "等法律法规的规定，向贵委申请仲裁，请依法裁决。")
    return lines


def arbitration_draft(facts: WageFacts, applicant: Applicant, on: dt.date,
                      extra: ClaimFacts | None = None) -> ArbitrationDraft:
    """The draft application as of `on`: parties, numbered claims with amounts, facts, evidence, the commission and
    the date the one-year period runs out (第二十七条) — each figure with the article it comes from."""
    extra = extra or ClaimFacts()
    c = _Cites(on)
    g = guidance(facts, on)
    for_person: list[str] = []
    respondents = _respondents(facts, extra, g, c)
    claims = [_wage_claim(facts, c, for_person)]
    for more in (_double_wages(facts, extra, on, c, for_person), _compensation(facts, extra, c, for_person)):
        if more is not None:
            claims.append(more)
    # No claim for costs: labour arbitration is free (第五十三条), so the usual 「仲裁费用由被申请人承担」 asks nothing.
    limitation = c.get("labor_arbitration.limitation")
    deadline, start = g.limitation.deadline, limitation_start(facts)
    if deadline is not None and start is not None:  # a deadline is counted from a start: both or neither
        since = (f"工作结束之日（{cn_date(start)}）" if start == facts.end_date else f"最后一次讨要之日（{cn_date(start)}）")
        deadline_text = (f"申请仲裁的时效期间为一年，从{since}起算，至{cn_date(deadline)}届满；"
                         "其间向对方讨要或对方答应付款的，时效重新计算。")
    else:
        deadline_text = g.limitation.summary
        if facts.employment_ended:
            for_person.append("工作结束的日期没有说：仲裁时效从这天起算一年，请填写。")
    if limitation is not None:
        deadline_text += f"（{limitation.citation}）"
    commission = commission_for(facts.street, on)
    if not commission.verified:
        for_person.append(f"受理机构「{commission.name}」的名称和地址未经核实：{commission.note or ''}")
    for name, value in (("姓名", applicant.name), ("性别", applicant.sex), ("身份证号", applicant.id_number),
                        ("电话", applicant.phone), ("住址", applicant.address)):
        if not value:
            for_person.append(f"申请人{name}未填写。")
    for party in respondents:
        if party.name == BLANK:
            for_person.append(f"被申请人（{party.role}）的名称没有说：请填写营业执照上的全称"
                              "（可在国家企业信用信息公示系统查）。")
    for citation in c.unverified:
        for_person.append(f"{citation}的条文未对照官方文本核实，请工作人员核对。")
    evidence = _evidence(facts)
    basis = list(dict.fromkeys(c.items + commission.basis + [b for p in respondents for b in p.basis]))
    return ArbitrationDraft(made_on=on, commission=commission, applicant=applicant, respondents=respondents,
                            claims=claims, facts_and_reasons=_facts_and_reasons(facts, extra, g),
                            evidence=evidence, missing_evidence=list(g.missing_evidence), deadline=deadline,
                            deadline_text=deadline_text, basis=basis, for_person=for_person)


def _evidence(facts: WageFacts) -> list[str]:
    """The evidence the worker has, in checklist order, read as the guidance reads it."""
    from hotline.wage_claim import EVIDENCE_ITEMS, normalise_evidence

    found: list[str] = []
    for text in facts.evidence:
        for item in ([text] if text in EVIDENCE_ITEMS else normalise_evidence(text)):
            if item not in found:
                found.append(item)
    if facts.has_contract is True and "劳动合同" not in found:
        found.append("劳动合同")
    if facts.has_contract is False and "劳动合同" in found:
        found.remove("劳动合同")
    return [i for i in EVIDENCE_ITEMS if i in found]
