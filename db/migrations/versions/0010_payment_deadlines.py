"""The open payments' deadlines in a table of their own, so no index of `payments` holds a status.

The expiry sweep writes a payment's status, cancel reason and update time. While
`ix_payments_status_expires (status, expires_at)` and `ix_payments_status_captured (status,
captured_at, created_at)` held its status, each canceled payment wrote a new entry in all eight
of the table's indexes; on PostgreSQL those B-tree inserts were about half of a sweep's time.
With no index on a column the sweep writes, and room left on each page (fillfactor 50), the new
version of a row stays on its page with no index entry (a heap-only update).

- `payment_deadlines (payment_id, expires_at)`: one row for each payment that may be open. The
  database writes it when a payment is inserted pending or waiting for capture, or comes back to
  one of those (a canceled payment YooKassa authorised after all): triggers, so no path that
  creates a payment can leave one out; a payment's new `expires_at` moves its deadline (an
  operator's or a test's UPDATE). The sweep deletes the rows it cancels and, once due,
  those of payments that finished meanwhile. Filled here from the open payments.
- `ix_payments_captured (captured_at, created_at)`: /stats' paid payments, as the status index
  served them (the statuses that have a capture time are few).
- `ix_payment_events_created (created_at)`: the recheck finds the payments canceled lately from
  their events.
- PostgreSQL: `payments` keeps half of each new page free. Pages written before keep their
  layout until the table is rewritten (`VACUUM FULL payments`, at a quiet hour).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "('pending', 'waiting_for_capture')"
ADD = (
    "INSERT INTO payment_deadlines (payment_id, expires_at) VALUES (NEW.id, NEW.expires_at) "
    "ON CONFLICT (payment_id) DO NOTHING"
)
FILL = (
    "INSERT INTO payment_deadlines (payment_id, expires_at) "
    "SELECT id, expires_at FROM payments WHERE status IN ('pending', 'waiting_for_capture')"
)
MOVE = "UPDATE payment_deadlines SET expires_at = NEW.expires_at WHERE payment_id = NEW.id"
SQLITE_TRIGGERS = (
    f"CREATE TRIGGER payments_open_inserted AFTER INSERT ON payments "
    f"WHEN NEW.status IN {OPEN} BEGIN {ADD}; END",
    f"CREATE TRIGGER payments_open_again AFTER UPDATE OF status ON payments "
    f"WHEN NEW.status IN {OPEN} AND OLD.status NOT IN {OPEN} BEGIN {ADD}; END",
    f"CREATE TRIGGER payments_deadline_moved AFTER UPDATE OF expires_at ON payments "
    f"BEGIN {MOVE}; END",
)
POSTGRESQL_TRIGGERS = (
    f"CREATE FUNCTION payment_deadline_added() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN {ADD}; RETURN NULL; END $$",
    f"CREATE FUNCTION payment_deadline_moved() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN {MOVE}; RETURN NULL; END $$",
    f"CREATE TRIGGER payments_open_inserted AFTER INSERT ON payments FOR EACH ROW "
    f"WHEN (NEW.status IN {OPEN}) EXECUTE FUNCTION payment_deadline_added()",
    f"CREATE TRIGGER payments_open_again AFTER UPDATE OF status ON payments FOR EACH ROW "
    f"WHEN (NEW.status IN {OPEN} AND OLD.status NOT IN {OPEN}) "
    f"EXECUTE FUNCTION payment_deadline_added()",
    "CREATE TRIGGER payments_deadline_moved AFTER UPDATE OF expires_at ON payments FOR EACH ROW "
    "WHEN (NEW.expires_at IS DISTINCT FROM OLD.expires_at) "
    "EXECUTE FUNCTION payment_deadline_moved()",
)
TRIGGERS = ("payments_deadline_moved", "payments_open_again", "payments_open_inserted")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "payment_deadlines",
        sa.Column("payment_id", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_payment_deadlines_payment_id_payments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_payment_deadlines")),
    )
    op.create_index("ix_payment_deadlines_expires", "payment_deadlines", ["expires_at"])
    op.execute(FILL)
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)
    op.create_index("ix_payments_captured", "payments", ["captured_at", "created_at"])
    op.drop_index("ix_payments_status_captured", table_name="payments")
    op.drop_index("ix_payments_status_expires", table_name="payments")
    op.create_index("ix_payment_events_created", "payment_events", ["created_at"])
    if postgresql:
        op.execute("ALTER TABLE payments SET (fillfactor = 50)")


def downgrade() -> None:
    """Revert this revision."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("ALTER TABLE payments RESET (fillfactor)")
    op.drop_index("ix_payment_events_created", table_name="payment_events")
    op.create_index("ix_payments_status_expires", "payments", ["status", "expires_at"])
    op.create_index(
        "ix_payments_status_captured", "payments", ["status", "captured_at", "created_at"]
    )
    op.drop_index("ix_payments_captured", table_name="payments")
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger}" + (" ON payments" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION payment_deadline_moved()")
        op.execute("DROP FUNCTION payment_deadline_added()")
    op.drop_index("ix_payment_deadlines_expires", table_name="payment_deadlines")
    op.drop_table("payment_deadlines")
