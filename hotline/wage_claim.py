"""Guidance for unpaid wages (讨薪): routes, the arbitration deadline, missing evidence, the general-contractor
rule, a careful note on the crime of refusing to pay, and the legal-aid fast lane — all from hotline/law/data.

`guidance(facts, on)` is pure; every text it returns quotes the article it rests on, and `basis` lists them all.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hotline.law.params import ParameterValue, latest_verified, parameter_or_none
from hotline.legal_aid import AidFacts, Assessment, assess, migrant_waiver_matters

log = logging.getLogger(__name__)

EVIDENCE_ITEMS: tuple[str, ...] = (
    "劳动合同", "工牌/工作证", "考勤记录", "工资条", "银行流水/转账记录", "欠条", "微信聊天记录",
    "工友证言", "招工登记", "社保记录", "工地照片和项目名称",
)

# Words people use for each checklist item. "微信" alone is chat unless the clause is about a transfer.
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "劳动合同": ("劳动合同", "用工合同", "合同"),
    "工牌/工作证": ("工牌", "工作证", "胸牌", "出入证"),
    "考勤记录": ("考勤", "打卡", "记工", "出勤"),
    "工资条": ("工资条", "工资单", "工资表"),
    "银行流水/转账记录": ("银行流水", "流水", "转账", "打款", "汇款"),
    "欠条": ("欠条", "欠据", "欠款条", "欠款单", "条子", "白条", "打了条", "写了条"),
    "微信聊天记录": ("聊天记录", "微信记录", "微信聊天", "短信", "录音", "微信"),
    "工友证言": ("工友", "作证", "证人", "证言", "同事"),
    "招工登记": ("招工", "入职登记", "登记表"),
    "社保记录": ("社保", "社会保险"),
    "工地照片和项目名称": ("照片", "拍照", "视频", "项目名", "工地名", "告示牌"),
}
_NEGATORS = ("没", "无", "不", "未", "丢")
_CLAUSE_SPLIT = re.compile(r"但是|不过|可是|还有|只有|[，,。.;；、/\s和及与跟但也还只]+")


@dataclass(frozen=True)
class WageFacts:
    employer: str | None = None
    amount: int | None = None  # total owed, yuan
    people_count: int | None = None
    months_owed: int | None = None
    employment_ended: bool | None = None
    end_date: dt.date | None = None
    has_contract: bool | None = None
    evidence: tuple[str, ...] = ()
    street: str | None = None
    construction: bool | None = None  # a construction project: the general-contractor rule applies
    migrant_worker: bool | None = None  # asked, never assumed: Art. 42(3) waives the means test only for them
    # Who hired the worker on a construction site: "company" (a 分包单位: 条例第三十条, the general contractor pays
    # first) or "person" (a 包工头 or an unqualified crew: 条例第三十六条, whoever let the work to him pays).
    hired_by: str | None = None
    # The last day the worker asked for the money (or the boss promised to pay): it interrupts the 1-year period
    # (劳动争议调解仲裁法第二十七条第二款), which then runs again from that day.
    last_demand_date: dt.date | None = None
    months_worked: int | None = None  # months of work so far: double wages (劳动合同法第八十二条) need more than one


@dataclass(frozen=True)
class Route:
    key: str
    title: str
    detail: str  # for operators and the API: every figure, an unverified one named as such
    basis: list[str]
    # The same detail with only verified figures (a citizen's), when it differs; made from the same dated records,
    # never by rewriting `detail`.
    citizen_detail: str | None = None
    unverified: tuple[str, ...] = ()  # citations in `basis` that rest only on records not checked (verified: false)

    def for_citizen(self) -> tuple[str, list[str]]:
        """The detail and the citations a citizen is shown: checked law only."""
        return (self.citizen_detail or self.detail), [c for c in self.basis if c not in self.unverified]


@dataclass(frozen=True)
class Limitation:
    summary: str
    deadline: dt.date | None
    basis: list[str]


@dataclass(frozen=True)
class ConstructionLiability:
    """Who answers for a construction worker's wages beyond the one who hired him, and how (for drafted documents:
    the respondent to name). `duty` is 先行清偿 (pays first, recovers later) or 清偿 (pays)."""

    respondent: str  # 中文, e.g. 施工总承包单位
    duty: str  # 先行清偿 | 清偿 | 先行清偿或清偿（看是谁招的工）
    citation: str
    verified: bool
    text: str  # the sentence a citizen reads
    sources: tuple[ParameterValue, ...] = ()  # the articles' dated records (条例第三十条, 第三十六条)


@dataclass(frozen=True)
class WageGuidance:
    routes: list[Route]
    limitation: Limitation
    missing_evidence: list[str]
    general_contractor: str | None
    crime_note: str | None
    legal_aid: Assessment
    basis: list[str] = field(default_factory=list)
    # Parameters the guidance needed and found no value for on the day: the answer then goes to a person.
    missing_parameters: list[str] = field(default_factory=list)
    construction_liability: ConstructionLiability | None = None
    # Law that applies here but whose text we could not confirm (verified: false): shown to operators, never to a
    # citizen as fact.
    operator_notes: list[str] = field(default_factory=list)
    # Citations in `basis` resting only on records not checked against the official text: never shown to citizens.
    unverified_basis: list[str] = field(default_factory=list)

    @property
    def needs_review(self) -> bool:
        return bool(self.missing_parameters)

    def to_api(self) -> dict[str, Any]:
        return {
            "needs_review": self.needs_review,
            "missing_parameters": list(self.missing_parameters),
            "routes": [{"key": r.key, "title": r.title, "detail": r.detail, "basis": r.basis,
                        "unverified": list(r.unverified)} for r in self.routes],
            "limitation": {"summary": self.limitation.summary,
                           "deadline": self.limitation.deadline.isoformat() if self.limitation.deadline else None,
                           "basis": self.limitation.basis},
            "missing_evidence": list(self.missing_evidence),
            "general_contractor": self.general_contractor,
            "crime_note": self.crime_note,
            "construction_liability": (None if self.construction_liability is None else {
                "respondent": self.construction_liability.respondent, "duty": self.construction_liability.duty,
                "citation": self.construction_liability.citation,
                "verified": self.construction_liability.verified}),
            "operator_notes": list(self.operator_notes),
            "unverified_basis": list(self.unverified_basis),
            "legal_aid": self.legal_aid.to_api(),
            "basis": list(self.basis),
        }


def normalise_evidence(text: str) -> list[str]:
    """Checklist items named in free text, in checklist order: '有欠条和微信聊天记录' -> ['欠条', '微信聊天记录'].

    A clause with a negation ('没签合同', '合同没有') names nothing.
    """
    if not text:
        return []
    found: set[str] = set()
    for clause in _CLAUSE_SPLIT.split(text):
        if not clause or any(n in clause for n in _NEGATORS):
            continue
        for item, words in _KEYWORDS.items():
            for word in words:
                if word not in clause:
                    continue
                if word == "微信" and any(w in clause for w in _KEYWORDS["银行流水/转账记录"] + ("红包",)):
                    continue
                found.add(item)
                break
    return [item for item in EVIDENCE_ITEMS if item in found]


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February -> 28 February
        return day.replace(year=day.year + years, day=28)


def _cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


class _Basis:
    def __init__(self, on: dt.date) -> None:
        self.on = on
        self.items: list[str] = []
        self.missing: list[str] = []
        self.checked: dict[str, bool] = {}  # citation -> some record cited under it is verified

    def required(self, name: str) -> ParameterValue | None:
        """A parameter the text cannot do without: when absent on the day it is logged and the guidance marked for
        review — never replaced by a figure typed here."""
        pv = parameter_or_none(name, self.on)
        if pv is None and name not in self.missing:
            log.warning("wage claim: parameter %s has no value on %s; guidance goes to review", name,
                        self.on.isoformat())
            self.missing.append(name)
        return pv

    def use(self, *values: ParameterValue | None) -> list[str]:
        """Citations of the values given (None skipped), also recorded for the overall basis."""
        out = []
        for pv in values:
            if pv is None:
                continue
            out.append(pv.citation)
            self.checked[pv.citation] = self.checked.get(pv.citation, False) or pv.verified
            if pv.citation not in self.items:
                self.items.append(pv.citation)
        return out

    def unverified(self, citations: list[str]) -> tuple[str, ...]:
        """Those of `citations` that rest only on unverified records."""
        return tuple(c for c in dict.fromkeys(citations) if not self.checked.get(c, True))

    def extend(self, citations: list[str]) -> None:
        for c in citations:
            if c not in self.items:
                self.items.append(c)


def _p(name: str, on: dt.date) -> ParameterValue | None:
    return parameter_or_none(name, on)


def limitation_start(facts: WageFacts) -> dt.date | None:
    """The day the 1-year arbitration period runs from: the job's end, or a later demand for the money, which
    interrupts it (劳动争议调解仲裁法第二十七条); None while the end day is unknown."""
    if facts.end_date is None:
        return None
    if facts.last_demand_date is not None and facts.last_demand_date > facts.end_date:
        return facts.last_demand_date
    return facts.end_date


def arbitration_deadline(facts: WageFacts, on: dt.date) -> dt.date | None:
    """The last day to apply for labour arbitration over unpaid wages, as of `on`; None when it cannot be
    computed (still employed, end day unknown, or no limitation rule in force that day)."""
    pv = parameter_or_none("labor_arbitration.limitation", on)
    start = limitation_start(facts)
    if pv is None or start is None:
        return None
    return _add_years(start, pv.value["years"])


def _limitation(facts: WageFacts, on: dt.date, b: _Basis) -> Limitation:
    pv = b.required("labor_arbitration.limitation")
    if pv is None:
        return Limitation("这个日期的仲裁时效规定没有收录，请咨询12348。", None, [])
    years = pv.value["years"]
    basis = b.use(pv)
    restart = "期间您向老板或有关部门要过钱、或者老板答应给钱的，时效从那时重新算。"
    two_years = _p("labor_inspection.two_year_rule", on)
    inspection = ""
    if two_years is not None:
        inspection = f"但向劳动保障监察投诉，拖欠超过{two_years.value['years']}年没人投诉的不再查处，不要拖。"
    ended = facts.employment_ended if facts.employment_ended is not None else (
        True if facts.end_date is not None else None)
    if ended is False:
        return Limitation(f"还在干活期间，被拖欠的工资申请仲裁不受{years}年期限限制，离职后要在{years}年内申请；"
                          f"{inspection}", None, basis + b.use(two_years if inspection else None))
    if ended is None:
        return Limitation(f"还在干活的，欠的工资在离职前申请仲裁不受{years}年期限限制；工作已经结束的，要从结束那天起"
                          f"{years}年内申请仲裁。", None, basis)
    start = limitation_start(facts)
    if start is None or facts.end_date is None:
        return Limitation(f"从工作结束那天起{years}年内申请劳动仲裁。{restart}", None, basis)
    deadline = _add_years(start, years)
    if start != facts.end_date:
        summary = (f"工作在{_cn_date(facts.end_date)}结束，{_cn_date(start)}您又要过钱，时效从那天重新算，"
                   f"要在{_cn_date(deadline)}前申请劳动仲裁。")
    else:
        summary = f"工作在{_cn_date(facts.end_date)}结束，要在{_cn_date(deadline)}前申请劳动仲裁。"
    if on > deadline:
        summary += f"按这个算已经过了期限；但{restart}请尽快咨询。"
    else:
        summary += f"还剩{(deadline - on).days}天，{restart}"
    return Limitation(summary, deadline, basis)


@dataclass(frozen=True)
class FinalAwardCap:
    """The ceiling under which a wage award is final (调解仲裁法第四十七条: months × the local minimum wage), from the
    dated records: the newest verified minimum wage and, when the one in force is not verified, that one too."""

    final: ParameterValue
    verified: ParameterValue | None  # the newest minimum wage checked against the official text
    pending: ParameterValue | None  # the minimum wage in force that day when it is not verified (minimum wages rise)

    @property
    def months(self) -> int:
        return int(self.final.value["months_of_minimum_wage"])

    @property
    def amount(self) -> int | None:
        return None if self.verified is None else self.months * int(self.verified.value)

    @property
    def pending_amount(self) -> int | None:
        return None if self.pending is None else self.months * int(self.pending.value)

    def text(self, *, citizen: bool) -> str:
        """'当地12个月最低工资（20160元）'; an unverified newer line is named for operators and, for a citizen,
        replaced by a pointer to 12348."""
        base = f"当地{self.months}个月最低工资"
        if self.amount is None:
            return base
        if self.pending_amount is None:
            return f"{base}（{self.amount}元）"
        if citizen:
            return f"{base}（{self.amount}元，最新标准请拨12348核实）"
        return f"{base}（按已核实的标准是{self.amount}元，按未核实的新标准是{self.pending_amount}元）"


def _final_award_cap(on: dt.date, b: _Basis) -> tuple[FinalAwardCap | None, list[str]]:
    """The cap and the citations it rests on; None when the final-award rule has no value that day."""
    final = b.required("labor_arbitration.final_award")
    if final is None:
        return None, []
    current = b.required("minimum_wage.liuzhou")
    verified = latest_verified("minimum_wage.liuzhou", on)
    if current is None or verified is None:
        return FinalAwardCap(final, None, None), b.use(final)
    if current is verified or current.verified:
        return FinalAwardCap(final, verified, None), b.use(final, verified)
    return FinalAwardCap(final, verified, current), b.use(final, verified, current)


def _routes(facts: WageFacts, on: dt.date, evidence: list[str], b: _Basis) -> list[Route]:
    routes: list[Route] = []
    negotiation, board, art50 = (_p(n, on) for n in (
        "labor_arbitration.negotiation", "wage_payment.art34", "wage_payment.art50"))
    detail = "先把证据整理好（下面列了还缺哪些），拿着证据和老板或包工头谈，谈成了要写成书面协议并签字。"
    shown_board = facts.construction and board is not None and board.verified
    if shown_board and board is not None:
        detail += board.value
    if art50 is not None:
        detail += art50.value
    art38 = _p("labor_contract.art38", on)
    resign = facts.employment_ended is False and art38 is not None and art38.verified
    if resign and art38 is not None:
        detail += art38.value
    routes.append(Route("negotiate", "整理证据，先和老板协商", detail,
                        b.use(negotiation, board if shown_board else None, art50, art38 if resign else None)))

    two_years, hotline = _p("labor_inspection.two_year_rule", on), b.required("labor_inspection.hotline")
    call = f"，或打{hotline.value}" if hotline else ""
    detail = f"到城中区人力资源和社会保障局（劳动保障监察）投诉{call}。投诉不收费，监察部门可以责令老板支付。"
    if two_years is not None:
        years = two_years.value["years"]
        detail += f"拖欠超过{years}年又没人投诉过的，监察部门不再查处，要尽快。"
        if facts.end_date is not None and _add_years(facts.end_date, years) < on:
            detail += f"您离职已超过{years}年，投诉可能不再受理，可以走仲裁或法院。"
    art85 = _p("labor_contract.art85", on)
    if art85 is not None and art85.verified:
        detail += (f"监察部门责令老板限期支付、老板逾期还不给的，可以责令老板按应付金额{art85.value['min_percent']}%到"
                   f"{art85.value['max_percent']}%加付赔偿金。")
    title = f"向劳动保障监察投诉（{hotline.value}）" if hotline else "向劳动保障监察投诉"
    routes.append(Route("inspection", title, detail,
                        b.use(two_years, hotline, art85 if art85 is not None and art85.verified else None)))

    order = _p("labor_arbitration.payment_order", on)
    m3, m4, m31, m33 = (_p(f"mediation.art{n}", on) for n in (3, 4, 31, 33))
    detail = "可以到街道的劳动争议调解组织或人民调解委员会调解，不收费。"
    if order is not None:
        detail += order.value
    if m31 is not None and m33 is not None:
        detail += f"{m31.value}{m33.value['text']}"
    if m3 is not None:
        detail += m3.value
    routes.append(Route("mediation", "申请调解", detail, b.use(order, m4, m3, m31, m33)))

    free, timing = _p("labor_arbitration.free", on), _p("labor_arbitration.award_time", on)
    detail = "向干活所在地或老板所在地的劳动人事争议仲裁委员会申请"
    detail += "，不收费" if free else ""
    if timing is not None:
        detail += f"；一般{timing.value['days']}天内裁决，复杂的可以延长{timing.value['extension_days']}天"
    cap, cap_basis = _final_award_cap(on, b)
    detail += "。"
    set_aside = _p("labor_arbitration.set_aside", on)
    final_words = ""
    if cap is not None:
        final_words = "的，仲裁裁决是终局的，裁决书一作出就生效，老板不能再向法院起诉"
        if set_aside is not None:
            final_words += (f"，但老板有法定理由的，可以在收到裁决书{set_aside.value['days']}日内向"
                            f"{set_aside.value['court']}申请撤销裁决")
        final_words += "。"
    fits = ""
    if facts.amount is not None and cap is not None and cap.amount is not None:
        each = facts.amount / max(facts.people_count or 1, 1)
        who = "每人" if (facts.people_count or 1) > 1 else "您"
        pending = cap.pending_amount
        if each <= cap.amount:
            fits = f"{who}约{each:.0f}元，在这个范围内。"
        elif pending is not None and each <= pending:
            fits = f"{who}约{each:.0f}元，是否在这个范围内要按最新最低工资标准核对。"
        else:
            fits = f"{who}约{each:.0f}元，超过这个范围，对裁决不服的双方都可以起诉。"
    # One sentence per audience, both from the same cap (FinalAwardCap): nothing is rewritten afterwards.
    operator_detail, citizen_detail = (
        detail + (f"追讨工资不超过{cap.text(citizen=citizen)}{final_words}" if cap is not None else "") + fits
        for citizen in (False, True))
    routes.append(Route("arbitration", "申请劳动仲裁", operator_detail,
                        b.use(free, timing) + cap_basis + (b.use(set_aside) if cap is not None else []),
                        citizen_detail=citizen_detail if citizen_detail != operator_detail else None))

    court = b.required("labor_arbitration.court_after_award")
    within = f"收到裁决书{court.value['days']}日内" if court else "在法定期限内"
    routes.append(Route("court", "到法院起诉",
                        f"对仲裁裁决不服的，{within}可以向法院起诉。工资纠纷一般要先仲裁，不能直接起诉（有欠条的除外）。",
                        b.use(court)))

    iou = _p("labor_litigation.iou", on)
    if "欠条" in evidence and iou is not None:
        civil = _p("labor_litigation.limitation", on)
        detail = "您有老板写的工资欠条：只讨这笔工资、不涉及其他劳动争议的，可以不经仲裁直接向法院起诉，按普通民事案件处理。"
        shown = civil is not None and civil.verified
        if shown and civil is not None:
            detail += f"打官司的诉讼时效一般是{civil.value['years']}年。"
        routes.append(Route("iou", "凭欠条直接起诉", detail, b.use(iou, civil if shown else None)))
    return [dataclasses.replace(r, unverified=b.unverified(r.basis)) for r in routes]


def construction_liability(facts: WageFacts, on: dt.date) -> ConstructionLiability | None:
    """On a construction site, who else answers for the wages, from who hired the worker: a 分包单位 that defaults
    (or a 转包) → the general contractor pays first (条例第三十条); a 包工头 or an unqualified crew → whoever let
    the work to him pays (条例第三十六条: 清偿, not only first). Unknown → both, and the question is asked."""
    if not facts.construction:
        return None
    art30, art36 = _p("wage_payment.art30", on), _p("wage_payment.art36", on)
    if facts.hired_by == "person" and art36 is not None:
        return ConstructionLiability("把活包给包工头的建设单位或施工总承包单位", "清偿", art36.citation, art36.verified,
                                     art36.value, (art36,))
    if facts.hired_by == "company" and art30 is not None:
        return ConstructionLiability("施工总承包单位", "先行清偿", art30.citation, art30.verified, art30.value, (art30,))
    if art30 is None:
        return None
    if art36 is None:
        return ConstructionLiability("施工总承包单位", "先行清偿", art30.citation, art30.verified, art30.value, (art30,))
    return ConstructionLiability(
        "施工总承包单位，或把活包给包工头的建设单位", "先行清偿或清偿（看是谁招的工）",
        f"{art30.citation}、{art36.citation}", art30.verified and art36.verified,
        f"要看是谁招您干活的：{art30.value}{art36.value}", (art30, art36))


def _general_contractor(facts: WageFacts, on: dt.date, b: _Basis,
                        liability: ConstructionLiability | None) -> str | None:
    if liability is None:
        return None
    art26, art28 = _p("wage_payment.art26", on), _p("wage_payment.art28", on)
    extra = [pv.value for pv in (art26, art28) if pv is not None]
    b.use(*liability.sources, art26, art28)
    return f"{liability.text}{''.join(extra)}（{liability.citation}）"


def _operator_notes(facts: WageFacts, on: dt.date) -> list[str]:
    """Law that applies but whose text is unconfirmed: for the operator only, marked so."""
    names = ["labor_contract.art46_47"] if facts.employment_ended is False else []
    if facts.construction:
        names += ["wage_payment.art29", "wage_payment.art32", "wage_payment.art34"]
    notes = []
    for name in names:
        pv = _p(name, on)
        if pv is not None and not pv.verified:
            notes.append(f"（未核实，请工作人员核对原文）{pv.value}（{pv.citation}）")
    return notes


def _crime_note(facts: WageFacts, on: dt.date, b: _Basis) -> str | None:
    """Only when the figures could reach the lowest line of 法释〔2013〕3号 Art. 3; never asserts a crime."""
    crime, thresholds = _p("criminal_law.refusal_to_pay", on), _p("criminal_law.refusal_thresholds", on)
    if crime is None or thresholds is None or facts.amount is None:
        return None
    one, many = thresholds.value["one_worker"], thresholds.value["many_workers"]
    people = facts.people_count or 1
    each = facts.amount / people
    by_one = (facts.months_owed is not None and facts.months_owed >= one["min_months"]
              and each >= one["amount_range"][0])
    by_many = people >= many["min_people"] and facts.amount >= many["amount_range"][0]
    if not (by_one or by_many):
        return None
    local = _p("criminal_law.guangxi_threshold", on)
    b.use(crime, thresholds, local)
    return ("如果老板转移财产、逃匿（比如包工头跑了、联系不上），或者有钱却故意不给，经人社部门责令支付后仍不支付，"
            "数额较大的，可能涉嫌拒不支付劳动报酬罪"
            f"（{crime.citation}；数额标准见{thresholds.citation}，广西的具体数额我们没有核实）。"
            "是不是犯罪要由公安、检察机关认定，建议先向劳动保障监察投诉，由他们依法处理。")


def guidance(facts: WageFacts, on: dt.date) -> WageGuidance:
    """What a worker owed wages can do, as of `on`, with every citation used."""
    b = _Basis(on)
    evidence: list[str] = []
    for text in facts.evidence:
        items = [text] if text in EVIDENCE_ITEMS else normalise_evidence(text)
        evidence.extend(i for i in items if i not in evidence)
    if facts.has_contract is True and "劳动合同" not in evidence:
        evidence.append("劳动合同")
    if facts.has_contract is False and "劳动合同" in evidence:
        evidence.remove("劳动合同")
    routes = _routes(facts, on, evidence, b)
    limitation = _limitation(facts, on, b)
    liability = construction_liability(facts, on)
    contractor = _general_contractor(facts, on, b, liability)
    crime = _crime_note(facts, on, b)
    aid = assess(AidFacts(matter="wage_arrears", migrant_worker=facts.migrant_worker), on)
    b.extend(aid.basis)
    missing = [item for item in EVIDENCE_ITEMS if item not in evidence]
    unverified = [*b.unverified(b.items), *(c for c in aid.unverified_basis if c not in b.checked)]
    return WageGuidance(routes=routes, limitation=limitation, missing_evidence=missing,
                        general_contractor=contractor, crime_note=crime, legal_aid=aid, basis=b.items,
                        missing_parameters=b.missing, construction_liability=liability,
                        operator_notes=_operator_notes(facts, on), unverified_basis=list(dict.fromkeys(unverified)))


# --- which facts a conversation must still ask ----------------------------------------------------------------

# The wage-claim facts a conversation can collect (CONTRACT §4 slots plus migrant_worker and construction; then
# the facts asked only where they change the advice: who hired the worker on a site, the job's end day and the last
# demand for the money, the months worked without a contract).
FACTS_ORDER = ("employer", "amount", "people_count", "months_owed", "migrant_worker", "construction", "hired_by",
               "employment_ended", "end_date", "last_demand_date", "has_contract", "months_worked", "evidence")
# Facts asked only when the facts so far make them matter (see facts_needed).
CONDITIONAL_FACTS = ("hired_by", "end_date", "last_demand_date", "months_worked")
HIRED_BY = ("company", "person")
# A deadline this close (days), or past, makes the last demand for the money worth asking: it restarts the period.
DEMAND_MATTERS_DAYS = 90


def _slot_date(value: Any) -> dt.date | None:
    """A date slot's value: an ISO day (the date reader's output); anything else (「没要过」 → "none") is None."""
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def facts_needed(slots: Mapping[str, Any], on: dt.date) -> tuple[str, ...]:
    """The wage-claim facts whose answer changes the guidance on `on`: migrant status only while Art. 42(3) waives
    a migrant worker's means test for wages; a construction site only while 条例 Art. 30 (the general contractor
    pays first) is in force, and who hired the worker only on a site (Art. 30 or Art. 36); the end day only once
    the job has ended (it starts the 1-year period of 调解仲裁法第二十七条), the last demand only when the period
    from that day is close or over (a later demand restarts it); months worked only without a written contract
    (double wages, 劳动合同法第八十二条, need more than a month)."""
    needed = list(FACTS_ORDER)
    if "wage_arrears" not in migrant_waiver_matters(on):
        needed.remove("migrant_worker")
    if parameter_or_none("wage_payment.art30", on) is None:
        needed.remove("construction")
    if slots.get("construction") is not True or parameter_or_none("wage_payment.art36", on) is None:
        needed.remove("hired_by")
    if slots.get("employment_ended") is not True:
        needed.remove("end_date")
    end = _slot_date(slots.get("end_date"))
    deadline = arbitration_deadline(WageFacts(employment_ended=True, end_date=end), on) if end else None
    if deadline is None or (deadline - on).days > DEMAND_MATTERS_DAYS:
        needed.remove("last_demand_date")
    if slots.get("has_contract") is not False or parameter_or_none("labor_contract.art82", on) is None:
        needed.remove("months_worked")
    return tuple(needed)


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def facts_from_slots(slots: Mapping[str, Any]) -> WageFacts:
    """WageFacts from the slots of a conversation; yes/no facts are taken only when answered (never assumed)."""
    def yes_no(name: str) -> bool | None:
        value = slots.get(name)
        return value if isinstance(value, bool) else None

    end = _slot_date(slots.get("end_date"))
    hired = slots.get("hired_by")
    # 「还在干」 to 「哪天不干的」 (end_date "still") takes back the yes to 「已经不干了吗」.
    ended = False if slots.get("end_date") == "still" else yes_no("employment_ended")
    return WageFacts(
        employer=slots.get("employer") or None,
        amount=_int(slots.get("amount")),
        people_count=_int(slots.get("people_count")),
        months_owed=_int(slots.get("months_owed")),
        employment_ended=ended,
        end_date=end,
        has_contract=yes_no("has_contract"),
        evidence=tuple(slots.get("evidence") or ()),
        street=slots.get("street") or None,
        construction=yes_no("construction"),
        migrant_worker=yes_no("migrant_worker"),
        hired_by=hired if hired in HIRED_BY else None,
        last_demand_date=_slot_date(slots.get("last_demand_date")),
        months_worked=_int(slots.get("months_worked")),
    )
