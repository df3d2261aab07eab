"""Lighter rows for the audit events and the transactional messages, which every change writes.

- `payment_events.payment_id` loses its foreign key to `payments`. Each event is written in the
  transaction that changes its payment, from that payment's row (a loaded payment, an UPDATE's
  RETURNING), so the key was never the thing that kept it right; its check ran a locking SELECT
  of the payment for every row inserted: about half of an audit row's cost on PostgreSQL (5.5 µs
  of 11, 2 000 rows at a time). `Sessions.delete` (payments/sessions.py) deletes a payment's
  events itself, as the key's ON DELETE CASCADE did.
- `ix_outbox_broadcast (broadcast_id, status)` holds broadcast rows only (`WHERE broadcast_id IS
  NOT NULL`): the queries it serves ask for one broadcast's rows, and every confirmation, ticket,
  reminder and expiry notice wrote an entry into it for nothing (1.7 µs a row on PostgreSQL).

Measured on the expiry sweep of 100 000 payments on PostgreSQL, six interleaved pairs of fresh
databases: 2.16 s (1.90–2.43) against 2.38 s (2.08–2.66), CPU 3.59 s against 4.07 s.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BROADCAST_ROWS = sa.text("broadcast_id IS NOT NULL")


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("payment_events", schema=None) as batch_op:
        batch_op.drop_constraint("fk_payment_events_payment_id_payments", type_="foreignkey")
    op.drop_index("ix_outbox_broadcast", table_name="outbox")
    op.create_index(
        "ix_outbox_broadcast",
        "outbox",
        ["broadcast_id", "status"],
        postgresql_where=BROADCAST_ROWS,
        sqlite_where=BROADCAST_ROWS,
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_outbox_broadcast", table_name="outbox")
    op.create_index("ix_outbox_broadcast", "outbox", ["broadcast_id", "status"])
    # The key is checked over every event again: one whose payment is gone would fail it.
    with op.batch_alter_table("payment_events", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_payment_events_payment_id_payments",
            "payments",
            ["payment_id"],
            ["id"],
            ondelete="CASCADE",
        )
