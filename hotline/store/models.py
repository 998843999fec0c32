"""Typed SQLAlchemy 2 models. The schema changes only through Alembic revisions in migrations/versions."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hotline import clock


def utcnow() -> datetime:
    """Naive UTC, as every DateTime column stores it (hotline.clock: tests freeze it there)."""
    return clock.utcnow()


class Base(DeclarativeBase):
    pass


class Consultation(Base):
    """One consultation handled by the bot, an operator or an import (CONTRACT §5)."""

    __tablename__ = "consultations"
    __table_args__ = (
        Index("ix_consultations_occurred_service", "occurred_at", "service"),
        # For hotline.stats (revision 0002): key then occurred_at, so "key = k in a date range" is one index
        # range; the service index also carries what the headline figures read, so no table row is fetched.
        Index("ix_consultations_service_occurred", "service", "occurred_at", "outcome", "migrant_worker", "persons"),
        Index("ix_consultations_category_occurred", "category", "occurred_at"),
        Index("ix_consultations_street_occurred", "street", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # naive UTC
    service: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(32))
    migrant_worker: Mapped[bool] = mapped_column(Boolean, default=False)
    persons: Mapped[int] = mapped_column(Integer, default=1)
    street: Mapped[str | None] = mapped_column(String(64))
    community: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(32))
    referral: Mapped[str | None] = mapped_column(String(128))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    eligibility: Mapped[str | None] = mapped_column(String(16))
    legal_basis: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    # Contact number given with consent; masked on every read-out, cleared by `hotline purge`.
    phone: Mapped[str | None] = mapped_column(String(32))
    sender_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    operator: Mapped[str | None] = mapped_column(String(64))
    source_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    # Set by `hotline purge`: summary and contact details cleared, counts kept.
    purged: Mapped[bool] = mapped_column(Boolean, default=False)


class Advisor(Base):
    """One row of the 一村（社区）一法律顾问 roster: a community, its advisor and its 司法所."""

    __tablename__ = "advisors"
    __table_args__ = (UniqueConstraint("street", "community", name="uq_advisors_street_community"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    street: Mapped[str] = mapped_column(String(64), index=True)
    community: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str | None] = mapped_column(String(16))
    aliases: Mapped[str | None] = mapped_column(String(256))  # '|'-separated
    advisor: Mapped[str | None] = mapped_column(String(64))
    advisor_firm: Mapped[str | None] = mapped_column(String(128))
    advisor_phone: Mapped[str | None] = mapped_column(String(32))
    justice_office: Mapped[str | None] = mapped_column(String(64))
    office_address: Mapped[str | None] = mapped_column(String(256))
    office_phone: Mapped[str | None] = mapped_column(String(32))
    office_hours: Mapped[str | None] = mapped_column(String(128))
    sample: Mapped[bool] = mapped_column(Boolean, default=False)


class Operator(Base):
    """A copilot login for a hotline operator."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set for a new login (its password was printed once by the CLI): the console asks for a new one first.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # What a citizen sees when this operator answers (「值班人员 · 黄律师」); None: 「值班人员」 alone, never the login name.
    display_name: Mapped[str | None] = mapped_column(String(32))


class LoginFailures(Base):
    """Wrong passwords in a row per username (known or not): five lock the name out for a while (OWASP)."""

    __tablename__ = "login_failures"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(DateTime)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)


class OperatorSession(Base):
    """A bearer token issued at login; only its SHA-256 is stored."""

    __tablename__ = "operator_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)  # "on shift" reads this
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)  # logout: the token is refused from then on


class Handoff(Base):
    """A citizen who asked for a person: the operator queue reads these."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender_hash: Mapped[str] = mapped_column(String(64), index=True)
    category: Mapped[str | None] = mapped_column(String(32))
    summary: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="waiting")  # waiting | taken | closed
    operator: Mapped[str | None] = mapped_column(String(64))
    conversation_id: Mapped[str | None] = mapped_column(String(160), index=True)  # "channel:sender_hash"
    taken_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The raw chat id (WeChat openid, Telegram chat id), encrypted with the secret key: needed to deliver the
    # operator's replies, kept only while the handoff is open.
    reply_address: Mapped[str | None] = mapped_column(Text)
    last_citizen_at: Mapped[datetime | None] = mapped_column(DateTime)  # WeChat's 48-hour window starts here
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    callback_phone: Mapped[str | None] = mapped_column(String(32))  # given with consent after hours
    consultation_id: Mapped[int | None] = mapped_column(Integer)  # the log row written when it closed


class ChatMessage(Base):
    """One line of a conversation's transcript; `seq` counts per conversation and is the web chat's push cursor."""

    __tablename__ = "chat_messages"
    __table_args__ = (UniqueConstraint("conversation_id", "seq", name="uq_chat_messages_conversation_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(160))
    seq: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(16))  # citizen | bot | operator
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[str | None] = mapped_column(Text)  # JSON list of {title, payload}
    at: Mapped[datetime] = mapped_column(DateTime)
    operator: Mapped[str | None] = mapped_column(String(64))
    pushed: Mapped[bool] = mapped_column(Boolean, default=False)  # delivered later (operator words, notices)


class DocumentDraft(Base):
    """A draft paper made for a citizen (issue 25): its content and files are sealed (Fernet, key from the secret
    key), so the personal fields are encrypted at rest; `hotline purge` deletes the row (default after 30 days)."""

    __tablename__ = "document_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # arbitration | legal_aid
    channel: Mapped[str] = mapped_column(String(16))
    sender_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    operator: Mapped[str | None] = mapped_column(String(64))  # made from the console for a caller
    deadline: Mapped[date | None] = mapped_column(Date)  # the arbitration period's last day: no personal data
    sealed_content: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_docx: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    downloads: Mapped[int] = mapped_column(Integer, default=0)


class Reminder(Base):
    """A deadline reminder the citizen agreed to: one row per day it falls on (30 and 7 days before the end)."""

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_status_due", "status", "due_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    channel: Mapped[str] = mapped_column(String(16))
    sender_hash: Mapped[str] = mapped_column(String(64), index=True)
    # The raw chat id (Telegram chat, WeChat openid), sealed like a handoff's: needed to reach the citizen later.
    reply_address: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[date] = mapped_column(Date)
    days_before: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | held | stopped | failed
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
