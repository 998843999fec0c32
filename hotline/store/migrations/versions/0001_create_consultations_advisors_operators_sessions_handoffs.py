"""Create the consultation log, the advisor roster, operator logins and sessions, and the handoff queue.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Mirrors hotline/store/models.py as first written; tests/test_migrations.py checks that a database migrated to
head has exactly the models' schema on SQLite and PostgreSQL.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consultations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("migrant_worker", sa.Boolean(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("street", sa.String(length=64), nullable=True),
        sa.Column("community", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("referral", sa.String(length=128), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("eligibility", sa.String(length=16), nullable=True),
        sa.Column("legal_basis", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("sender_hash", sa.String(length=64), nullable=True),
        sa.Column("operator", sa.String(length=64), nullable=True),
        sa.Column("source_id", sa.String(length=128), nullable=True),
        sa.Column("purged", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id"),
    )
    op.create_index("ix_consultations_occurred_at", "consultations", ["occurred_at"])
    op.create_index("ix_consultations_occurred_service", "consultations", ["occurred_at", "service"])
    op.create_index("ix_consultations_sender_hash", "consultations", ["sender_hash"])

    op.create_table(
        "advisors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("street", sa.String(length=64), nullable=False),
        sa.Column("community", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("aliases", sa.String(length=256), nullable=True),
        sa.Column("advisor", sa.String(length=64), nullable=True),
        sa.Column("advisor_firm", sa.String(length=128), nullable=True),
        sa.Column("advisor_phone", sa.String(length=32), nullable=True),
        sa.Column("justice_office", sa.String(length=64), nullable=True),
        sa.Column("office_address", sa.String(length=256), nullable=True),
        sa.Column("office_phone", sa.String(length=32), nullable=True),
        sa.Column("office_hours", sa.String(length=128), nullable=True),
        sa.Column("sample", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("street", "community", name="uq_advisors_street_community"),
    )
    op.create_index("ix_advisors_street", "advisors", ["street"])

    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )

    op.create_table(
        "operator_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )

    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("sender_hash", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handoffs_created_at", "handoffs", ["created_at"])
    op.create_index("ix_handoffs_sender_hash", "handoffs", ["sender_hash"])


def downgrade() -> None:
    # Reverse order of creation: operator_sessions references operators.
    op.drop_index("ix_handoffs_sender_hash", table_name="handoffs")
    op.drop_index("ix_handoffs_created_at", table_name="handoffs")
    op.drop_table("handoffs")
    op.drop_table("operator_sessions")
    op.drop_table("operators")
    op.drop_index("ix_advisors_street", table_name="advisors")
    op.drop_table("advisors")
    op.drop_index("ix_consultations_sender_hash", table_name="consultations")
    op.drop_index("ix_consultations_occurred_service", table_name="consultations")
    op.drop_index("ix_consultations_occurred_at", table_name="consultations")
    op.drop_table("consultations")
