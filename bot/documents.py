"""The citizens' draft papers at the door (issue 25).

`GET /api/documents/{token}` — the download: the token is a draft number, a format and an expiry, signed; no
personal data in the URL. Forged → 403, expired → 410, purged → 410. A PDF opens inline (one tap on a phone), a .docx
downloads. `POST /api/documents` — operators: the same drafts for a caller from the copilot's facts.
The channel helpers: a Telegram answer that carries a draft link also gets the file as a document message; the raw
chat id of a citizen who agreed to reminders is sealed on them here (the actions never see it); WeChat reminders
held for the citizen's next message are given then.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, Field

from bot.deps import OperatorDep, SessionDep
from hotline import clock
from hotline.documents import sealing
from hotline.documents.arbitration import Applicant, ClaimFacts
from hotline.documents.delivery import reminder_text
from hotline.documents.service import LABELS, make_drafts
from hotline.store import documents as store
from hotline.store.db import session_scope
from hotline.wage_claim import facts_from_slots

log = logging.getLogger(__name__)
router = APIRouter()
LINK = re.compile(r"/api/documents/([0-9]+\.(?:pdf|docx)\.[0-9]+\.[A-Za-z0-9_\-=]+)")
MEDIA = {"pdf": "application/pdf",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def _file(token: str) -> tuple[store.OpenDraft, str]:
    try:
        grant = sealing.open_token(token)
    except sealing.ExpiredToken as exc:
        raise HTTPException(410, detail="Link expired") from exc
    except sealing.ForgedToken as exc:
        raise HTTPException(403, detail="Invalid link") from exc
    with session_scope() as session:
        draft = store.open_draft(session=session, draft_id=grant.draft_id, count_download=True)
    if draft is None or (grant.fmt == "pdf" and draft.pdf is None):
        raise HTTPException(410, detail="Document no longer kept")
    return draft, grant.fmt


@router.get("/api/documents/{token}")
def download(token: str) -> Response:
    """One draft file, by a signed short-lived token."""
    draft, fmt = _file(token)
    name = f"{LABELS[draft.kind]}.{fmt}"
    disposition = "inline" if fmt == "pdf" else "attachment"
    return Response(draft.pdf if fmt == "pdf" else draft.docx, media_type=MEDIA[fmt], headers={
        "Content-Disposition": f"{disposition}; filename=\"{draft.kind}.{fmt}\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store", "X-Robots-Tag": "noindex"})


class ApplicantIn(BaseModel):
    name: str | None = Field(default=None, max_length=40)
    sex: str | None = Field(default=None, max_length=4)
    id_number: str | None = Field(default=None, max_length=24)
    phone: str | None = Field(default=None, max_length=24)
    address: str | None = Field(default=None, max_length=120)


class ExtraIn(BaseModel):
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    monthly_wage: int | None = Field(default=None, ge=0, le=10**7)
    resigned_for_arrears: bool | None = None
    general_contractor: str | None = Field(default=None, max_length=80)
    developer: str | None = Field(default=None, max_length=80)


class DraftIn(BaseModel):
    # The copilot's facts ({slot: value}), as POST /api/copilot/analyze gives them in `slots`.
    slots: dict[str, Any]
    applicant: ApplicantIn = ApplicantIn()
    extra: ExtraIn = ExtraIn()


@router.post("/api/documents", status_code=201)
async def draft_for_caller(body: DraftIn, operator: OperatorDep, session: SessionDep) -> dict[str, Any]:
    """The caller's drafts from the copilot's facts: links to each file and what a person must check."""
    facts = facts_from_slots(_typed(body.slots))
    if body.extra.end_date is not None:
        from dataclasses import replace

        facts = replace(facts, end_date=body.extra.end_date, employment_ended=True)
    extra = ClaimFacts(**body.extra.model_dump(exclude={"end_date"}))
    made = await asyncio.to_thread(_make, facts, Applicant(**body.applicant.model_dump()), clock.today(), extra,
                                   operator.username)
    return {"documents": [{"id": m.draft_id, "kind": m.kind, "label": m.label,
                           "deadline": m.deadline.isoformat() if m.deadline else None,
                           "pdf": m.link("pdf") if m.has_pdf else None, "docx": m.link("docx"),
                           "for_person": list(m.for_person)} for m in made]}


def _typed(slots: dict[str, Any]) -> dict[str, Any]:
    """The console's fields come back as text (「35000」, 「3.5万」, 「true」): read numbers and yes/no as the chat does."""
    from hotline import flows
    from hotline.flows.answers import number_value

    out = dict(slots)
    for name, value in slots.items():
        if isinstance(value, str):
            found = flows.spec().slots.get(name)
            if found is not None and found.reader in flows.NUMBER_READERS:
                out[name] = number_value(name, value)  # the slot's parser and bounds (flows.yaml)
            elif value in ("true", "是", "有"):
                out[name] = True
            elif value in ("false", "否", "没有"):
                out[name] = False
            elif name == "evidence":
                out[name] = [value]
    return out


def _make(facts: Any, applicant: Applicant, today: dt.date, extra: ClaimFacts, operator: str) -> list[Any]:
    with session_scope() as session:
        return make_drafts(session=session, facts=facts, applicant=applicant, on=today, channel="phone",
                           operator=operator, extra=extra)


# --- channel helpers -------------------------------------------------------------------------------------------

def tokens_in(text: str) -> list[str]:
    return LINK.findall(text or "")


async def send_telegram_documents(bot: Any, chat_id: int | str, text: str) -> int:
    """For each draft link in a bot answer, the file itself as a Telegram document message; how many were sent."""
    sent = 0
    for token in tokens_in(text):
        try:
            draft, fmt = await asyncio.to_thread(_file, token)
        except HTTPException:
            continue
        data = draft.pdf if fmt == "pdf" else draft.docx
        await bot.send_document(chat_id, document=data, filename=f"{LABELS[draft.kind]}.{fmt}")
        sent += 1
    return sent


REMINDER_SET_MARK = "提醒已设好"  # the start of domain/documents.yml's utter_reminder_set


def reminders_agreed(channel: str, texts: list[str]) -> bool:
    """Whether the answer confirmed reminders on a channel that needs the chat id to reach the citizen."""
    return channel != "web" and any(REMINDER_SET_MARK in (t or "") for t in texts)


def note_reminder_address(channel: str, raw_sender: str, sender_hash: str, texts: list[str]) -> None:
    """After a turn whose answer confirmed reminders: seal the raw chat id on them (needed to reach Telegram)."""
    if not reminders_agreed(channel, texts):
        return
    with session_scope() as session:
        store.attach_address(session=session, sender_hash=sender_hash, address=raw_sender)


def take_held_reminders(sender_hash: str) -> list[str]:
    """WeChat reminders held for this citizen's next message: their texts, now marked sent."""
    with session_scope() as session:
        rows = store.held_reminders(session=session, sender_hash=sender_hash)
        texts = [reminder_text(r) for r in rows]
        for r in rows:
            store.mark_reminder(session=session, reminder=r, status="sent")
        return texts


def _personal_questions() -> set[str]:
    """The bot lines whose answers are personal: document_form's questions and re-asks (domain/documents.yml)."""
    from hotline.wording import responses

    return {str(v.get("text") or "").strip() for name, variations in responses().items()
            if name.startswith(("utter_ask_applicant_", "utter_bad_applicant_")) for v in variations if v.get("text")}


PERSONAL_SLOTS = ("applicant_name", "applicant_sex", "applicant_id_number", "applicant_phone", "applicant_address")


def forget_answers(conversation_id: str, texts: list[str]) -> None:
    """After the turn that gave a draft's link (the transcript is written by then): the personal answers go from the
    transcript and from Rasa's tracker store, so they live only in the sealed draft."""
    if not any(tokens_in(t) for t in texts):
        return
    from hotline.retention import tracker_store_url
    from hotline.store import transcripts

    with session_scope() as session:
        lines = transcripts.transcript(session=session, conversation_id=conversation_id, limit=60)
        said = store.forget_personal_lines(lines, _personal_questions())
    url = tracker_store_url()
    if url:
        store.scrub_tracker(url=url, conversation_id=conversation_id, said=said, slots=PERSONAL_SLOTS)


async def after_turn(channel: str, raw_sender: str, conversation_id: str, texts: list[str]) -> list[str]:
    """A door's one call after a turn: the personal answers leave the transcript once the draft holds them; the chat
    id is sealed on reminders just agreed to; (WeChat) reminders held for this citizen are given. Never breaks the
    turn: a store error is logged and the answer goes out as it is."""
    sender_hash = conversation_id.split(":", 1)[-1]
    try:
        # Each step's own check first, here: most turns have nothing to do, and a hop to a worker thread and back
        # costs the door more than the check (issue 28).
        if any(tokens_in(t) for t in texts):
            await asyncio.to_thread(forget_answers, conversation_id, texts)
        if reminders_agreed(channel, texts):
            await asyncio.to_thread(note_reminder_address, channel, raw_sender, sender_hash, texts)
        return await asyncio.to_thread(take_held_reminders, sender_hash) if channel == "wechat" else []
    except Exception:
        log.exception("reminders not updated after a %s turn", channel)
        return []
