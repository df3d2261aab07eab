"""Auto-renewal: the saved method on subscriptions, consents, and one renewal row per period.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
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
    """Apply this revision."""
    op.create_table(
        "renewal_consents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.String(length=16), nullable=True),
        sa.Column("text_version", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("plan_code", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "channel IN ('bot', 'miniapp', 'api')", name=op.f("ck_renewal_consents_channel_known")
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_renewal_consents_amount_positive")),
        sa.CheckConstraint("days > 0", name=op.f("ck_renewal_consents_days_positive")),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_renewal_consents_payment_id_payments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_renewal_consents_subscription_id_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_renewal_consents_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renewal_consents")),
    )
    with op.batch_alter_table("renewal_consents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_renewal_consents_payment_id"), ["payment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_renewal_consents_user_id"), ["user_id"], unique=False)

    op.create_table(
        "renewals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=48), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plan_code", sa.String(length=32), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_reason", sa.String(length=64), nullable=True),
        sa.Column("payment_id", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('scheduled', 'charging', 'retry', 'succeeded', 'failed', 'stopped', "
            "'superseded')",
            name=op.f("ck_renewals_status_known"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_renewals_amount_positive")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_renewals_attempts_non_negative")),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_renewals_payment_id_payments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_renewals_subscription_id_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_renewals_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renewals")),
        sa.UniqueConstraint("key", name=op.f("uq_renewals_key")),
        sa.UniqueConstraint(
            "subscription_id", "period_start", name="uq_renewals_subscription_period"
        ),
    )
    with op.batch_alter_table("renewals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_renewals_status_next", ["status", "next_attempt_at"], unique=False
        )

    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("auto_renew", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch_op.add_column(sa.Column("renew_method_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("renew_method_title", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("renewal_state", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("grace_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("grace_until")
        batch_op.drop_column("renewal_state")
        batch_op.drop_column("renew_method_title")
        batch_op.drop_column("renew_method_id")
        batch_op.drop_column("auto_renew")

    with op.batch_alter_table("renewals", schema=None) as batch_op:
        batch_op.drop_index("ix_renewals_status_next")

    op.drop_table("renewals")
    with op.batch_alter_table("renewal_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_renewal_consents_user_id"))
        batch_op.drop_index(batch_op.f("ix_renewal_consents_payment_id"))

    op.drop_table("renewal_consents")
