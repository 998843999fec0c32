"""Conversation transcripts: every line a citizen, the bot or an operator said, and the web chat's push cursor.
The only SQL about the `chat_messages` table."""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.orm import Session

from hotline.store.errors import StoreError
from hotline.store.models import ChatMessage, utcnow

MESSAGE_AUTHORS = ("citizen", "bot", "operator")


# Every citizen turn reads the sequence and inserts its lines: Core statements on the table, built once. The ORM's
# select and bulk insert cost the web app 0.9-1.5 ms a turn against 0.5-0.66 (issue 28, its cache keys and bulk
# persistence path).
_TABLE = cast(Table, ChatMessage.__table__)
_LAST_SEQ = select(func.max(_TABLE.c.seq)).where(_TABLE.c.conversation_id == bindparam("conversation"))
_INSERT = _TABLE.insert()


def _next_seq(session: Session, conversation_id: str) -> int:
    last = session.execute(_LAST_SEQ, {"conversation": conversation_id}).scalar()
    return (last or 0) + 1


def _check_authors(lines: Sequence[tuple[str, str, list[dict[str, Any]] | None]]) -> None:
    if any(author not in MESSAGE_AUTHORS for author, _, _ in lines):
        raise StoreError(f"unknown message author in {[a for a, _, _ in lines]!r}")


def record_message(
    *, session: Session, conversation_id: str, author: str, text: str, buttons: list[dict[str, Any]] | None = None,
    operator: str | None = None, pushed: bool = False,
) -> ChatMessage:
    """Append one line to a conversation's transcript (author citizen | bot | operator); the row is returned."""
    _check_authors([(author, text, buttons)])
    row = ChatMessage(conversation_id=conversation_id, seq=_next_seq(session, conversation_id), author=author,
                      text=text, buttons=json.dumps(buttons, ensure_ascii=False) if buttons else None, at=utcnow(),
                      operator=operator or None, pushed=pushed)
    session.add(row)
    session.flush()
    return row


def record_messages(
    *, session: Session, conversation_id: str, lines: Sequence[tuple[str, str, list[dict[str, Any]] | None]],
    operator: str | None = None, pushed: bool = False,
) -> None:
    """Append (author, text, buttons) lines in order: one sequence read and one insert (a turn's words and answers).

    Every citizen turn writes here, so it is a plain insert, not ORM objects (profile_web_gil2.md of 4551f20)."""
    _check_authors(lines)
    first, now = _next_seq(session, conversation_id), utcnow()
    session.execute(_INSERT, [
        {"conversation_id": conversation_id, "seq": first + i, "author": author, "text": text,
         "buttons": json.dumps(buttons, ensure_ascii=False) if buttons else None, "at": now,
         "operator": operator or None, "pushed": pushed}
        for i, (author, text, buttons) in enumerate(lines)])


def transcript(*, session: Session, conversation_id: str, since: datetime | None = None,
               limit: int = 500) -> list[ChatMessage]:
    """A conversation's lines in order (the last `limit`, from `since` on when given)."""
    query = select(ChatMessage).where(ChatMessage.conversation_id == conversation_id)
    if since is not None:
        query = query.where(ChatMessage.at >= since)
    rows = list(session.scalars(query.order_by(ChatMessage.seq.desc()).limit(limit)))
    return rows[::-1]


def last_line_at(*, session: Session, conversation_id: str, author: str, since: datetime) -> datetime | None:
    """When `author` last spoke in the conversation, from `since` on (None: not since then)."""
    return session.scalar(select(func.max(ChatMessage.at)).where(
        ChatMessage.conversation_id == conversation_id, ChatMessage.author == author, ChatMessage.at >= since))


def pushed_since(*, session: Session, conversation_id: str, since: int) -> tuple[list[ChatMessage], int]:
    """Lines to push to the web chat after cursor `since`, and the new cursor (the conversation's last seq)."""
    rows = list(session.scalars(
        select(ChatMessage)
        .where(ChatMessage.conversation_id == conversation_id, ChatMessage.seq > since, ChatMessage.pushed.is_(True))
        .order_by(ChatMessage.seq)
    ))
    last = session.scalar(select(func.max(ChatMessage.seq)).where(ChatMessage.conversation_id == conversation_id))
    return rows, max(since, last or 0)


def message_buttons(row: ChatMessage) -> list[dict[str, Any]]:
    try:
        return list(json.loads(row.buttons)) if row.buttons else []
    except ValueError:
        return []
