"""The name a citizen sees when an operator answers (issue 21).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

operators gain display_name (e.g. 黄律师): the web chat shows 「值班人员 · 黄律师」 above the operator's words and WeChat
and Telegram put 【值班人员 · 黄律师】 in front. Empty for existing logins (they show 「值班人员」 alone: a login name is
the bureau's, never shown to citizens). Downgrade drops the column.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.add_column(sa.Column("display_name", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.drop_column("display_name")
