"""CSV export for /export: the payments and the admin log of the last days, for spreadsheets.

Nothing of it is held whole in memory or done on the event loop: rows come from the database
in chunks (`Reader.stream`: a server-side cursor on PostgreSQL, a connection of its own in a
worker thread on SQLite), and each chunk is written as CSV to a temporary file in a worker
thread. A file that would pass Telegram's 50 MB upload limit is cut into parts, each with the
BOM and the header row so it opens in a spreadsheet alone. The caller sends the files and then
removes them (`ExportFiles.remove`, or `with files:`).
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Self
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import AuditLog, Payment
from db.reader import Reader
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
# Telegram takes documents up to 50 MB from a bot; a part stays a little under it.
PART_BYTES = 49 * 1000 * 1000
BOM = "\ufeff".encode()


@dataclass(frozen=True, slots=True)
class ExportFiles:
    """Payments and audit rows of a period as CSV files (UTF-8 with a BOM, for spreadsheets).

    `payments_parts` and `audit_parts` are temporary files (one each unless a file would pass
    the upload limit); `remove()` deletes them.
    """

    days: int
    as_of: datetime
    payments_parts: tuple[Path, ...]
    audit_parts: tuple[Path, ...]
    payments: int
    audit_rows: int
    folder: Path

    def remove(self) -> None:
        """Delete the temporary files."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Self:
        """Use the files; they are removed on leaving the block."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Remove the files."""
        self.remove()


_FORMULA_FIRST = frozenset(CSV_FORMULA_STARTS)


def csv_cell(value: object) -> str:
    """Render a CSV cell; text a spreadsheet would run as a formula gets a leading quote."""
    if type(value) is str:  # most cells: the fast path, run for every cell of every row
        return f"'{value}" if value[:1] in _FORMULA_FIRST else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return wire(value)
    text = str(value)
    return f"'{text}" if text[:1] in _FORMULA_FIRST else text


class CsvParts:
    """A CSV file written a chunk of rows at a time, cut into parts under a size limit.

    Not thread-safe, and needs none: `Reader.stream` calls it with one chunk at a time.
    """

    def __init__(
        self,
        folder: Path,
        stem: str,
        header: Sequence[str],
        render: Callable[[Any], Sequence[object]],
        *,
        part_bytes: int = PART_BYTES,
    ) -> None:
        """Write `stem`.csv (then `stem`-part2.csv, ...) in `folder`; `render` maps a row."""
        self._folder = folder
        self._stem = stem
        self._render = render
        self._limit = part_bytes
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")
        self._head = BOM + self._line(header)
        self._file: BinaryIO | None = None
        self._size = 0
        self.parts: list[Path] = []

    def _line(self, cells: Sequence[object]) -> bytes:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow([csv_cell(value) for value in cells])
        return self._buffer.getvalue().encode()

    def _open(self) -> BinaryIO:
        if self._file is not None:
            self._file.close()
        number = len(self.parts) + 1
        path = self._folder / (
            f"{self._stem}.csv" if number == 1 else f"{self._stem}-part{number}.csv"
        )
        self.parts.append(path)
        self._file = path.open("wb")
        self._file.write(self._head)
        self._size = len(self._head)
        return self._file

    def abandon(self) -> None:
        """Close the open part after a failure (the caller removes the folder)."""
        if self._file is not None:
            self._file.close()

    def __call__(self, rows: Sequence[Any]) -> None:
        """Append rows (called in a worker thread): one encode per chunk, per row at a cut."""
        out = self._file or self._open()
        self._buffer.seek(0)
        self._buffer.truncate()
        render = self._render
        self._writer.writerows(map(csv_cell, render(row)) for row in rows)
        data = self._buffer.getvalue().encode()
        if self._size + len(data) <= self._limit:
            out.write(data)
            self._size += len(data)
            return
        for row in rows:  # this chunk crosses the limit: cut between two rows
            line = self._line(render(row))
            if self._size + len(line) > self._limit and self._size > len(self._head):
                out = self._open()
            out.write(line)
            self._size += len(line)

    def close(self) -> tuple[Path, ...]:
        """Finish the last part (a file with the header alone when there were no rows)."""
        if self._file is None:
            self._open()
        assert self._file is not None  # noqa: S101 - opened just above
        self._file.close()
        return tuple(self.parts)


PAYMENT_ROWS = select(
    Payment.id,
    Payment.provider_id,
    Payment.created_at,
    Payment.captured_at,
    Payment.status,
    Payment.cancel_reason,
    Payment.kind,
    Payment.user_id,
    Payment.order_id,
    Payment.plan_code,
    Payment.cohort,
    Payment.amount,
    Payment.refunded_amount,
    Payment.currency,
    Payment.is_test,
    Payment.source,
    Payment.payment_method,
    Payment.description,
    Payment.customer_email,
    Payment.customer_phone,
)
AUDIT_ROWS = select(
    AuditLog.id,
    AuditLog.created_at,
    AuditLog.admin_id,
    AuditLog.action,
    AuditLog.target,
    AuditLog.args,
    AuditLog.result,
)


class Export:
    """Export payments and the admin log as CSV files."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        reader: Reader,
        clock: Clock,
        tz: ZoneInfo,
        part_bytes: int = PART_BYTES,
    ) -> None:
        """Keep the collaborators; moments are written in the shop's time zone `tz`."""
        self._sessionmaker = sessionmaker
        self._reader = reader
        self._clock = clock
        self._tz = tz
        self._part_bytes = part_bytes

    async def export(self, admin_id: int, days: int) -> ExportFiles:
        """Write the payments and audit rows of the last `days` days as CSV files.

        The caller removes them after use (`ExportFiles.remove`).
        """
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
        tz = self._tz

        def moment(value: datetime | None) -> str | None:
            return value.astimezone(tz).isoformat(timespec="seconds") if value else None

        def payment_row(row: Any) -> Sequence[object]:
            cells = list(row)
            cells[2], cells[3] = moment(row.created_at), moment(row.captured_at)
            return cells

        def audit_row(row: Any) -> Sequence[object]:
            args = ", ".join(f"{k}={v}" for k, v in sorted((row.args or {}).items()))
            at = moment(row.created_at)
            return (row.id, at, row.admin_id, row.action, row.target, args, row.result)

        folder = Path(tempfile.mkdtemp(prefix="zooticket-export-"))
        opened: list[CsvParts] = []
        try:
            stamp = f"{now.astimezone(tz):%Y%m%d}"
            payments = CsvParts(
                folder,
                f"payments-{stamp}-{days}d",
                PAYMENT_COLUMNS,
                payment_row,
                part_bytes=self._part_bytes,
            )
            opened.append(payments)
            paid = await self._reader.stream(
                PAYMENT_ROWS.where(Payment.created_at >= since).order_by(Payment.created_at),
                payments,
            )
            log = CsvParts(
                folder,
                f"admin-log-{stamp}-{days}d",
                AUDIT_COLUMNS,
                audit_row,
                part_bytes=self._part_bytes,
            )
            opened.append(log)
            logged = await self._reader.stream(
                AUDIT_ROWS.where(AuditLog.created_at >= since).order_by(AuditLog.id), log
            )
            files = ExportFiles(days, now, payments.close(), log.close(), paid, logged, folder)
        except BaseException:
            for parts in opened:
                parts.abandon()
            shutil.rmtree(folder, ignore_errors=True)
            raise
        await audit.record(
            self._sessionmaker,
            self._clock,
            admin_id,
            "export",
            None,
            args,
            f"{paid} payments, {logged} audit rows",
        )
        return files
