"""Ending a handoff, whoever ends it — the operator's 结束, the citizen's 「返回智能助手」, the idle timeout — one way:
the row closed, a person's answer logged once as a consultation under the operator, and the conversation handed
back to Rasa as for a fresh question with the facts kept (bot.rasa_client.resume_conversation, RESUME_EVENTS).

Also what the operator and the transcript read of a handoff (the summary, a pressed button as its title), so the
console and the closing log say the same.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.menu import MAIN_MENU
from bot.rasa_client import resume_conversation
from hotline.codes import CATEGORIES
from hotline.privacy import mask_text
from hotline.settings import get_settings
from hotline.store import consultations, handoffs, transcripts
from hotline.store.models import ChatMessage, Handoff

QUOTED_WORDS = 3  # the citizen's last few messages quoted in the summary
# Words that only ask for a person: the queue already says so, the operator wants the matter.
ASKING_FOR_A_PERSON = {"转人工", "人工", "人工服务", "人工客服", "找人工", "我要人工", "转人工服务", "找真人", "真人"}
# A handoff nobody has spoken in for this long is over when the citizen writes again: their words are a fresh
# question for the bot (with a note), not a message into a queue nobody reads. HOTLINE_HANDOFF_IDLE_HOURS.


def idle_limit() -> timedelta:
    return timedelta(hours=get_settings().handoff_idle_hours)


def summary(h: Handoff, lines: list[ChatMessage]) -> str:
    """Chinese sentences: the citizen's own words, then what the bot learned (the action's summary)."""
    said = [m.text for m in lines if m.author == "citizen" and not m.text.startswith("/")
            and m.text.strip("。！!？? ") not in ASKING_FOR_A_PERSON][-QUOTED_WORDS:]
    parts = []
    if said:
        parts.append("用户说：" + "；".join(f"「{s}」" for s in said) + "。")
    learned = h.summary or ""
    if learned and "=" not in learned:  # rows queued before 0003 hold key=value codes: not for reading
        parts.append(learned)
    elif h.category in CATEGORIES:
        parts.append(f"事项：{CATEGORIES[h.category]}。")
    return mask_text("".join(parts)) or "用户请求转人工。"


def button_titles(lines: list[ChatMessage]) -> dict[str, str]:
    """payload → the title the citizen saw: the main menu's chips, then every button the bot sent."""
    titles = {b.payload: b.title for b in MAIN_MENU}
    for m in lines:
        if m.author == "bot":
            titles.update({b.get("payload", ""): b.get("title", "") for b in transcripts.message_buttons(m)})
    return titles


def pressed(session: Session, conversation: str, text: str) -> str:
    """A citizen's message as a person reads it: a pressed button's payload (`/affirm`) becomes its title."""
    if not text.startswith("/"):
        return text
    title = button_titles(transcripts.transcript(session=session, conversation_id=conversation, limit=60)).get(text)
    return title or text


def last_activity(session: Session, h: Handoff) -> datetime:
    """When anyone last spoke in the handoff: queued, taken, the citizen's last words or an operator's reply."""
    replied = transcripts.last_line_at(session=session, conversation_id=h.conversation_id or "", author="operator",
                                       since=h.created_at)
    return max(t for t in (h.created_at, h.taken_at, h.last_citizen_at, replied) if t is not None)


def timed_out(session: Session, h: Handoff, now: datetime) -> bool:
    """Idle past the limit, and no call-back promised (a number the citizen left keeps it in the queue)."""
    return not h.callback_phone and now - last_activity(session, h) > idle_limit()


def log_closed(session: Session, h: Handoff, operator: str) -> None:
    """One consultation per handoff, under the operator: the bot's referral row becomes the operator's; without one,
    a row of its own (source_id from the handoff id: closing twice logs once)."""
    if h.consultation_id is not None:  # closed before: logged then
        return
    text = summary(h, transcripts.transcript(session=session, conversation_id=h.conversation_id or ""))
    claimed = consultations.claim_referral(session=session, sender_hash=h.sender_hash, operator=operator, summary=text)
    if claimed is not None:
        h.consultation_id = claimed.id
        return
    service = "online" if h.channel in ("web", "wechat", "telegram") else "hotline_12348"
    row = consultations.log_consultation(
        session=session, service=service, channel=h.channel, category=h.category or "other", outcome="answered",
        summary=text, sender_hash=h.sender_hash, operator=operator, source_id=f"handoff:{h.id}",
        occurred_at=h.created_at,
    )
    h.consultation_id = row.id


def close(session: Session, h: Handoff, *, operator: str | None = None) -> None:
    """The row closed (the reply address dropped); logged under the operator when a person took it or closes it.

    A handoff nobody took (the citizen went back to the bot, or it timed out waiting) keeps the bot's own referral
    row: no person answered. The caller commits, then hands the conversation back (`hand_back`).
    """
    handoffs.set_handoff_status(session=session, handoff_id=h.id, status="closed",
                                operator=None if h.operator else operator)
    if h.operator:
        log_closed(session, h, h.operator)


async def hand_back(channel: str, sender_hash: str) -> bool:
    """The conversation to the bot again, as for a fresh question with the facts kept; False when Rasa did not
    take it (the caller tells the operator)."""
    return await resume_conversation(channel, sender_hash)
