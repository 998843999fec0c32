"""The JSON API of CONTRACT §7: eligibility, advisors, health, the copilot and phone consultations here; accounts,
handoffs and the dashboard in their own modules, included below. The web chat's door is bot/chat.py."""
from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import text as sql_text

from bot import accounts, copilot, dashboard, handoffs
from bot.deps import OperatorDep, SessionDep
from bot.rasa_client import parse, rasa_alive
from hotline import legal_aid
from hotline.codes import CATEGORIES, ELIGIBILITY_VERDICTS, GROUPS, MATTERS, SERVICE_OUTCOMES
from hotline.privacy import mask_text
from hotline.store import repository
from hotline.store.db import session_scope

log = logging.getLogger(__name__)
router = APIRouter()
for _part in (accounts.router, handoffs.router, dashboard.router):
    router.include_router(_part)
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """Today in Liuzhou: the date the legal rules are applied on."""
    return datetime.now(LOCAL_TZ).date()


@router.post("/api/eligibility")
def eligibility(body: Annotated[Any, Body()]) -> dict[str, Any]:
    """The legal-aid eligibility of the facts given (CONTRACT §7)."""

    if not isinstance(body, dict):
        raise HTTPException(422, detail="Body must be a JSON object")
    try:
        facts = legal_aid.facts_from_api(body)
    except (ValueError, TypeError) as exc:
        raise HTTPException(422, detail=str(exc) or "Invalid facts") from exc
    return legal_aid.assess(facts, on=today()).to_api()


@router.get("/api/advisors")
def advisors(session: SessionDep, q: Annotated[str, Query(min_length=1, max_length=64)]) -> list[dict[str, Any]]:
    """The roster entries that match a street, community or alias."""

    return [entry.to_api() for entry in repository.find_advisors(session=session, query=q.strip())]


@router.get("/healthz")
async def healthz() -> JSONResponse:
    """200 when the database and the Rasa server both answer; otherwise 503 naming the part that failed."""
    checks: dict[str, str] = {"web": "ok"}
    try:
        with session_scope() as session:
            session.execute(sql_text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means "down" here
        log.warning("health: database failed: %s", type(exc).__name__)
        checks["database"] = "error"
    checks["rasa"] = "ok" if await rasa_alive() else "error"
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if healthy else "error", **checks}, status_code=200 if healthy else 503)


class AnalyzeIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    conversation_id: str = Field(min_length=1, max_length=128)
    # The operator's corrections of the facts ({slot: value | null}); they override what the NLU heard.
    facts: dict[str, Any] | None = None


@router.post("/api/copilot/analyze")
async def analyze(body: AnalyzeIn, operator: OperatorDep, session: SessionDep, request: Request) -> dict[str, Any]:
    """What the caller just said, what the call has established, and what to ask or say next."""
    # One memory of calls per app instance, so two apps (or two tests) never share a call's state.
    calls: copilot.CallMemory = request.app.state.calls

    try:
        result = await parse(body.text)
    except (httpx.HTTPError, ValueError) as exc:
        raise HTTPException(503, detail="Rasa NLU unavailable") from exc
    state = calls.get(f"{operator.username}:{body.conversation_id}")
    if hasattr(copilot, "analyze_turn"):  # the flows issue's copilot (BRIEF interface 3)
        return copilot.analyze_turn(state, result, body.text, body.facts,
                                    entries=repository.directory_entries(session=session), on=today())
    return _analyze_here(state, result, body, session)


def _analyze_here(state: Any, result: dict[str, Any], body: AnalyzeIn, session: Any) -> dict[str, Any]:
    """The copilot before flows' analyze_turn: NLU slots, the operator's corrections, labels for the console."""
    copilot.update_state(state, result, body.text)
    for slot, value in (body.facts or {}).items():
        if value is None or value == "":
            state.slots.pop(slot, None)
        else:
            state.slots[slot] = value
    advisor = office = None
    place = state.slots.get("community") or state.slots.get("street")
    if place:
        found = repository.find_advisors(session=session, query=place, limit=1)
        if found:
            entry = found[0].to_api()
            state.slots.setdefault("street", entry.get("street"))
            if state.slots.get("community"):
                advisor = entry  # the community's own advisor, only when the community is known
            else:
                office = {k: entry.get(k) for k in ("street", "justice_office", "office_address", "office_phone",
                                                    "office_hours", "sample")}
    eligibility = None
    if copilot.aid_facts_ready(state.slots):
        try:
            facts = legal_aid.facts_from_api(copilot.aid_facts_body(state.slots))
            eligibility = legal_aid.assess(facts, on=today()).to_api()
            eligibility["verdict_label"] = VERDICT_LABELS.get(eligibility["verdict"])
        except ValueError as exc:  # a slot value the rules reject: show no verdict rather than a wrong one
            log.info("copilot: facts not assessable: %s", mask_text(str(exc)))
    missing = copilot.missing_slots(state.flow, state.slots)
    reply = copilot.suggest_reply(state, missing, eligibility, advisor)
    name = result["intent"].get("name")
    return {
        "intent": {"name": name, "confidence": result["intent"].get("confidence"),
                   "label": INTENT_LABELS.get(name or "", name)},
        "entities": [{"entity": e.get("entity"), "value": e.get("value")} for e in result.get("entities") or []],
        "category": state.category,
        "category_label": CATEGORIES.get(state.category or ""),
        "flow": state.flow,
        "flow_label": FLOW_LABELS.get(state.flow or ""),
        "slots": state.slots,
        "facts": [{"slot": k, "label": SLOT_LABELS.get(k, k), "value": v, "display": _display(v)}
                  for k, v in state.slots.items()],
        "missing": missing,
        "questions": [{"slot": s, "text": SLOT_QUESTIONS.get(s, SLOT_LABELS.get(s, s) + "？"), "buttons": []}
                      for s in missing[:3]],
        "suggested_reply": reply,
        "script": [reply],
        "eligibility": eligibility,
        "wage_steps": [],
        "advisor": advisor,
        "office": office,
    }


INTENT_LABELS = {
    "greet": "问候", "goodbye": "告别", "thank": "感谢", "affirm": "肯定", "deny": "否定", "bot_challenge": "问是不是机器人",
    "request_human": "要求转人工", "wage_arrears": "欠薪讨薪", "work_injury": "工伤", "labor_dispute": "劳动争议",
    "legal_aid": "法律援助", "find_advisor": "找法律顾问", "mediation": "人民调解", "family_dispute": "婚姻家庭",
    "traffic_accident": "交通事故", "other_legal_question": "其他法律问题", "ask_materials": "问材料",
    "ask_office": "问办事地点", "inform": "提供情况", "out_of_scope": "与法律无关", "nlu_fallback": "没听懂",
}
FLOW_LABELS = {"wage_claim": "讨薪", "legal_aid": "法律援助", "advisor": "找法律顾问"}
VERDICT_LABELS = {"eligible": "可以申请法律援助", "ineligible": "不符合法律援助条件", "needs_review": "需要法律援助中心审查"}
SLOT_LABELS = {
    "employer": "欠薪单位/老板", "amount": "金额（元）", "people_count": "人数", "months_owed": "拖欠月数",
    "employment_ended": "已离职", "has_contract": "签了合同", "evidence": "证据", "street": "街道", "community": "社区/村",
    "phone": "电话", "matter": "事项", "migrant_worker": "农民工", "monthly_income": "家庭月收入",
    "household_size": "家庭人口", "has_valuable_assets": "有贵重财产", "groups": "特殊群体",
}
SLOT_QUESTIONS = {
    "employer": "欠您工资的是哪家公司或哪个老板？", "amount": "一共欠了多少钱？", "people_count": "一共有几个人被欠？",
    "months_owed": "欠了几个月？", "employment_ended": "您现在还在那里干吗？", "has_contract": "签劳动合同了吗？",
    "street": "您住在哪个街道？", "community": "哪个社区或村？", "migrant_worker": "您是农民工吗？",
    "monthly_income": "家里每人每月收入大概多少？", "household_size": "家里几口人？",
    "has_valuable_assets": "家里有房产、车辆等贵重财产吗？",
}


def _display(value: Any) -> str:
    if value is True:
        return "是"
    if value is False:
        return "否"
    if isinstance(value, list):
        return "、".join(MATTERS.get(str(v), GROUPS.get(str(v), str(v))) for v in value)
    return MATTERS.get(str(value), str(value))


class ConsultationIn(BaseModel):
    category: str | None = None
    outcome: str = "answered"
    migrant_worker: bool = False
    persons: int = Field(default=1, ge=1, le=10000)
    street: str | None = Field(default=None, max_length=64)
    community: str | None = Field(default=None, max_length=64)
    referral: str | None = Field(default=None, max_length=128)
    amount: int | None = Field(default=None, ge=0, le=10**12)
    eligibility: str | None = None
    legal_basis: str | None = Field(default=None, max_length=2000)
    summary: str | None = Field(default=None, max_length=4000)
    phone: str | None = Field(default=None, max_length=32)
    # The console's id of this call: logging the same call twice (a double click) adds one row.
    call_id: str | None = Field(default=None, min_length=1, max_length=96)

    @field_validator("category")
    @classmethod
    def _category(cls, v: str | None) -> str | None:
        if v is not None and v not in CATEGORIES:
            raise ValueError(f"unknown category '{v}'")
        return v

    @field_validator("outcome")
    @classmethod
    def _outcome(cls, v: str) -> str:
        if v not in SERVICE_OUTCOMES["hotline_12348"]:
            raise ValueError(f"outcome of a hotline call must be one of {', '.join(SERVICE_OUTCOMES['hotline_12348'])}")
        return v

    @field_validator("eligibility")
    @classmethod
    def _eligibility(cls, v: str | None) -> str | None:
        if v is not None and v not in ELIGIBILITY_VERDICTS:
            raise ValueError(f"unknown eligibility '{v}'")
        return v


@router.post("/api/consultations", status_code=201)
def log_phone_consultation(body: ConsultationIn, operator: OperatorDep, session: SessionDep) -> dict[str, Any]:
    """Log one 12348 phone consultation handled with the copilot."""

    fields = body.model_dump(exclude={"call_id"})
    source_id = f"call:{operator.username}:{body.call_id}" if body.call_id else None
    try:
        row = repository.log_consultation(
            session=session, service="hotline_12348", channel="phone", operator=operator.username,
            source_id=source_id, **fields,
        )
    except repository.StoreError as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    return repository.consultation_to_dict(row)
