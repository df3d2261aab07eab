"""CSV export for /export: the payments and the admin log of the last days, for spreadsheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import AuditLog, Payment
from db.repositories import audit as audit_repo
from payments.admin import audit
from payments.admin.results import Refusal
from payments.money import wire
from payments.ports import Clock

MAX_EXPORT_DAYS = 3660
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PAYMENT_COLUMNS = (
    "payment_id",
    "provider_id",
    "created_at",
    "captured_at",
    "status",
    "cancel_reason",
    "kind",
    "user_id",
    "order_id",
    "plan_code",
    "cohort",
    "amount",
    "refunded_amount",
    "currency",
    "is_test",
    "source",
    "payment_method",
    "description",
    "customer_email",
    "customer_phone",
)
AUDIT_COLUMNS = ("id", "at", "admin_id", "action", "target", "args", "result")


@dataclass(frozen=True, slots=True)
class ExportFiles:
    """Payments and audit rows of a period as CSV files (UTF-8 with a BOM, for spreadsheets)."""

    days: int
    as_of: datetime
    payments_csv: bytes
    audit_csv: bytes
    payments: int
    audit_rows: int


def csv_cell(value: object) -> str:
    """Render a CSV cell; text a spreadsheet would run as a formula gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return wire(value)
    text = str(value)
    return f"'{text}" if text.startswith(CSV_FORMULA_STARTS) else text


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def _audit_row(entry: AuditLog, at: str | None) -> tuple[object, ...]:
    args = ", ".join(f"{k}={v}" for k, v in sorted((entry.args or {}).items()))
    return (entry.id, at, entry.admin_id, entry.action, entry.target, args, entry.result)


class Export:
    """Export payments and the admin log as CSV."""

    def __init__(
        self, *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, tz: ZoneInfo
    ) -> None:
        """Keep the collaborators; moments are written in the shop's time zone `tz`."""
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._tz = tz

    async def export(self, admin_id: int, days: int) -> ExportFiles:
        """Return the payments and audit rows of the last `days` days as CSV files."""
        args: dict[str, Any] = {"days": days}
        if not 0 < days <= MAX_EXPORT_DAYS:
            await audit.refuse(
                self._sessionmaker,
                self._clock,
                admin_id,
                "export",
                None,
                args,
                Refusal("export_days", f"days must be 1..{MAX_EXPORT_DAYS}", max=MAX_EXPORT_DAYS),
            )
        now = self._clock.now()
        since = now - timedelta(days=days)
        async with self._sessionmaker() as session:
            payments = list(
                (
                    await session.execute(
                        select(Payment)
                        .where(Payment.created_at >= since)
                        .order_by(Payment.created_at)
                    )
                ).scalars()
            )
            audit_rows = await audit_repo.since(session, since)

        def moment(value: datetime | None) -> str | None:
            return value.astimezone(self._tz).isoformat(timespec="seconds") if value else None

        payments_csv = _csv(
            PAYMENT_COLUMNS,
            [
                (
                    p.id,
                    p.provider_id,
                    moment(p.created_at),
                    moment(p.captured_at),
                    p.status,
                    p.cancel_reason,
                    p.kind,
                    p.user_id,
                    p.order_id,
                    p.plan_code,
                    p.cohort,
                    p.amount,
                    p.refunded_amount,
                    p.currency,
                    p.is_test,
                    p.source,
                    p.payment_method,
                    p.description,
                    p.customer_email,
                    p.customer_phone,
                )
                for p in payments
            ],
        )
        audit_csv = _csv(AUDIT_COLUMNS, [_audit_row(a, moment(a.created_at)) for a in audit_rows])
        await audit.record(
            self._sessionmaker,
            self._clock,
            admin_id,
            "export",
            None,
            args,
            f"{len(payments)} payments, {len(audit_rows)} audit rows",
        )
        return ExportFiles(days, now, payments_csv, audit_csv, len(payments), len(audit_rows))
