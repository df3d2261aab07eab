"""service_keys (the QR signing seed drawn on first start); which gate checked a ticket in.

Also an index for the gate's day lists (a day's used and refunded tickets).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
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
    """Apply this revision."""
    op.create_table(
        "service_keys",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_service_keys")),
    )
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("checked_in_device", sa.String(length=64), nullable=True))
        batch.create_index("ix_tickets_visit_status", ["visit_date", "status"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_visit_status")
        batch.drop_column("checked_in_device")
    op.drop_table("service_keys")
