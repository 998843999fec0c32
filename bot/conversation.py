"""The one entry every channel calls for a citizen's turn (BRIEF interface 1).

It records the citizen's words and the bot's answers in the conversation's transcript (operator data; the logs
get masked text only). While a handoff of the conversation is waiting or taken, Rasa is not asked: the words go
to the operator's console, and the citizen gets one short note (queued, or a person is reading). A handoff ends
the one way of bot/handback.py, whoever ends it; the citizen's 「返回智能助手」 and the idle timeout end it here.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot import handback
from bot.delivery import seal
from bot.rasa_client import BotMessage, forward_to_rasa, rasa_sender
from hotline import wording
from hotline.office_hours import office_hours
from hotline.privacy import mask_phone
from hotline.store import handoffs, operators, transcripts
from hotline.store.db import session_scope
from hotline.store.models import Handoff, utcnow
from hotline_nlu.phones import find_phone

log = logging.getLogger(__name__)
# What a waiting citizen says to stop waiting for a person and talk to the bot again (never stuck in a queue).
BACK_TO_BOT_EXPLICIT = {"返回智能助手", "回到智能助手", "继续问智能助手", "不用人工了", "取消转人工"}
BACK_TO_BOT = {*BACK_TO_BOT_EXPLICIT, "返回", "取消"}


@dataclass(frozen=True)
class Turn:
    messages: list[BotMessage]
    conversation_id: str
    handoff: str | None = None  # waiting | taken while a person has (or will take) the conversation


def say(name: str, **slots: str) -> str:
    """A domain response (domain/handoff.yml's) as every channel gets it, its {slots} filled (hotline.wording)."""
    return wording.text(name, **slots)


def staffed(*, session: Session, now: datetime) -> bool:
    """Within office hours and with an operator whose console was seen recently."""
    return office_hours().is_open(now) and bool(operators.operators_on_shift(session=session))


def _lines(author: str, messages: list[BotMessage]) -> list[tuple[str, str, list[dict] | None]]:
    return [(author, m.text, [{"title": b.title, "payload": b.payload} for b in m.buttons] or None) for m in messages]


@dataclass(frozen=True)
class _HandedOff:
    """What a turn during a handoff comes to: what to say, whether the turn closed the handoff (hand the conversation
    back to Rasa), and whether the words still go to the bot (the handoff had timed out: a fresh question)."""

    answer: list[BotMessage]
    closed: tuple[str, str] | None = None  # (channel, sender hash) of the handoff this turn closed
    to_rasa: bool = False
    status: str | None = None  # the handoff's status after the turn, while it is open


def back_to_bot(words: str, status: str) -> bool:
    """The citizen asks for the bot again: any of BACK_TO_BOT while waiting; while a person is answering only the
    explicit ones (「取消」 or 「返回」 may answer the operator's own question)."""
    said = words.strip(" 。！!")
    return said in BACK_TO_BOT if status == "waiting" else said in BACK_TO_BOT_EXPLICIT


def _while_handed_off(session: Session, handoff: Handoff, channel: str, raw_sender: str, words: str,
                      now: datetime) -> _HandedOff:
    """What the citizen is told while a person is (to be) answering: one note, then nothing but the person."""
    ended = (handoff.channel, handoff.sender_hash)
    if handback.timed_out(session, handoff, now):
        # Nobody has spoken in it for long: the words are a fresh question for the bot, which says why it answers.
        handback.close(session, handoff)
        return _HandedOff([BotMessage(say("utter_handoff_timed_out"))], closed=ended, to_rasa=True)
    handoff.last_citizen_at = now
    if back_to_bot(words, handoff.status):
        handback.close(session, handoff)
        return _HandedOff([BotMessage(say("utter_handoff_back_to_bot"))], closed=ended)
    if channel != "web":
        handoff.reply_address = seal(raw_sender)
    phone = find_phone(words)  # read as the forms read a phone number
    if phone and handoff.status == "waiting" and not staffed(session=session, now=now):
        # After hours the bot asked for a call-back number; the citizen sending one is the consent.
        handoff.callback_phone = phone
        return _HandedOff([BotMessage(say("utter_handoff_callback_noted",
                                          phone=mask_phone(handoff.callback_phone) or ""))])
    if handoff.acknowledged:
        return _HandedOff([])
    handoff.acknowledged = True
    if handoff.status == "taken":  # a person has it: the one "a person is reading" note, nothing about hours
        return _HandedOff([BotMessage(say("utter_handoff_reading"))])
    return _HandedOff([BotMessage(say("utter_handoff_ack" if staffed(session=session, now=now)
                                      else "utter_handoff_ack_unstaffed"))])


def _before_rasa(channel: str, raw_sender: str, conversation: str, text: str, now: datetime) -> _HandedOff | None:
    """While handed off: record the citizen's words and return what to say instead of asking Rasa; else None.

    A pressed button's payload is recorded as its title: the operator reads what the citizen saw and chose.
    The usual case (no handoff) only reads, so a turn costs one write, after Rasa, not two.
    """
    with session_scope() as session:
        handoff = handoffs.active_handoff(session=session, conversation_id=conversation)
        if handoff is None:
            return None
        words = handback.pressed(session, conversation, text)
        handled = _while_handed_off(session, handoff, channel, raw_sender, words, now)
        if handled.closed is None:
            handled = dataclasses.replace(handled, status=handoff.status)
        if not handled.to_rasa:  # else recorded after Rasa, with its answer
            transcripts.record_messages(session=session, conversation_id=conversation,
                                        lines=[("citizen", words, None), *_lines("bot", handled.answer)])
        return handled


def _after_rasa(channel: str, raw_sender: str, conversation: str, text: str, messages: list[BotMessage],
                now: datetime) -> str | None:
    """Record the turn; a handoff queued during it (by action_handoff) keeps what delivering replies needs. The
    status of the conversation's open handoff, if any."""
    with session_scope() as session:
        transcripts.record_messages(session=session, conversation_id=conversation,
                                    lines=[("citizen", text, None), *_lines("bot", messages)])
        handoff = handoffs.active_handoff(session=session, conversation_id=conversation)
        if handoff is not None and handoff.last_citizen_at is None:
            handoff.last_citizen_at = now
            if channel != "web":
                handoff.reply_address = seal(raw_sender)
        return handoff.status if handoff is not None else None


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


async def handle_turn(channel: str, raw_sender: str, text: str, *, message_id: str | None = None) -> Turn:
    """One citizen turn on any channel: to the operator while handed off, else to Rasa; recorded either way."""
    conversation = rasa_sender(raw_sender, channel)
    now = utcnow()
    before: list[BotMessage] = []
    try:
        # The store is synchronous: in a worker thread, so a slow disk never stalls other citizens' turns.
        handled = await asyncio.to_thread(_before_rasa, channel, raw_sender, conversation, text, now)
        if handled is not None:
            if handled.closed is not None:
                await handback.hand_back(*handled.closed)
            if not handled.to_rasa:
                return Turn(handled.answer, conversation, handled.status)
            before = handled.answer
    except Exception:  # the store is down: the citizen still gets the bot (never stuck)
        log.exception("transcript not recorded for a %s turn", channel)
    messages = [*before, *await forward_to_rasa(raw_sender, words_of(text), channel, message_id=message_id)]
    status = None
    try:
        status = await asyncio.to_thread(_after_rasa, channel, raw_sender, conversation, text, messages, now)
    except Exception:
        log.exception("bot answer not recorded for a %s turn", channel)
    return Turn(messages, conversation, status)
