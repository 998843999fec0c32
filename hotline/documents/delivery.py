"""Sending the deadline reminders that are due (`hotline reminders send`, run daily by cron or a systemd timer).

Web chat: the line is pushed into the conversation's transcript (the page fetches it). Telegram: the Bot API's
sendMessage (TELEGRAM_BOT_TOKEN; TELEGRAM_API_BASE for tests). WeChat: the platform lets an account message a
follower only within 48 hours of the follower's last message, and a template message needs a template approved for
the account, which this deployment does not have — so the reminder is held and given the next time the citizen
writes (bot/documents.py). The words are domain/documents.yml's utter_deadline_reminder.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import httpx
from sqlalchemy.orm import Session

from hotline import wording
from hotline.documents import sealing
from hotline.law.params import parameter_or_none
from hotline.settings import get_settings
from hotline.store import documents as store
from hotline.store import transcripts
from hotline.store.models import Reminder

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


def reminder_text(reminder: Reminder) -> str:
    deadline = reminder.deadline
    # The article the deadline rests on, from the law data in force on the day it was computed for (第二十七条).
    limitation = parameter_or_none("labor_arbitration.limitation", deadline)
    return wording.text("utter_deadline_reminder", deadline=f"{deadline.year}年{deadline.month}月{deadline.day}日",
                        days=str(reminder.days_before), basis=limitation.citation if limitation else "")


@dataclass
class SendReport:
    sent: int = 0
    held: int = 0
    failed: int = 0
    lines: list[str] = field(default_factory=list)


def _telegram(chat_id: str, text: str) -> bool:
    token = get_settings().telegram_bot_token
    if not token:
        return False
    base = get_settings().telegram_api_base
    try:
        response = httpx.post(f"{base}/bot{token}/sendMessage", json={"chat_id": chat_id, "text": text},
                              timeout=10)
    except httpx.HTTPError as exc:
        log.warning("reminder not sent on Telegram: %s", type(exc).__name__)
        return False
    return response.status_code == 200 and bool(response.json().get("ok"))


def send_due(*, session: Session, today: dt.date, now: dt.datetime | None = None) -> SendReport:
    """Send every pending reminder due on or before `today` (and before its deadline); the rows say what happened."""
    report = SendReport()
    for reminder in store.due_reminders(session=session, today=today):
        text = reminder_text(reminder)
        if reminder.channel == "web":
            transcripts.record_message(session=session, conversation_id=f"web:{reminder.sender_hash}",
                                       author="bot", text=text, pushed=True)
            status = "sent"
        elif reminder.channel == "telegram":
            address = sealing.unseal_address(reminder.reply_address)
            ok = address is not None and _telegram(address, text)
            status = "sent" if ok else ("failed" if reminder.attempts + 1 >= MAX_ATTEMPTS else "pending")
        elif reminder.channel == "wechat":
            status = "held"
        else:
            status = "failed"
        store.mark_reminder(session=session, reminder=reminder, status=status, now=now)
        if status == "sent":
            report.sent += 1
        elif status == "held":
            report.held += 1
        else:
            report.failed += 1
        report.lines.append(f"reminder {reminder.id} ({reminder.channel}, {reminder.days_before} days before "
                            f"{reminder.deadline.isoformat()}): {status}")
    return report
