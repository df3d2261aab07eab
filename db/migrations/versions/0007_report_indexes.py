"""Indexes that serve the admin's reports, so /stats and /export read ranges, not tables.

- `ix_payments_status_captured (status, captured_at, created_at)`: /stats' paid payments of the
  last 30 days, `status = 'succeeded' AND (captured_at >= :since OR (captured_at IS NULL AND
  created_at >= :since))`: two ranges of one index (SQLite's OR-by-union, PostgreSQL's BitmapOr).
- `ix_payments_created (created_at)`: /export's `created_at >= :since ORDER BY created_at`, read
  in index order, so streaming needs no sort.
- `ix_tickets_created (created_at)`: tickets issued in the period.
- `ix_refunds_applied (applied_at)`: refunds applied in the period.
- `ix_audit_log_created (created_at)`: /export's admin log of the period.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_payments_status_captured", "payments", ["status", "captured_at", "created_at"]),
    ("ix_payments_created", "payments", ["created_at"]),
    ("ix_tickets_created", "tickets", ["created_at"]),
    ("ix_refunds_applied", "refunds", ["applied_at"]),
    ("ix_audit_log_created", "audit_log", ["created_at"]),
)


def upgrade() -> None:
    """Apply this revision."""
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    """Revert this revision."""
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
