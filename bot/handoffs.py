"""The two-way handoff (CONTRACT §7): the operators' queue, taking, replying on the citizen's own channel and
closing (the bot resumes and says so; the handoff is logged once as a consultation under the operator), and the
web chat's pull of pushed lines and its history."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bot import handback
from bot.conversation import say
from bot.delivery import Deliverer, NotDelivered
from bot.deps import OperatorDep, SessionDep
from bot.rasa_client import rasa_sender
from hotline.codes import CATEGORIES, CHANNELS
from hotline.store import handoffs, operators, transcripts
from hotline.store.models import ChatMessage, Handoff, utcnow

log = logging.getLogger(__name__)
router = APIRouter()

STATUS_LABELS = {"waiting": "待接手", "taken": "已接手", "closed": "已结束"}
HANDOFF_MESSAGES = {
    "taken": "已接手。请在下面回复该用户，处理完后点“结束”。",
    "closed": "已结束，智能助手已恢复回复该用户，本次咨询已登记。",
    "closed_not_resumed": "已结束，但智能助手未能恢复（Rasa服务无响应），该用户暂时收不到自动回复。"
                          "请通知技术人员检查Rasa服务。",
}
def _iso(at: datetime | None) -> str | None:
    return at.replace(tzinfo=timezone.utc).isoformat() if at else None


def _deliverer(request: Request) -> Deliverer:
    state = request.app.state
    if not hasattr(state, "deliverer"):
        wechat = getattr(state, "wechat", None)
        state.deliverer = Deliverer(wechat_api=getattr(wechat, "api", None),
                                    telegram_base_url=getattr(state, "telegram_base_url", None))
    return state.deliverer


def _waiting_label(seconds: int) -> str:
    if seconds < 60:
        return "不到1分钟"
    if seconds < 3600:
        return f"{seconds // 60}分钟"
    return f"{seconds // 3600}小时{seconds % 3600 // 60}分钟"


def _readable(lines: list[ChatMessage]) -> list[str]:
    """Each line's text, a pressed button's payload (`/affirm`) shown as the button's title the citizen saw."""
    titles = handback.button_titles(lines)
    out = []
    for m in lines:
        if m.author == "citizen" and m.text.startswith("/"):
            out.append(f"（点了按钮）{titles[m.text]}" if titles.get(m.text) else "（点了一个按钮）")
        else:
            out.append(m.text)
    return out


def handoff_to_api(session: Session, h: Handoff, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    conversation = h.conversation_id or f"{h.channel}:{h.sender_hash}"
    lines = transcripts.transcript(session=session, conversation_id=conversation, limit=200)
    end = h.taken_at or h.closed_at or now
    waited = max(0, int((end - h.created_at).total_seconds()))
    return {
        "id": h.id,
        "conversation_id": conversation,
        "channel": h.channel,
        "channel_label": CHANNELS.get(h.channel, h.channel),
        "status": h.status,
        "status_label": STATUS_LABELS.get(h.status, h.status),
        "summary": handback.summary(h, lines),
        "transcript": [{"from": m.author, "text": text, "at": _iso(m.at), "operator": m.operator}
                       for m, text in zip(lines, _readable(lines), strict=True)],
        "created_at": _iso(h.created_at),
        "taken_at": _iso(h.taken_at),
        "closed_at": _iso(h.closed_at),
        "waiting_seconds": waited,
        "waiting_label": _waiting_label(waited),
        "category": h.category,
        "category_label": CATEGORIES.get(h.category or ""),
        "operator": h.operator,
        "callback_phone": h.callback_phone,  # given with consent for the call-back: the operator needs it whole
        "consultation_id": h.consultation_id,
        "sender": h.sender_hash[:8],  # enough to tell two callers apart, too little to be a handle
    }


@router.get("/api/handoffs")
def queue(operator: OperatorDep, session: SessionDep,
             status: Literal["open", "closed", "all"] = "open") -> list[dict[str, Any]]:
    """Open handoffs (waiting, then being answered), newest first; ?status=closed|all for the record."""
    wanted = {"open": ("waiting", "taken"), "closed": ("closed",), "all": ("waiting", "taken", "closed")}[status]
    rows = [h for s in wanted for h in handoffs.list_handoffs(session=session, status=s)]
    rows.sort(key=lambda h: (h.created_at, h.id), reverse=True)
    now = utcnow()
    return [handoff_to_api(session, h, now=now) for h in rows[:200]]


def _found(session: Session, handoff_id: int) -> Handoff:
    handoff = handoffs.get_handoff(session=session, handoff_id=handoff_id)
    if handoff is None:
        raise HTTPException(404, detail="Handoff not found")
    return handoff


@router.get("/api/handoffs/{handoff_id}")
def handoff(handoff_id: int, operator: OperatorDep, session: SessionDep) -> dict[str, Any]:
    return handoff_to_api(session, _found(session, handoff_id))


class HandoffStatusIn(BaseModel):
    status: Literal["taken", "closed"]


@router.post("/api/handoffs/{handoff_id}/status")
async def handoff_status(handoff_id: int, body: HandoffStatusIn, operator: OperatorDep, session: SessionDep,
                         request: Request) -> dict[str, Any]:
    """Take or close a handoff; closing un-pauses the conversation in Rasa, tells the citizen and logs the call."""
    handoff = _found(session, handoff_id)
    was = handoff.status
    if body.status == "taken" and was == "closed":
        raise HTTPException(409, detail="Handoff already closed")
    if body.status == "closed" and was != "closed":
        # Tell the citizen while the reply address is still on the row (closing clears it).
        notice = say("utter_handoff_resumed")
        try:
            await _deliverer(request).deliver(handoff, notice, now=utcnow())
        except NotDelivered as exc:
            log.warning("handoff %s: resume notice not delivered (%s)", handoff.id, handoff.channel)
            del exc
        transcripts.record_message(session=session, conversation_id=handoff.conversation_id or "", author="bot",
                                   text=notice, pushed=True)
    if body.status == "closed":
        handback.close(session, handoff, operator=operator.username)
    else:
        handoffs.set_handoff_status(session=session, handoff_id=handoff_id, status="taken",
                                    operator=operator.username)
        if was == "waiting":
            handoff.acknowledged = False  # the citizen's next words get the one "a person is reading" note
    log.info("handoff %s %s by %s (%s)", handoff.id, body.status, operator.username, handoff.channel)
    # Commit before talking to Rasa: the citizen's next message must find the handoff already closed,
    # and a Rasa failure must not undo the operator's decision.
    session.commit()
    answer = handoff_to_api(session, handoff)
    if body.status == "closed" and was == "closed":  # a second click: the conversation is the bot's already
        answer["bot_resumed"] = None
        answer["message"] = HANDOFF_MESSAGES["closed"]
    elif body.status == "closed":
        resumed = await handback.hand_back(handoff.channel, handoff.sender_hash)
        if not resumed:
            log.warning("handoff %s closed but the conversation was not resumed", handoff.id)
        answer["bot_resumed"] = resumed
        answer["message"] = HANDOFF_MESSAGES["closed" if resumed else "closed_not_resumed"]
    else:
        answer["bot_resumed"] = None
        answer["message"] = HANDOFF_MESSAGES["taken"]
    return answer


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


@router.post("/api/handoffs/{handoff_id}/reply", status_code=201)
async def handoff_reply(handoff_id: int, body: ReplyIn, operator: OperatorDep, session: SessionDep,
                        request: Request) -> dict[str, Any]:
    """The operator's words to the citizen, on their own channel; a waiting handoff is taken by the one replying."""
    handoff = _found(session, handoff_id)
    if handoff.status == "closed":
        raise HTTPException(409, detail="Handoff already closed")
    text = body.text.strip()
    if not text:
        raise HTTPException(422, detail="text: empty")
    try:
        # WeChat and Telegram show every line alike: the words carry who speaks (「【值班人员】…」).
        await _deliverer(request).deliver(handoff, signed(text, operator.display_name), now=utcnow())
    except NotDelivered as exc:
        raise HTTPException(502, detail=str(exc)) from exc
    if handoff.status == "waiting":
        handoffs.set_handoff_status(session=session, handoff_id=handoff.id, status="taken",
                                    operator=operator.username)
    handoff.acknowledged = True  # a person has spoken: no "a person is reading" note needed any more
    row = transcripts.record_message(session=session, conversation_id=handoff.conversation_id or "",
                                     author="operator", text=text, operator=operator.username, pushed=True)
    log.info("handoff %s: reply by %s delivered on %s", handoff.id, operator.username, handoff.channel)
    return {"handoff_id": handoff.id, "seq": row.seq, "from": "operator", "text": row.text, "at": _iso(row.at),
            "operator": operator.username, "channel": handoff.channel, "status": handoff.status}


# --- the web chat's side (public: the sender id is the browser's own secret) ------------------------------------

SenderPath = Path(min_length=1, max_length=128)


@router.get("/api/chat/{sender}/messages")
def chat_pushed(session: SessionDep, sender: str = SenderPath,
                since: int = Query(default=0, ge=0, le=10**9)) -> dict[str, Any]:
    """Lines pushed to this web chat after cursor `since` (operator replies, the bot's resume notice), and whether a
    person has the conversation now (`handoff`: waiting | taken | null: the page hides its quick replies meanwhile)."""
    conversation = rasa_sender(sender, "web")
    rows, cursor = transcripts.pushed_since(session=session, conversation_id=conversation, since=since)
    active = handoffs.active_handoff(session=session, conversation_id=conversation)
    names = _names(session, rows)
    return {"messages": [_line(m, names) | {"seq": m.seq} for m in rows], "next": cursor,
            "handoff": active.status if active is not None else None}


@router.get("/api/chat/{sender}/history")
def chat_history(session: SessionDep, sender: str = SenderPath) -> dict[str, Any]:
    """This web chat's transcript, for a page reloaded or opened again."""
    conversation = rasa_sender(sender, "web")
    rows = transcripts.transcript(session=session, conversation_id=conversation)
    active = handoffs.active_handoff(session=session, conversation_id=conversation)
    names = _names(session, rows)
    return {"messages": [_line(m, names) | {"at": _iso(m.at)} for m in rows],
            "conversation_id": conversation, "next": rows[-1].seq if rows else 0,
            "handoff": active.status if active is not None else None}


def operator_label(display_name: str | None = None) -> str:
    """Who speaks when a person answers, as the citizen sees it (domain/handoff.yml): 「值班人员 · 黄律师」 with the
    operator's display name, else 「值班人员」. Never the login name: that is the bureau's, not a name for citizens."""
    return say("utter_operator_label", operator=display_name) if display_name else say("utter_operator_label_unnamed")


def signed(text: str, display_name: str | None = None) -> str:
    """An operator's words for a channel that cannot mark them otherwise (WeChat, Telegram)."""
    return f"【{operator_label(display_name)}】{text}"


def _names(session: Session, rows: list[ChatMessage]) -> dict[str, str]:
    return operators.display_names(session=session, usernames=[m.operator for m in rows if m.operator])


def _line(m: ChatMessage, names: dict[str, str]) -> dict[str, Any]:
    """One transcript line for the web chat: an operator's carries the label the page shows above the bubble."""
    line = {"text": m.text, "buttons": transcripts.message_buttons(m), "from": m.author}
    if m.author == "operator":
        line["label"] = operator_label(names.get(m.operator or ""))
    return line
