"""The outbox's status 'delivering': a broadcast row whose send has started.

Set just before the send of a broadcast row (before its budget token). A row whose lease runs out
in this state may have reached Telegram before its instance died: it is given up instead of
being sent again, so no recipient gets a broadcast twice (payments/outbox/rows.py).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WITH_DELIVERING = "status IN ('pending', 'sending', 'delivering', 'sent', 'failed', 'canceled')"
WITHOUT_DELIVERING = "status IN ('pending', 'sending', 'sent', 'failed', 'canceled')"


def _check(condition: str) -> None:
    # SQLite cannot alter a constraint: batch mode copies the table (PostgreSQL alters it).
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("ck_outbox_status_known"), type_="check")
        batch.create_check_constraint(op.f("ck_outbox_status_known"), condition)


def upgrade() -> None:
    """Apply this revision."""
    _check(WITH_DELIVERING)


def downgrade() -> None:
    """Revert this revision: a row being delivered counts as claimed again (its lease holds)."""
    op.execute("UPDATE outbox SET status = 'sending' WHERE status = 'delivering'")
    _check(WITHOUT_DELIVERING)
