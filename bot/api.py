"""The JSON API of CONTRACT §7: eligibility, advisors, health, the copilot and phone consultations here; accounts,
handoffs and the dashboard in their own modules, included below. The web chat's door is bot/chat.py."""
from __future__ import annotations

import logging
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text as sql_text

from bot import accounts, copilot, dashboard, handoffs, supervision
from bot.deps import OperatorDep, SessionDep
from bot.rasa_client import parse, rasa_alive
from hotline import legal_aid
from hotline.clock import today
from hotline.consultation_record import ConsultationRecord, InvalidConsultation, consultation_record
from hotline.store import consultations, directory
from hotline.store.db import session_scope

log = logging.getLogger(__name__)
router = APIRouter()
for _part in (accounts.router, handoffs.router, dashboard.router):
    router.include_router(_part)
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

    return [entry.to_api() for entry in directory.find_advisors(session=session, query=q.strip())]


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
    # The services under the supervisor (a crash-looping one backs off alone: the rest still serve, so still 200).
    processes = supervision.summary()
    status = "ok" if healthy and not processes.get("backing_off") else "degraded" if healthy else "error"
    return JSONResponse({"status": status, **checks, "processes": processes}, status_code=200 if healthy else 503)


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
    return copilot.analyze_turn(state, result, body.text, body.facts,
                                entries=directory.directory_entries(session=session), on=today())


class ConsultationIn(BaseModel):
    """The JSON's shape only: what each value may be is hotline.consultation_record's, as for the ledger import and
    the store, so a value refused here is refused there with the same reason (tests/test_consultation_record.py)."""

    category: str | None = None
    outcome: str | None = "answered"
    migrant_worker: bool = False
    persons: int | str = 1
    street: str | None = None
    community: str | None = None
    referral: str | None = None
    amount: int | float | str | None = None
    eligibility: str | None = None
    legal_basis: str | None = None
    summary: str | None = None
    phone: str | None = None
    # The console's id of this call: logging the same call twice (a double click) adds one row.
    call_id: str | None = Field(default=None, min_length=1, max_length=96)


def _empty_call(record: ConsultationRecord) -> bool:
    """A call with nothing in it (no category, no words, no fact) is a click, not a consultation: not counted."""
    return not (record.category or record.summary or record.street or record.community or record.amount is not None
                or record.eligibility or record.legal_basis)


@router.post("/api/consultations", status_code=201)
def log_phone_consultation(body: ConsultationIn, operator: OperatorDep, session: SessionDep) -> dict[str, Any]:
    """Log one 12348 phone consultation handled with the copilot."""

    fields = body.model_dump(exclude={"call_id"})
    source_id = f"call:{operator.username}:{body.call_id}" if body.call_id else None
    try:
        record = consultation_record(service="hotline_12348", channel="phone", operator=operator.username,
                                     source_id=source_id, **fields)
    except InvalidConsultation as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    if _empty_call(record):
        raise HTTPException(422, detail="empty call: record what the caller said or the category before logging")
    row = consultations.save_consultation(session=session, record=record)
    return consultations.consultation_to_dict(row)
