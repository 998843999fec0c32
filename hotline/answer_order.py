"""What a citizen's phone shows first: the point that matters for these facts, and only verified figures.

Pure rules over `hotline.wage_claim` / `hotline.legal_aid` results (no Rasa, no web). The wording lives in the
domain's responses (`utter_point_<key>`); here only the choice, the order and the values with their citations.
What is verified is read from the dated records the rules pass along (`ParameterValue.verified`, a route's
`unverified`, an assessment's `unverified_basis`), never from the words of a sentence.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hotline.law.params import ParameterValue, names, parameter_or_none
from hotline.legal_aid import Assessment
from hotline.wage_claim import Route, WageFacts, WageGuidance

# A deadline this close (days) is the first thing said.
DEADLINE_CLOSE_DAYS = 90


@dataclass(frozen=True)
class KeyPoint:
    key: str  # the domain response is utter_point_<key>
    values: dict[str, str] = field(default_factory=dict)
    basis: list[str] = field(default_factory=list)
    sources: tuple[ParameterValue, ...] = ()  # the dated records the point quotes (value, citation, verified)


def _cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def key_points(facts: WageFacts, on: dt.date, guidance: WageGuidance) -> list[KeyPoint]:
    """The points that matter for these facts, most urgent first: a deadline close or past, the general contractor
    paying first on a construction site (条例第三十条), double wages without a written contract (《劳动合同法》
    第八十二条, when the law data holds it)."""
    points: list[KeyPoint] = []
    deadline = guidance.limitation.deadline
    if deadline is not None:
        days = (deadline - on).days
        cited = "、".join(guidance.limitation.basis)  # 《劳动争议调解仲裁法》第二十七条, from the record
        if days < 0:
            points.append(KeyPoint("deadline_passed", {"deadline": _cn_date(deadline), "basis": cited},
                                   guidance.limitation.basis))
        elif days <= DEADLINE_CLOSE_DAYS:
            points.append(KeyPoint("deadline_close", {"deadline": _cn_date(deadline), "days": str(days),
                                                      "basis": cited}, guidance.limitation.basis))
    liability = guidance.construction_liability
    if facts.construction and guidance.general_contractor and liability is not None and liability.verified:
        # Who hired the worker decides the article (条例第三十条 or 第三十六条); unknown, both are named.
        key = {"person": "illegal_subcontract", "company": "general_contractor"}.get(facts.hired_by or "",
                                                                                      "construction_unknown")
        points.append(KeyPoint(key, {"basis": liability.citation}, [pv.citation for pv in liability.sources],
                               liability.sources))
    art82, most = _known("labor_contract.art82", on), _known("labor_contract.art82_months", on)
    limitation = _known("labor_arbitration.limitation", on)
    if (facts.has_contract is False and art82 is not None and most is not None
            and verified_enough(art82.verified) and verified_enough(most.verified)):
        checked = limitation if limitation is not None and verified_enough(limitation.verified) else None
        points += _double_wages(facts, art82, most, checked)
    return points


def _double_wages(facts: WageFacts, art82: ParameterValue, most: ParameterValue,
                  limitation: ParameterValue | None) -> list[KeyPoint]:
    """Double wages without a written contract only after more than a month of work, for at most the months of
    `labor_contract.art82_months` (11: 超过一个月不满一年); not 劳动报酬, so the 1-year period of 第二十七条 runs during
    employment too; hired by a 包工头 (no labour relationship with him) they are often refused, so a person looks at
    it. Nothing is promised before the months worked are known, nor the period before its record is in force."""
    max_months = int(most.value["max_months"])
    values = {"basis": art82.citation, "max_months": str(max_months)}
    sources = (art82, most)
    if facts.hired_by == "person":
        return [KeyPoint("double_wages_subcontract", values, [art82.citation], sources)]
    if facts.months_worked is None or limitation is None:  # the full point quotes the arbitration period
        return [KeyPoint("double_wages_maybe", values, [art82.citation], sources)]
    if facts.months_worked <= 1:
        return []
    months = min(facts.months_worked - 1, max_months)
    return [KeyPoint("double_wages", {**values, "months": str(months), "years": str(limitation.value["years"])},
                     [art82.citation], (*sources, limitation))]


def _known(name: str, on: dt.date) -> ParameterValue | None:
    """A parameter the law data may not hold yet (then the point is left out, never worded from memory)."""
    return parameter_or_none(name, on) if name in names() else None


def verified_enough(verified: bool) -> bool:
    """Citizens get checked law only; the unchecked goes to operators (the copilot shows everything)."""
    return verified is True


def citizen_route(route: Route) -> tuple[str, list[str]]:
    """A route as a citizen reads it: the detail with verified figures only (an unverified newer minimum wage
    becomes the verified one and a pointer to 12348, worded by the rule from the same records) and the citations
    that rest on checked law, in order, without repeats."""
    detail, basis = route.for_citizen()
    return detail, list(dict.fromkeys(basis))


def citizen_aid_basis(assessment: Assessment) -> list[str]:
    """The legal-aid citations a citizen is shown: checked law only, in order, without repeats."""
    return list(dict.fromkeys(assessment.citizen_basis()))


def first_route(guidance: WageGuidance) -> str:
    """The one step to take now: with an IOU, the court directly; otherwise the labour inspection complaint."""
    by_key = {r.key: r for r in guidance.routes}
    for key in ("iou", "inspection", "arbitration"):
        if key in by_key:
            return key
    return guidance.routes[0].key if guidance.routes else ""
