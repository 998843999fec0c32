"""The one entry every channel calls for a citizen's turn (BRIEF interface 1).

It records the citizen's words and the bot's answers in the conversation's transcript (operator data; the logs
get masked text only). While a handoff of the conversation is waiting or taken, Rasa is not asked: the words go
to the operator's console, and the citizen gets a short acknowledgement the first time.
"""
from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy.orm import Session

from bot.delivery import seal
from bot.rasa_client import BotMessage, forward_to_rasa, rasa_sender, resume_conversation
from hotline.office_hours import office_hours
from hotline.privacy import mask_phone
from hotline.settings import PROJECT_ROOT
from hotline.store import repository
from hotline.store.db import session_scope
from hotline.store.models import Handoff

log = logging.getLogger(__name__)
RESPONSES = PROJECT_ROOT / "domain" / "handoff.yml"
# What a waiting citizen says to stop waiting for a person and talk to the bot again (never stuck in a queue).
BACK_TO_BOT = {"返回智能助手", "返回", "回到智能助手", "继续问智能助手", "不用人工了", "取消转人工", "取消"}
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")


@dataclass(frozen=True)
class Turn:
    messages: list[BotMessage]
    conversation_id: str


@lru_cache(maxsize=1)
def _responses(path: Path = RESPONSES) -> dict[str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {name: variants[0]["text"] for name, variants in (data.get("responses") or {}).items()}


def say(name: str, **slots: str) -> str:
    """The first variant of a domain response of domain/handoff.yml, its {slots} filled."""
    return _responses()[name].format(**slots)


def staffed(*, session: Session, now: datetime) -> bool:
    """Within office hours and with an operator whose console was seen recently."""
    return office_hours().is_open(now) and bool(repository.operators_on_shift(session=session))


def _lines(author: str, messages: list[BotMessage]) -> list[tuple[str, str, list[dict] | None]]:
    return [(author, m.text, [{"title": b.title, "payload": b.payload} for b in m.buttons] or None) for m in messages]


def _while_handed_off(session: Session, handoff: Handoff, channel: str, raw_sender: str, text: str,
                      now: datetime) -> list[BotMessage]:
    """What the citizen is told while a person is (to be) answering: once an acknowledgement, then nothing."""
    handoff.last_citizen_at = now
    if handoff.status == "waiting" and text.strip(" 。！!") in BACK_TO_BOT:
        # Nobody has taken it yet: the citizen may go back to the bot (handle_turn resumes Rasa).
        repository.set_handoff_status(session=session, handoff_id=handoff.id, status="closed")
        return [BotMessage(say("utter_handoff_back_to_bot"))]
    if channel != "web":
        handoff.reply_address = seal(raw_sender)
    phone = _MOBILE.search(text)
    if phone and not staffed(session=session, now=now):
        # After hours the bot asked for a call-back number; the citizen sending one is the consent.
        handoff.callback_phone = "".join(phone.groups())
        return [BotMessage(say("utter_handoff_callback_noted", phone=mask_phone(handoff.callback_phone) or ""))]
    if handoff.acknowledged:
        return []
    handoff.acknowledged = True
    return [BotMessage(say("utter_handoff_ack" if staffed(session=session, now=now) else "utter_handoff_ack_unstaffed"))]


def _before_rasa(channel: str, raw_sender: str, conversation: str, text: str, now: datetime) -> list[BotMessage] | None:
    """While handed off: record the citizen's words and return what to say instead of asking Rasa; else None.

    The usual case (no handoff) only reads, so a turn costs one write, after Rasa, not two.
    """
    with session_scope() as session:
        handoff = repository.active_handoff(session=session, conversation_id=conversation)
        if handoff is None:
            return None
        answer = _while_handed_off(session, handoff, channel, raw_sender, text, now)
        repository.record_messages(session=session, conversation_id=conversation,
                                   lines=[("citizen", text, None), *_lines("bot", answer)])
        return answer


def _after_rasa(channel: str, raw_sender: str, conversation: str, text: str, messages: list[BotMessage],
                now: datetime) -> None:
    """Record the turn; a handoff queued during it (by action_handoff) keeps what delivering replies needs."""
    with session_scope() as session:
        repository.record_messages(session=session, conversation_id=conversation,
                                   lines=[("citizen", text, None), *_lines("bot", messages)])
        handoff = repository.active_handoff(session=session, conversation_id=conversation)
        if handoff is not None and handoff.last_citizen_at is None:
            handoff.last_citizen_at = now
            if channel != "web":
                handoff.reply_address = seal(raw_sender)


# Markup typed or pasted on any channel (「<img src=x onerror=…>」) is not a request for a person: the NLU reads the
# visible words only, and a message of markup alone gets the ordinary "what I can help with" answer.
_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z!][^<>]{0,500}>")
OUT_OF_SCOPE = "/out_of_scope"


def words_of(message: str) -> str:
    """What the citizen wrote, without markup tags; the out-of-scope payload when nothing else is left."""
    text = message.strip()
    if "<" not in text:
        return text
    visible = _MARKUP.sub(" ", text).strip()
    return visible or OUT_OF_SCOPE


async def handle_turn(channel: str, raw_sender: str, text: str) -> Turn:
    """One citizen turn on any channel: to the operator while handed off, else to Rasa; recorded either way."""
    conversation = rasa_sender(raw_sender, channel)
    now = repository.utcnow()
    try:
        # The store is synchronous: in a worker thread, so a slow disk never stalls other citizens' turns.
        answer = await asyncio.to_thread(_before_rasa, channel, raw_sender, conversation, text, now)
        if answer is not None:
            if answer and answer[0].text == say("utter_handoff_back_to_bot"):
                await resume_conversation(channel, conversation.split(":", 1)[1])
            return Turn(answer, conversation)
    except Exception:  # the store is down: the citizen still gets the bot (never stuck)
        log.exception("transcript not recorded for a %s turn", channel)
    messages = await forward_to_rasa(raw_sender, words_of(text), channel)
    try:
        await asyncio.to_thread(_after_rasa, channel, raw_sender, conversation, text, messages, now)
    except Exception:
        log.exception("bot answer not recorded for a %s turn", channel)
    return Turn(messages, conversation)
