"""Draft papers and deadline reminders (issue 25).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

document_drafts keeps each draft's content and files sealed (encrypted with the secret key) until `hotline purge`
deletes it; reminders holds the deadline reminders a citizen agreed to, one row per day, so a restart loses none.
Downgrade drops both tables (the drafts and reminders go with them).
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("sender_hash", sa.String(length=64), nullable=True),
        sa.Column("operator", sa.String(length=64), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("sealed_content", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_docx", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_pdf", sa.LargeBinary(), nullable=True),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_document_drafts_created_at", "document_drafts", ["created_at"])
    op.create_index("ix_document_drafts_sender_hash", "document_drafts", ["sender_hash"])
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("sender_hash", sa.String(length=64), nullable=False),
        sa.Column("reply_address", sa.Text(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reminders_sender_hash", "reminders", ["sender_hash"])
    op.create_index("ix_reminders_status_due", "reminders", ["status", "due_on"])


def downgrade() -> None:
    op.drop_index("ix_reminders_status_due", table_name="reminders")
    op.drop_index("ix_reminders_sender_hash", table_name="reminders")
    op.drop_table("reminders")
    op.drop_index("ix_document_drafts_sender_hash", table_name="document_drafts")
    op.drop_index("ix_document_drafts_created_at", table_name="document_drafts")
    op.drop_table("document_drafts")
