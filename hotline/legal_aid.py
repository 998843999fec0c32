"""Legal-aid eligibility (《法律援助法》 + Guangxi's hardship standard) as a pure function of facts and a date.

`assess(facts, on)` reads every list and figure from hotline/law/data, so each answer quotes the articles it
applied. An unverified figure never decides alone: where it would change the answer, the verdict is
`needs_review` and a person decides.

Dates before 2022-01-01 (when the Legal Aid Law took effect) get `needs_review`, not an exception: the earlier
《法律援助条例》 is not in our data, and callers such as the wage-claim guidance must still answer for old dates.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from hotline.codes import GROUPS, MATTERS, code_for
from hotline.law.params import ParameterValue, latest_verified, parameter, parameter_or_none
from hotline.law.quotes import cn_number

log = logging.getLogger(__name__)

CRIMINAL_ROLES = ("suspect", "defendant", "victim", "private_prosecutor", "civil_plaintiff")
_CRIMINAL_FLAGS = ("minor", "blind_deaf_mute", "mental_incapacity", "facing_life_or_death", "death_review",
                   "in_absentia", "has_lawyer")
_OWN_MEANS_MATTERS = ("support_payment", "family_dispute")
# Matters whose claimants often spend beyond their income after an accident or illness (广西标准第三条第一款第二项):
# income alone never refuses them.
ACCIDENT_MATTERS = ("traffic_accident", "work_injury", "medical_accident", "food_drug_accident", "personal_injury")
# Art. 42(1) waives the means test for these groups only when they have no fixed means of living.
_NO_FIXED_INCOME_GROUPS = ("minor", "elderly", "disabled")
# The role a criminal matter implies when the caller does not say (CONTRACT §7 `criminal` object).
DEFAULT_ROLES = {"criminal_defense": "defendant", "criminal_victim": "victim"}
# The legal-aid facts a conversation can collect, in asking order (CONTRACT §4 slots of the legal-aid form).
FACTS_ORDER = ("matter", "migrant_worker", "groups", "no_fixed_income", "lives_with_other_party", "monthly_income",
               "household_size", "own_monthly_income", "has_valuable_assets")
MEANS_FACTS = ("monthly_income", "household_size", "has_valuable_assets")

VERDICT_LABELS = {"eligible": "可以申请法律援助", "ineligible": "目前不符合法律援助条件",
                  "needs_review": "需要工作人员审核"}


@dataclass(frozen=True)
class CriminalFacts:
    role: str  # suspect | defendant | victim | private_prosecutor | civil_plaintiff
    minor: bool = False
    blind_deaf_mute: bool = False
    mental_incapacity: bool = False
    facing_life_or_death: bool = False
    death_review: bool = False
    in_absentia: bool = False
    has_lawyer: bool = False


@dataclass(frozen=True)
class AidFacts:
    matter: str  # MATTERS code
    migrant_worker: bool | None = None
    monthly_income_per_capita: int | None = None  # household, last 12 months, yuan
    has_valuable_assets: bool | None = None
    groups: tuple[str, ...] = ()  # GROUPS codes
    criminal: CriminalFacts | None = None
    household_size: int | None = None
    monthly_income: int | None = None  # household total; per capita = income / size when per-capita unknown
    # The dispute is with a family member the applicant lives with (the son she lives with, the spouse): only the
    # applicant's own income counts (《广西法律援助经济困难标准及认定办法》第三条第二款).
    lives_with_other_party: bool | None = None
    own_monthly_income: int | None = None  # the applicant's own, last 12 months, yuan
    # Spending pushed above income by an accident, serious illness or emergency in the last 12 months (第三条第一款
    # 第二项): an alternative to the income line.
    spending_over_income: bool | None = None

    def own_means_only(self) -> bool:
        return self.lives_with_other_party is True

    def per_capita_income(self) -> float | None:
        if self.own_means_only():
            return float(self.own_monthly_income) if self.own_monthly_income is not None else None
        if self.monthly_income_per_capita is not None:
            return float(self.monthly_income_per_capita)
        if self.monthly_income is not None and self.household_size:
            return self.monthly_income / self.household_size
        return None


@dataclass(frozen=True)
class Assessment:
    verdict: str  # eligible | ineligible | needs_review
    means_test: str  # not_required | waived | passed | failed | unknown
    basis: list[str]
    threshold: dict[str, Any] | None
    reasons: list[str]
    materials: list[str] = field(default_factory=list)
    where_to_apply: list[str] = field(default_factory=list)
    decision_time: str = ""
    objection: str = ""
    next_steps: list[str] = field(default_factory=list)
    # Law that applies but whose text is unconfirmed (verified: false): for operators, never told to a citizen.
    operator_notes: list[str] = field(default_factory=list)
    # Citations in `basis` resting only on records not checked against the official text: never shown to citizens.
    unverified_basis: list[str] = field(default_factory=list)

    def citizen_basis(self) -> list[str]:
        """The citations a citizen is shown: checked law only, in order."""
        return [c for c in self.basis if c not in self.unverified_basis]

    def to_api(self) -> dict[str, Any]:
        """CONTRACT §7 keys, plus the explanation keys."""
        return {
            "verdict": self.verdict,
            "verdict_label": VERDICT_LABELS[self.verdict],
            "means_test": self.means_test,
            "basis": list(self.basis),
            "threshold": self.threshold,
            "materials": list(self.materials),
            "next_steps": list(self.next_steps),
            "reasons": list(self.reasons),
            "where_to_apply": list(self.where_to_apply),
            "decision_time": self.decision_time,
            "objection": self.objection,
            "operator_notes": list(self.operator_notes),
            "unverified_basis": list(self.unverified_basis),
        }


def with_citation(text: str, citation: str) -> str:
    """'……申请。' + citation -> '……申请（citation）。'"""
    return f"{text.rstrip('。')}（{citation}）。"


class _Draft:
    """Citations and reasons collected while the rules run, in the order applied."""

    def __init__(self) -> None:
        self.basis: list[str] = []
        self.reasons: list[str] = []
        self.next_steps: list[str] = []
        self.checked: dict[str, bool] = {}  # citation -> some record cited under it is verified

    def cite(self, pv: ParameterValue, part: str = "") -> None:
        """Cite a dated record (with a part of it: 第二款, 第三项), remembering whether it was checked."""
        citation = pv.citation + part
        self.checked[citation] = self.checked.get(citation, False) or pv.verified
        if citation not in self.basis:
            self.basis.append(citation)

    def cite_item(self, pv: ParameterValue, item: int) -> None:
        self.cite(pv, f"第{cn_number(item)}项")

    @property
    def unverified(self) -> list[str]:
        """Citations resting only on records not checked against the official text."""
        return [c for c in self.basis if not self.checked.get(c, True)]

    def say(self, reason: str) -> None:
        self.reasons.append(reason)


@dataclass(frozen=True)
class _Outcome:
    verdict: str
    means_test: str
    threshold: dict[str, Any] | None = None
    waiver_item: int | None = None
    notified: bool = False  # Art. 25: the organ handling the case notifies the agency; nobody applies


def _check(facts: AidFacts) -> None:
    if facts.matter not in MATTERS:
        raise ValueError(f"未知的事项代码 / unknown matter code '{facts.matter}'")
    for group in facts.groups:
        if group not in GROUPS:
            raise ValueError(f"未知的人群代码 / unknown group code '{group}'")
    if facts.criminal is not None and facts.criminal.role not in CRIMINAL_ROLES:
        raise ValueError(f"未知的刑事身份 / unknown criminal role '{facts.criminal.role}'")


# --- the rules ---------------------------------------------------------------------------------------------

def _art32(facts: AidFacts, on: dt.date, d: _Draft) -> bool:
    """Art. 32: groups that need no means test, only when their matter fits."""
    pv = parameter("legal_aid.art32", on)
    for item in pv.value["items"]:
        hit = [g for g in item["groups"] if g in facts.groups]
        if not hit:
            continue
        if facts.matter in item["applies_to"]:
            d.cite_item(pv, item["item"])
            d.say(f"您属于“{item['text']}”的情形，申请法律援助不受经济困难条件限制。")
            return True
        d.say(f"“{GROUPS[hit[0]]}”不受经济条件限制的规定，只适用于{item['text']}，这件事还要看其他条件。")
    return False


def _art42_item(facts: AidFacts, on: dt.date) -> dict[str, Any] | None:
    """Art. 42: applicants whose economic situation is not checked (免予核查)."""
    items: list[dict[str, Any]] = parameter("legal_aid.art42", on).value["items"]
    for item in items:
        if "migrant_worker" in item:
            if facts.migrant_worker is True and facts.matter in item["matters"]:
                return item
            continue
        all_of, any_of = item.get("all_of", []), item.get("any_of", [])
        if not any_of:  # item 4: "other persons set by law" — nothing we can test
            continue
        if all(g in facts.groups for g in all_of) and any(g in facts.groups for g in any_of):
            return item
    return None


def migrant_waiver_matters(on: dt.date) -> tuple[str, ...]:
    """The matters for which Art. 42 waives a migrant worker's means test on `on` (wages and work injury), from
    the data; () when the law is not in force."""
    pv = parameter_or_none("legal_aid.art42", on)
    if pv is None:
        return ()
    return tuple(m for item in pv.value["items"] if item.get("migrant_worker") for m in item.get("matters", []))


def _migrant_note(facts: AidFacts, on: dt.date, d: _Draft) -> None:
    """Why a labour claim is (still) means-tested: the Art. 42(3) waiver needs a migrant worker and a matter it
    covers. Cited only where it applies; here it does not, so it is explained without being quoted as basis."""
    matters = migrant_waiver_matters(on)
    if facts.matter in matters and facts.migrant_worker is None:
        d.say("还不知道您是不是进城务工人员（农民工）：是的话，讨要工资、工伤赔偿申请法律援助可以免予核查经济状况；"
              "不是的话，要看家里的经济条件。")
    elif facts.matter in matters and facts.migrant_worker is False:
        d.say("免予核查经济状况的规定只适用于进城务工人员（农民工）讨要工资、工伤赔偿；您不是农民工，要看家里的经济条件。")
    elif facts.migrant_worker and facts.matter not in matters:
        d.say("农民工免予核查经济状况只适用于讨要工资和工伤赔偿，这件事还要看经济条件。")


def _waive(facts: AidFacts, item: dict[str, Any], on: dt.date, d: _Draft) -> None:
    d.cite_item(parameter("legal_aid.art42", on), item["item"])
    d.say(f"您属于“{item['text']}”，带上证明材料就可以免予核查经济困难状况。")


def _threshold(current: ParameterValue, verified: ParameterValue | None, std: ParameterValue) -> dict[str, Any]:
    used = verified or current
    out: dict[str, Any] = {"value": used.value, "unit": used.unit or "元/月", **used.source(),
                           "standard": std.citation, "standard_verified": std.verified, "pending_unverified": None}
    if used is not current:
        out["pending_unverified"] = {"value": current.value, **current.source()}
    return out


def _missing(name: str, on: dt.date, d: _Draft) -> None:
    """A parameter the rule needs has no value on `on`: a person decides, and the gap is logged, never filled in."""
    log.warning("legal aid: parameter %s has no value on %s; answer goes to review", name, on.isoformat())
    d.say("这个日期适用的标准我们没有收录，需要工作人员审核。")


def _means_test(facts: AidFacts, on: dt.date, d: _Draft) -> tuple[str, dict[str, Any] | None]:
    """Guangxi's hardship standard (hardship.yaml): no valuable assets (when the standard asks for it) and household
    per-capita income over its months below the line it names (the local minimum wage) — or spending pushed above
    income by an accident, illness or emergency. Against a family member the applicant lives with, only the
    applicant's own income and property count (第三条第二款)."""
    std = parameter_or_none("hardship.guangxi_standard", on)
    if std is None:
        _missing("hardship.guangxi_standard", on, d)
        return "unknown", None
    d.cite(std)
    rule = std.value
    months = rule["months"]
    if rule["income_line"] != "minimum_wage":  # the only line this code knows how to read
        log.warning("legal aid: unknown income_line %r in hardship.guangxi_standard", rule["income_line"])
        d.say("经济困难标准的收入线我们不认识，需要工作人员审核。")
        return "unknown", None
    wage_name = rule["minimum_wage_parameter"]
    current = parameter_or_none(wage_name, on)
    if current is None:
        _missing(wage_name, on, d)
        return "unknown", None
    verified = latest_verified(wage_name, on)
    threshold = _threshold(current, verified, std)
    own = facts.own_means_only() and bool(rule.get("own_means_only_against_household"))
    whose = "您本人" if own else "您家"
    if own:
        d.cite(std, "第二款")
        d.say("您是和一起生活的家里人发生纠纷，只算您本人的收入、支出和财产，不算家里的。")
    elif facts.matter in _OWN_MEANS_MATTERS and rule.get("own_means_only_against_household"):
        d.say("如果对方和您住在一起（比如一起生活的子女、配偶），只算您本人的收入和财产。")
    if verified is not None:
        d.cite(verified)
    assets_matter = bool(rule.get("no_valuable_assets"))
    if assets_matter and facts.has_valuable_assets is True:
        if not std.verified:
            d.say(f"{whose}有高价值财产，按标准一般不算经济困难；但当时适用的{std.citation}我们没有核实，需要工作人员审核。")
            return "unknown", threshold
        d.say(f"{whose}有高价值财产，不符合经济困难条件（要求没有高价值财产）。")
        return "failed", threshold
    spending = bool(rule.get("emergency_spending_alternative"))
    if spending and facts.spending_over_income is True:
        d.cite(std, "第一款第二项")
        if not std.verified:
            d.say(f"近{months}个月因意外、重大疾病等花销超过收入；但当时适用的{std.citation}我们没有核实，需要工作人员审核。")
            return "unknown", threshold
        if assets_matter and facts.has_valuable_assets is None:
            d.say(f"近{months}个月因意外、重大疾病等花销超过收入，可以算经济困难；还要确认没有高价值财产。")
            return "unknown", threshold
        d.say(f"近{months}个月因意外伤害、重大疾病等花销超过了收入，符合经济困难条件。")
        return "passed", threshold
    income = facts.per_capita_income()
    if income is None:
        what = "本人近{m}个月的月收入" if own else "家近{m}个月的人均月收入"
        d.say(f"还不知道您{what.format(m=months)}，没法判断是否经济困难。")
        return "unknown", threshold
    if verified is None:
        d.say(f"当地最低工资标准{current.value}元还没有核实，需要工作人员审核。")
        return "unknown", threshold
    lines = sorted({verified.value, current.value})
    shown = f"{income:.0f}"
    label = "月收入" if own else "人均月收入"
    if lines[0] <= income < lines[-1]:
        d.cite(current)
        d.say(f"{whose}{label}{shown}元，在已核实的最低工资标准{verified.value}元和未核实的新标准"
              f"{current.value}元之间，需要工作人员按最新标准核对。")
        return "unknown", threshold
    below = income < lines[0]
    if not std.verified:
        compare = "低于" if below else "不低于"
        d.say(f"按最低工资标准{verified.value}元估算，{whose}{label}{shown}元{compare}这条线；"
              f"但当时适用的{std.citation}我们没有核实，需要工作人员审核。")
        return "unknown", threshold
    if not below:
        d.say(f"{whose}{label}{shown}元，不低于柳州最低工资标准{verified.value}元（最低工资只升不降，按已核实的标准比较）。")
        if spending and facts.spending_over_income is None and facts.matter in ACCIDENT_MATTERS:
            d.cite(std, "第一款第二项")
            d.say(f"不过，近{months}个月如果因受伤、重大疾病等花销超过了收入，也算经济困难，需要工作人员核实，"
                  "不能只看收入。")
            return "unknown", threshold
        if spending and facts.spending_over_income is None:
            d.next_steps.append(f"如果近{months}个月因急病、意外事故等花销超过了收入，也可能算经济困难，可以向法律援助中心说明。")
        return "failed", threshold
    if assets_matter and facts.has_valuable_assets is None:
        d.say(f"{whose}{label}{shown}元，低于柳州最低工资标准{verified.value}元；还要确认没有高价值财产（如多套房、车、大额存款）。")
        return "unknown", threshold
    tail = "，又没有高价值财产" if assets_matter else ""
    d.say(f"{whose}{label}{shown}元，低于柳州最低工资标准{verified.value}元{tail}，符合经济困难条件。")
    return "passed", threshold


def _civil(facts: AidFacts, on: dt.date, d: _Draft) -> _Outcome:
    if _art32(facts, on, d):
        return _Outcome("eligible", "not_required")
    art31 = parameter("legal_aid.art31", on)
    item31 = next((i for i in art31.value["items"] if facts.matter in i["matters"]), None)
    waiver = _art42_item(facts, on)
    local = parameter_or_none("legal_aid.guangxi_matters", on)
    if item31 is None and local is not None and facts.matter in local.value.get("personal_injury_matters", ()):
        hit = [g for g in local.value.get("personal_injury_groups", ()) if g in facts.groups]
        if hit and local.verified:
            d.cite(local)
            d.say(f"{local.citation}规定，{GROUPS[hit[0]]}请求其他人身损害赔偿、因经济困难没有请代理人的，可以申请法律援助。")
            if waiver is not None:
                _waive(facts, waiver, on, d)
                return _Outcome("eligible", "waived", None, waiver["item"])
            means, threshold = _means_test(facts, on, d)
            verdict = {"passed": "eligible", "failed": "ineligible"}.get(means, "needs_review")
            return _Outcome(verdict, means, threshold)
    if item31 is None:
        d.cite(art31)
        d.say(f"“{MATTERS[facts.matter]}”不在{art31.citation}列出的事项里，全国法律不一定覆盖。")
        if local is not None:
            d.cite(local)
            d.say(f"{local.citation}另外扩大了援助事项，我们还没有原文，这件事需要工作人员审核，不代表不能申请。")
        else:
            d.say("这件事能不能援助，需要工作人员按当地规定审核，不代表不能申请。")
        if waiver is not None:
            _waive(facts, waiver, on, d)
            return _Outcome("needs_review", "waived", None, waiver["item"])
        means, threshold = _means_test(facts, on, d)
        return _Outcome("needs_review", means, threshold)
    d.cite_item(art31, item31["item"])
    d.say(f"您的事属于{art31.citation}规定的“{item31['text']}”，经济困难的可以申请法律援助。")
    if waiver is not None:
        _waive(facts, waiver, on, d)
        return _Outcome("eligible", "waived", None, waiver["item"])
    _migrant_note(facts, on, d)
    means, threshold = _means_test(facts, on, d)
    verdict = {"passed": "eligible", "failed": "ineligible"}.get(means, "needs_review")
    return _Outcome(verdict, means, threshold)


def _criminal(facts: AidFacts, on: dt.date, d: _Draft) -> _Outcome:
    crim = facts.criminal or CriminalFacts(role=DEFAULT_ROLES.get(facts.matter, "defendant"))
    art24 = parameter("legal_aid.art24", on)
    if crim.role in art24.value["roles"]:
        art25 = parameter("legal_aid.art25", on)
        if crim.has_lawyer:
            d.cite(art24)
            d.cite(art25)
            d.say("已经请了辩护律师的，不需要再申请法律援助律师。")
            return _Outcome("ineligible", "not_required")
        for item in art25.value["items"]:
            flag = item["flag"]
            if getattr(crim, flag) or (flag == "minor" and "minor" in facts.groups):
                d.cite_item(art25, item["item"])
                d.say(f"犯罪嫌疑人、被告人是“{item['text']}”又没有辩护人的，公安、检察院、法院应当通知法律援助机构指派律师，不看经济条件，"
                      "也不用自己带材料申请。")
                d.next_steps.append("不需要您自己申请：如果还没有指派律师，直接向办案的公安机关、检察院或法院提出，由他们通知法律援助机构。")
                return _Outcome("eligible", "not_required", notified=True)
        d.cite(art24)
        d.say("犯罪嫌疑人、被告人因经济困难或者其他原因没有请律师的，本人或近亲属可以申请法律援助。")
        waiver = _art42_item(facts, on)
        if waiver is not None:
            _waive(facts, waiver, on, d)
            return _Outcome("eligible", "waived", None, waiver["item"])
        means, threshold = _means_test(facts, on, d)
        if means == "failed":
            d.cite(art25, "第二款")
            d.say(f"经济条件不算困难，但{art24.citation}还包括“其他原因”；适用普通程序审理的案件，法院也可以通知法律援助"
                  f"机构指派律师（{art25.citation}第二款），需要工作人员审核。")
        return _Outcome("eligible" if means == "passed" else "needs_review", means, threshold)
    art29 = parameter("legal_aid.art29", on)
    d.cite(art29)
    d.say("刑事案件的被害人、自诉人、附带民事诉讼原告人，因经济困难没请代理律师的，可以申请法律援助。")
    if _art32(facts, on, d):
        return _Outcome("eligible", "not_required")
    waiver = _art42_item(facts, on)
    if waiver is not None:
        _waive(facts, waiver, on, d)
        return _Outcome("eligible", "waived", None, waiver["item"])
    means, threshold = _means_test(facts, on, d)
    verdict = {"passed": "eligible", "failed": "ineligible"}.get(means, "needs_review")
    return _Outcome(verdict, means, threshold)


# --- what to bring, where, how long ------------------------------------------------------------------------

def _materials(facts: AidFacts, outcome: _Outcome, on: dt.date) -> list[str]:
    if outcome.notified:  # Art. 25: nothing to bring, the organ handling the case notifies the agency
        return []
    pv = parameter_or_none("legal_aid.materials", on)
    if pv is None:
        log.warning("legal aid: parameter legal_aid.materials has no value on %s", on.isoformat())
        return []
    m = pv.value
    items = [m["application"], m["identity"]]
    if outcome.means_test == "waived":
        proof = {1: "如无固定收入的证明和身份、年龄或残疾证明",
                 2: "如低保证、特困证明、司法救助或优抚证明",
                 3: "证明您是进城务工人员的材料，如劳动合同、工牌、考勤、工友证言"}.get(outcome.waiver_item or 0, "")
        items.append(f"{m['waiver']}（{proof}）" if proof else m["waiver"])
    elif outcome.means_test == "not_required":
        items.append("能证明属于这种情形的材料（如见义勇为认定、告诫书或保护令、再审判决、办案机关的通知）")
    else:
        items.append(m["economic"])
    items.append(m["matter"])
    return items


def _where(on: dt.date) -> list[str]:
    art38 = parameter("legal_aid.art38", on)
    out = [with_citation(art38.value["litigation"], art38.citation), art38.value["non_litigation"]]
    anywhere = parameter_or_none("legal_aid.guangxi_anywhere", on)
    if anywhere is not None:
        out.append(anywhere.value if anywhere.verified else f"据了解，{anywhere.value}")
    out.append("不清楚去哪里的，可以先打12348，或到所在街道的司法所问。")
    return out


def _next_steps(verdict: str, d: _Draft) -> list[str]:
    steps = {
        "eligible": ["带上下面的材料，到法律援助中心提出申请。",
                     "去之前可以先打12348，问清楚地址和办公时间。"],
        "notified": ["去之前可以先打12348问清楚。"],
        "ineligible": ["可以自己请律师，或先找村（社区）法律顾问、街道司法所免费咨询。"],
        "needs_review": ["请转人工或拨打12348，由工作人员帮您审核。",
                         "您也可以直接向法律援助中心提出申请，由中心审查决定。"],
    }[verdict]
    return d.next_steps + steps


def _not_in_force(on: dt.date) -> Assessment:
    law = parameter("legal_aid.in_force", dt.date.max)
    start = law.effective
    return Assessment(
        verdict="needs_review",
        means_test="unknown",
        basis=[law.citation],
        threshold=None,
        reasons=[(f"法律援助法自{start.year}年{start.month}月{start.day}日起施行（{law.citation}）；{on.isoformat()}适用的是"
                  "此前的规定，本助手没有收录，需要工作人员审核。")],
        next_steps=["请转人工或拨打12348咨询。"],
    )


def assess(facts: AidFacts, on: dt.date) -> Assessment:
    """Whether `facts` qualify for legal aid on `on`, with the citations applied. ValueError on unknown codes."""
    _check(facts)
    if parameter_or_none("legal_aid.in_force", on) is None:
        return _not_in_force(on)
    d = _Draft()
    is_criminal = facts.criminal is not None or facts.matter in ("criminal_defense", "criminal_victim")
    outcome = _criminal(facts, on, d) if is_criminal else _civil(facts, on, d)
    steps_key = "notified" if outcome.notified else outcome.verdict
    art43, art44, art49 = (parameter(f"legal_aid.art{n}", on) for n in (43, 44, 49))
    if outcome.verdict == "ineligible":
        d.cite(art43)
        d.cite(art49)
        d.next_steps.append(f"按您说的情况看不符合条件，但谁都可以提出申请，由法律援助中心审查决定（{art43.citation}）；"
                            f"对不给援助的决定不服，可以提出异议（{art49.citation}）。")
    return Assessment(
        verdict=outcome.verdict,
        means_test=outcome.means_test,
        basis=d.basis,
        threshold=outcome.threshold,
        reasons=d.reasons,
        materials=_materials(facts, outcome, on),
        where_to_apply=_where(on),
        decision_time=with_citation(art43.value, art43.citation) + with_citation(art44.value, art44.citation),
        objection=with_citation(art49.value, art49.citation),
        next_steps=_next_steps(steps_key, d),
        operator_notes=_operator_notes(facts, outcome, on),
        unverified_basis=d.unverified,
    )


_LABOUR_MATTERS = ("wage_arrears", "labor_relation", "labor_dispute", "work_injury")


def _operator_notes(facts: AidFacts, outcome: _Outcome, on: dt.date) -> list[str]:
    """Unconfirmed law an operator may mention (marked so): aid covers labour arbitration (第二十二条) for labour
    matters; the 3-day assignment after a grant (第四十三条)."""
    names = ["legal_aid.art22"] if facts.matter in _LABOUR_MATTERS else []
    if outcome.verdict != "ineligible" and not outcome.notified:
        names.append("legal_aid.art43_assignment")
    notes = []
    for name in names:
        pv = parameter_or_none(name, on)
        if pv is not None and not pv.verified:
            notes.append(f"（未核实，请工作人员核对原文）{pv.value}（{pv.citation}）")
    return notes


# --- which facts a conversation must still ask ----------------------------------------------------------------

def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def facts_from_slots(slots: Mapping[str, Any]) -> AidFacts:
    """AidFacts from the slots of a conversation (CONTRACT §4 names); an unknown matter reads as `other`."""
    matter = slots.get("matter")

    def yes_no(name: str) -> bool | None:
        return slots.get(name) if isinstance(slots.get(name), bool) else None

    groups = [g for g in (slots.get("groups") or ()) if g in GROUPS]
    if yes_no("no_fixed_income") and "no_fixed_income" not in groups:
        groups.append("no_fixed_income")
    return AidFacts(
        matter=matter if matter in MATTERS else "other",
        migrant_worker=yes_no("migrant_worker"),
        has_valuable_assets=yes_no("has_valuable_assets"),
        groups=tuple(groups),
        household_size=_int(slots.get("household_size")) or None,
        monthly_income=_int(slots.get("monthly_income")),
        lives_with_other_party=yes_no("lives_with_other_party"),
        own_monthly_income=_int(slots.get("own_monthly_income")),
    )


def facts_needed(slots: Mapping[str, Any], on: dt.date) -> tuple[str, ...]:
    """The legal-aid facts (FACTS_ORDER names) whose answer can still change the assessment of `slots` on `on`.

    Read from the rules themselves: migrant status only for the matters of Art. 42(3); the groups unless the
    means test is already waived; whether a minor, elderly or disabled applicant has no fixed income (Art. 42(1))
    only for those groups; whether the other party lives with the applicant only in family matters (then only the
    applicant's own income counts, 广西标准第三条第二款, and it is asked instead of the household's); income,
    household and assets only while the means test decides (an Art. 32 group counts only for the matters it covers:
    a domestic-violence victim's traffic claim is means-tested); assets only when they could turn the answer."""
    needed = ["matter"]
    if slots.get("matter") not in MATTERS or parameter_or_none("legal_aid.in_force", on) is None:
        return tuple(needed)
    facts = facts_from_slots(slots)
    if facts.matter in migrant_waiver_matters(on):
        needed.append("migrant_worker")
    no_means: dict[str, Any] = {"monthly_income": None, "household_size": None, "has_valuable_assets": None,
                                 "own_monthly_income": None}
    bare = replace(facts, groups=(), **no_means)
    if assess(bare, on).means_test in ("waived", "not_required"):
        return tuple(needed)
    needed.append("groups")
    if set(facts.groups) & set(_NO_FIXED_INCOME_GROUPS) and parameter_or_none("legal_aid.art42", on) is not None:
        needed.append("no_fixed_income")
    if assess(replace(facts, **no_means), on).means_test in ("waived", "not_required"):
        return tuple(needed)
    if "no_fixed_income" in needed and not isinstance(slots.get("no_fixed_income"), bool):
        return (*needed, "monthly_income", "household_size", "has_valuable_assets")
    if facts.matter in _OWN_MEANS_MATTERS:
        needed.append("lives_with_other_party")
        if facts.lives_with_other_party is None:
            return (*needed, "monthly_income", "household_size", "has_valuable_assets")
    needed += ["own_monthly_income"] if facts.own_means_only() else ["monthly_income", "household_size"]
    std = parameter_or_none("hardship.guangxi_standard", on)
    if std is None or not std.value.get("no_valuable_assets"):
        return tuple(needed)
    if facts.per_capita_income() is None:
        needed.append("has_valuable_assets")
        return tuple(needed)
    with_assets, without = (assess(replace(facts, has_valuable_assets=v), on) for v in (True, False))
    if (with_assets.verdict, with_assets.means_test) != (without.verdict, without.means_test):
        needed.append("has_valuable_assets")
    return tuple(needed)


# --- the JSON edge (POST /api/eligibility) -------------------------------------------------------------------

def _opt_bool(body: dict[str, Any], key: str) -> bool | None:
    value = body.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"{key} 必须是 true、false 或 null / {key} must be true, false or null")


def _opt_amount(body: dict[str, Any], key: str, *, positive: bool = False) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value in (
            float("inf"), float("-inf")):
        raise ValueError(f"{key} 必须是数字或 null / {key} must be a number or null")
    if value < 0 or (positive and value == 0):
        what = "大于0" if positive else "不能是负数"
        raise ValueError(f"{key} {what} / {key} must be {'positive' if positive else 'zero or more'}")
    return round(value)


def _criminal_from_api(raw: Any, matter: str) -> CriminalFacts | None:
    """The `criminal` object of CONTRACT §7; its role, when absent, follows from the matter."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValueError("criminal 必须是对象或 null / criminal must be an object or null")
    unknown = set(raw) - {"role", *_CRIMINAL_FLAGS}
    if unknown:
        raise ValueError(f"criminal 里有未知字段 / unknown criminal fields: {', '.join(sorted(unknown))}")
    role = raw.get("role")
    if role is None and matter in DEFAULT_ROLES:
        role = DEFAULT_ROLES[matter]
    if role is None:
        raise ValueError("criminal.role 必填（事项不是 criminal_defense 或 criminal_victim 时）/ criminal.role is required "
                         "unless matter is criminal_defense or criminal_victim")
    if role not in CRIMINAL_ROLES:
        raise ValueError(f"未知的刑事身份 / unknown criminal role '{role}' (one of {', '.join(CRIMINAL_ROLES)})")
    flags = {}
    for key in _CRIMINAL_FLAGS:
        value = raw.get(key, False)
        if not isinstance(value, bool):
            raise ValueError(f"criminal.{key} 必须是 true 或 false / criminal.{key} must be true or false")
        flags[key] = value
    return CriminalFacts(role=role, **flags)


def facts_from_api(body: Any) -> AidFacts:
    """Validate the body of POST /api/eligibility. Unknown top-level keys are ignored (front ends add context)."""
    if not isinstance(body, dict):
        raise ValueError("请求体必须是 JSON 对象 / body must be a JSON object")
    raw_matter = body.get("matter")
    if not isinstance(raw_matter, str) or not raw_matter.strip():
        raise ValueError("缺少事项 matter / matter is required")
    matter = code_for(raw_matter, MATTERS)
    if matter is None:
        raise ValueError(f"未知的事项代码 / unknown matter code '{raw_matter}'")
    raw_groups = body.get("groups")
    if raw_groups is None:
        raw_groups = []
    if not isinstance(raw_groups, list):
        raise ValueError("groups 必须是列表 / groups must be a list")
    groups: list[str] = []
    for raw in raw_groups:
        code = code_for(raw, GROUPS) if isinstance(raw, str) else None
        if code is None:
            raise ValueError(f"未知的人群代码 / unknown group code '{raw}'")
        if code not in groups:
            groups.append(code)
    return AidFacts(
        matter=matter,
        migrant_worker=_opt_bool(body, "migrant_worker"),
        monthly_income_per_capita=_opt_amount(body, "monthly_income_per_capita"),
        has_valuable_assets=_opt_bool(body, "has_valuable_assets"),
        groups=tuple(groups),
        criminal=_criminal_from_api(body.get("criminal"), matter),
        household_size=_opt_amount(body, "household_size", positive=True),
        monthly_income=_opt_amount(body, "monthly_income"),
        lives_with_other_party=_opt_bool(body, "lives_with_other_party"),
        own_monthly_income=_opt_amount(body, "own_monthly_income"),
        spending_over_income=_opt_bool(body, "spending_over_income"),
    )
