"""The final answers of the wage claim (hotline.wage_claim.guidance) and of legal aid (hotline.legal_aid.assess).

The forms that collect the facts live in actions/wage_claim.py and actions/legal_aid.py; their wording here is in
domain/answers.yml.
"""
from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import cite, disclaimer_once, office_kwargs, office_of, today
from actions.consultation_log import record_consultation
from hotline import flows, legal_aid, wage_claim
from hotline.codes import MATTERS

logger = logging.getLogger(__name__)

def summary_of(facts: wage_claim.WageFacts) -> str:
    parts = []
    if facts.employer:
        parts.append(f"{facts.employer}欠")
    parts.append(f"{facts.people_count}人" if facts.people_count else "您")
    if facts.amount:
        parts.append(f"共{facts.amount}元")
    if facts.months_owed:
        parts.append(f"约{facts.months_owed}个月工资")
    return "".join(parts)


def fragment(domain: DomainDict, name: str, **values: Any) -> str:
    """One line of an answer, worded in the domain (responses named here are parts of a message, not sent alone)."""
    variants = (domain.get("responses") or {}).get(name) or []
    text = next((v.get("text") for v in variants if not v.get("condition") and v.get("text")), None)
    if text is None:
        logger.error("response %s missing from the domain", name)
        return ""
    return str(text).format(**{k: ("" if v is None else v) for k, v in values.items()})


def office_line(domain: DomainDict, street: str | None) -> tuple[str, bool]:
    """The nearest 司法所 with its number (the web chat makes it tap-to-call); whether it is sample data."""
    office = office_of(street)
    if office is None:
        return fragment(domain, "utter_office_line_district"), False
    return fragment(domain, "utter_office_line", **office_kwargs(office)), bool(office.sample)


class ActionWageClaimAdvice(Action):
    def name(self) -> str:
        return "action_wage_claim_advice"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Short first (fits a phone): the point that matters for these facts, what to do now, legal aid yes/no, the
        nearest 司法所. Then one folded message with the routes, deadline, evidence, notes and every citation."""
        from hotline.answer_order import citizen_aid_basis, citizen_route, first_route, key_points
        from hotline.law.params import parameter_or_none
        from hotline.wage_claim import guidance

        on = today()  # the law is applied on Liuzhou's date, as the forms ask by it
        # The one conversion of slots into facts (the core's), as the form that chose the questions used it.
        facts = wage_claim.facts_from_slots(tracker.current_slot_values())
        g = guidance(facts, on)
        points = key_points(facts, on, g)
        aid = g.legal_aid
        hotline = parameter_or_none("labor_inspection.hotline", on)
        where, sample = office_line(domain, facts.street)
        aid_basis = citizen_aid_basis(aid)
        aid_line = fragment(domain, "utter_aid_line_waived" if aid.means_test == "waived" else "utter_aid_line",
                            verdict=aid.to_api().get("verdict_label", aid.verdict),
                            basis=aid_basis[-1] if aid_basis else "")
        dispatcher.utter_message(
            response="utter_wage_short", summary=summary_of(facts),
            points="".join(fragment(domain, f"utter_point_{p.key}", **p.values) + "\n" for p in points[:2]),
            now=fragment(domain, f"utter_now_{first_route(g)}", hotline=hotline.value if hotline else "12348"),
            aid=aid_line, office=where)

        details = [fragment(domain, f"utter_point_{p.key}", **p.values) for p in points[2:]]
        details.append(fragment(domain, "utter_wage_routes_intro"))
        for n, route in enumerate(g.routes, start=1):  # verified figures and articles only (the route says which)
            detail, basis = citizen_route(route)
            details.append(fragment(domain, "utter_wage_route", n=n, title=route.title, detail=detail,
                                    basis=cite(basis)))
        details.append(fragment(domain, "utter_wage_limitation", summary=g.limitation.summary,
                                basis=cite(g.limitation.basis)))
        if g.limitation.deadline:
            details.append(fragment(domain, "utter_wage_deadline", deadline=g.limitation.deadline.isoformat()))
        if g.missing_evidence:
            details.append(fragment(domain, "utter_wage_missing_evidence", items="、".join(g.missing_evidence)))
        if g.general_contractor:
            details.append(fragment(domain, "utter_wage_general_contractor", said=g.general_contractor))
        if g.crime_note:
            details.append(fragment(domain, "utter_wage_crime_note", said=g.crime_note))
        details.append(fragment(domain, "utter_wage_legal_aid", verdict=aid.to_api().get("verdict_label", aid.verdict),
                                reason=aid.reasons[-1] if aid.reasons else "", basis=cite(aid_basis)))
        dispatcher.utter_message(response="utter_wage_details", details="\n".join(d for d in details if d))
        events = disclaimer_once(dispatcher, tracker)
        if sample:
            dispatcher.utter_message(response="utter_sample_data")
        dispatcher.utter_message(response="utter_wage_next")
        # Issue 25: the draft arbitration application, offered once the facts are in (data/rules/documents.yml).
        dispatcher.utter_message(response="utter_offer_document")
        return events + record_consultation(
            tracker,
            category=flows.flow("wage_claim").category or "other",
            outcome="answered",
            migrant_worker=bool(facts.migrant_worker),
            persons=facts.people_count or 1,
            street=facts.street,
            amount=facts.amount,
            eligibility=aid.verdict,
            legal_basis="；".join(dict.fromkeys([*aid.basis, *g.limitation.basis])),
            summary=summary_of(facts),
            phone=tracker.get_slot("phone") if tracker.get_slot("consent_phone") else None,
        )


_MEANS_TEST = {
    "not_required": "这类情况不审查经济状况。",
    "waived": "免予核查经济状况。",
    "passed": "按您说的收入，符合经济困难标准。",
    "failed": "按您说的收入，超过了经济困难标准。",
    "unknown": "经济状况还要核实。",
}


class ActionLegalAidAnswer(Action):
    def name(self) -> str:
        return "action_legal_aid_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Short first: the verdict, the means test, the next step and where. Then one folded message with the
        reasons, basis, income line (verified figures only), materials, where, when and how to object."""
        from hotline.answer_order import citizen_aid_basis
        from hotline.legal_aid import assess

        facts = legal_aid.facts_from_slots(tracker.current_slot_values())  # the core's one conversion
        a = assess(facts, today())
        where, sample = office_line(domain, tracker.get_slot("street"))
        dispatcher.utter_message(
            response="utter_aid_short", verdict=fragment(domain, f"utter_aid_{a.verdict}"),
            means=_MEANS_TEST.get(a.means_test, ""), next=a.next_steps[0] if a.next_steps else "", office=where)
        details = [fragment(domain, "utter_aid_reason", said=r) for r in a.reasons]
        details.append(fragment(domain, "utter_aid_basis", basis=cite(citizen_aid_basis(a))))
        if a.threshold and a.means_test in ("passed", "failed", "unknown"):
            t = a.threshold
            # A superseded or possibly superseded figure is never shown as the one in force (minimum wages only
            # rise): with a newer unverified figure pending, the citizen is sent to 12348 for the current line.
            if t.get("verified") and not t.get("pending_unverified"):
                details.append(fragment(domain, "utter_aid_threshold", value=t.get("value"),
                                        unit=t.get("unit", "元/月"), source=t.get("source", ""),
                                        effective=t.get("effective", ""), verified="执行"))
            else:  # an unchecked figure goes to operators (the copilot), not to citizens
                details.append(fragment(domain, "utter_aid_threshold_unverified"))
        if a.verdict != "ineligible":
            details.append(fragment(domain, "utter_aid_materials", items="；".join(a.materials)))
            details.append(fragment(domain, "utter_aid_where", places="".join(a.where_to_apply)))
            details.append(fragment(domain, "utter_aid_decision", said=a.decision_time))
        details.append(fragment(domain, "utter_aid_objection", said=a.objection))
        dispatcher.utter_message(response="utter_aid_details", details="\n".join(d for d in details if d))
        events = disclaimer_once(dispatcher, tracker)
        if sample:
            dispatcher.utter_message(response="utter_sample_data")
        if a.verdict == "needs_review":
            dispatcher.utter_message(response="utter_aid_person")
        elif a.verdict == "ineligible":
            dispatcher.utter_message(response="utter_aid_alternatives")
        else:
            dispatcher.utter_message(response="utter_aid_next")
        return events + record_consultation(
            tracker,
            category=flows.matter_category(facts.matter),
            outcome="referred" if a.verdict == "needs_review" else "answered",
            referral="12348/法律援助中心" if a.verdict != "ineligible" else None,
            migrant_worker=bool(facts.migrant_worker),
            street=tracker.get_slot("street"),
            eligibility=a.verdict,
            legal_basis="；".join(a.basis),
            summary=f"法律援助咨询：{MATTERS.get(facts.matter, facts.matter)}",
        )
