"""Server-side operator sessions, login lock-out, forced password change, and the two-way handoff.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

Sessions get last_seen_at (who is on shift) and ended_at (logout refuses the token); login_failures counts wrong
passwords in a row per username; operators get must_change_password. Handoffs gain their conversation id,
timestamps, the encrypted reply address and the citizen's last message time; chat_messages holds every
conversation's transcript with a per-conversation sequence (the web chat's push cursor). The handoff status
"open" becomes "waiting" (CONTRACT §7); downgrade turns it back.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("password_changed_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("operator_sessions") as batch:
        batch.add_column(sa.Column("last_seen_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("ended_at", sa.DateTime(), nullable=True))
        batch.create_index("ix_operator_sessions_last_seen_at", ["last_seen_at"])
    op.create_table(
        "login_failures",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(), nullable=True),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("username"),
    )
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("conversation_id", sa.String(length=160), nullable=True))
        batch.add_column(sa.Column("taken_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("reply_address", sa.Text(), nullable=True))
        batch.add_column(sa.Column("last_citizen_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("acknowledged", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("callback_phone", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("consultation_id", sa.Integer(), nullable=True))
        batch.create_index("ix_handoffs_conversation_id", ["conversation_id"])
    op.execute("UPDATE handoffs SET status = 'waiting' WHERE status = 'open'")
    op.execute("UPDATE handoffs SET conversation_id = channel || ':' || sender_hash WHERE conversation_id IS NULL")
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=160), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("buttons", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=True),
        sa.Column("pushed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_chat_messages_conversation_seq"),
    )


def downgrade() -> None:
    op.drop_table("chat_messages")
    op.execute("UPDATE handoffs SET status = 'open' WHERE status = 'waiting'")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_index("ix_handoffs_conversation_id")
        for column in ("consultation_id", "callback_phone", "acknowledged", "last_citizen_at", "reply_address",
                       "closed_at", "taken_at", "conversation_id"):
            batch.drop_column(column)
    op.drop_table("login_failures")
    with op.batch_alter_table("operator_sessions") as batch:
        batch.drop_index("ix_operator_sessions_last_seen_at")
        batch.drop_column("ended_at")
        batch.drop_column("last_seen_at")
    with op.batch_alter_table("operators") as batch:
        batch.drop_column("password_changed_at")
        batch.drop_column("must_change_password")
