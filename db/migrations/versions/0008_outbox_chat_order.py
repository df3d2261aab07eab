"""An index for the lane's per-chat order: is an earlier message of this chat still unsent?

`ix_outbox_chat (chat_id, status, id)`: the claim skips a row while an earlier row of its chat
is unsent (pending, sending or delivering; payments/outbox/rows.py), one seek per candidate row.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_outbox_chat", "outbox", ["chat_id", "status", "id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_outbox_chat", table_name="outbox")
