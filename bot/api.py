"""The JSON API of CONTRACT §7 (eligibility, advisors, health, operator login, copilot and handoffs); the web
chat's door is bot/chat.py."""
from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import httpx
from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import text as sql_text

from bot import copilot
from bot.deps import OperatorDep, SessionDep
from bot.rasa_client import parse, rasa_alive, resume_conversation
from hotline import legal_aid
from hotline.codes import CATEGORIES, ELIGIBILITY_VERDICTS, SERVICE_OUTCOMES
from hotline.privacy import mask_text
from hotline.store import repository
from hotline.store.db import session_scope
from hotline.store.models import Handoff

log = logging.getLogger(__name__)
router = APIRouter()
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


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


@router.post("/api/login")
def login(body: LoginIn, session: SessionDep) -> dict[str, str]:
    """A bearer token for an operator's username and password."""

    token = repository.login(session=session, username=body.username, password=body.password)
    if token is None:
        raise HTTPException(401, detail="Wrong username or password")
    return {"token": token}


class AnalyzeIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    conversation_id: str = Field(min_length=1, max_length=128)


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
    copilot.update_state(state, result, body.text)

    advisor = None
    place = state.slots.get("community") or state.slots.get("street")
    if place:
        found = repository.find_advisors(session=session, query=place, limit=1)
        if found:
            advisor = found[0].to_api()
            state.slots.setdefault("street", advisor.get("street"))
    eligibility = None
    if copilot.aid_facts_ready(state.slots):
        try:
            facts = legal_aid.facts_from_api(copilot.aid_facts_body(state.slots))
            eligibility = legal_aid.assess(facts, on=today()).to_api()
        except ValueError as exc:  # a slot value the rules reject: show no verdict rather than a wrong one
            log.info("copilot: facts not assessable: %s", mask_text(str(exc)))
    missing = copilot.missing_slots(state.flow, state.slots)
    return {
        "intent": {"name": result["intent"].get("name"), "confidence": result["intent"].get("confidence")},
        "entities": [{"entity": e.get("entity"), "value": e.get("value")} for e in result.get("entities") or []],
        "category": state.category,
        "flow": state.flow,
        "slots": state.slots,
        "missing": missing,
        "suggested_reply": copilot.suggest_reply(state, missing, eligibility, advisor),
        "eligibility": eligibility,
        "advisor": advisor,
    }


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

    try:
        row = repository.log_consultation(
            session=session, service="hotline_12348", channel="phone", operator=operator.username,
            **body.model_dump(),
        )
    except repository.StoreError as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    return repository.consultation_to_dict(row)


def _handoff_to_api(h: Handoff) -> dict[str, Any]:
    return {
        "id": h.id,
        "created_at": h.created_at.isoformat(),
        "channel": h.channel,
        "category": h.category,
        "category_label": CATEGORIES.get(h.category or "", None),
        "summary": mask_text(h.summary),
        "status": h.status,
        "operator": h.operator,
        "sender": h.sender_hash[:8],  # enough to tell two callers apart, too little to be a handle
    }


@router.get("/api/handoffs")
def handoffs(operator: OperatorDep, session: SessionDep) -> list[dict[str, Any]]:
    """The queue of citizens who asked for a person and are not done with yet (open, then taken), oldest first."""

    # Taken ones stay listed: the operator who took one still has to close it from here.
    pending = [*repository.list_handoffs(session=session, status="waiting"),
               *repository.list_handoffs(session=session, status="taken")]
    pending.sort(key=lambda h: (h.created_at, h.id))
    return [_handoff_to_api(h) for h in pending]


class HandoffStatusIn(BaseModel):
    status: Literal["taken", "closed"]


HANDOFF_MESSAGES = {
    "taken": "已接手。请通过12348热线或该用户的渠道联系对方，处理完后点“结束”。",
    "closed": "已结束，智能助手已恢复回复该用户。",
    "closed_not_resumed": "已结束，但智能助手未能恢复（Rasa服务无响应），该用户暂时收不到自动回复。"
                          "请通知技术人员检查Rasa服务。",
}


@router.post("/api/handoffs/{handoff_id}/status")
async def handoff_status(
    handoff_id: int, body: HandoffStatusIn, operator: OperatorDep, session: SessionDep
) -> dict[str, Any]:
    """Take or close a queued handoff; closing also un-pauses the citizen's conversation in Rasa."""

    handoff = repository.set_handoff_status(
        session=session, handoff_id=handoff_id, status=body.status, operator=operator.username
    )
    if handoff is None:
        raise HTTPException(404, detail="Handoff not found")
    # Commit before talking to Rasa: the citizen's next message must find the handoff already closed,
    # and a Rasa failure must not undo the operator's decision.
    session.commit()
    answer = _handoff_to_api(handoff)
    if body.status == "closed":
        resumed = await resume_conversation(handoff.channel, handoff.sender_hash)
        if not resumed:
            log.warning("handoff %s closed but the conversation was not resumed", handoff.id)
        answer["bot_resumed"] = resumed
        answer["message"] = HANDOFF_MESSAGES["closed" if resumed else "closed_not_resumed"]
    else:
        answer["bot_resumed"] = None
        answer["message"] = HANDOFF_MESSAGES["taken"]
    return answer
