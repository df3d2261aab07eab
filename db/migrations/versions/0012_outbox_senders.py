"""The sending lanes that are running, so that several instances share one Telegram budget.

Each lane writes its row every second and counts the rows seen within the last few seconds;
its budget is `OUTBOX_RATE` divided by that count. Before, every instance sent at `OUTBOX_RATE`
and two of them at 29 a second could send 58.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "outbox_senders",
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("instance_id", name=op.f("pk_outbox_senders")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("outbox_senders")
