"""Scheduled sweeps: reconcile, recheck, expire, and (payments/subscriptions/sweeps.py) remind
and lapse. Each is set-based and safe to run twice.

Every state change inside a sweep is the same conditional UPDATE the webhook uses, so two
instances running the same sweep at once cannot double anything: the loser's UPDATE matches
no row.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, cast

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Select, String, Table, and_, literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from db.models import Payment, PaymentDeadline, PaymentEvent, User
from db.repositories import payments as payments_repo
from db.repositories import sweeps as sweeps_repo
from db.repositories.sweeps import Chunk
from payments.fulfilment import REVIVABLE, Fulfilment, Outcome
from payments.metrics import timed_job
from payments.outbox.notes import notes_insert
from payments.ports import (
    Clock,
    PaymentCanceled,
    PaymentGateway,
)
from payments.rounds import Round, SweepReport, check_bounded
from payments.subscriptions.sweeps import SubscriptionSweeps
from payments.tickets.seats import release_orders
from payments.types import CancelReason, PaymentStatus, ProviderPayment
from payments.yookassa.gateway import GatewayError

log = logging.getLogger(__name__)

RECONCILE_AFTER = timedelta(minutes=3)
RECHECK_WINDOW = timedelta(minutes=90)
BATCH = 500
EXPIRE_CHUNK = 2000
# On SQLite a chunk of the expiry sweep holds the event loop from its UPDATE to its commit (the
# statements run in place, see db/sqlite_loop.py): 2 000 payments with their events, seats and
# notices took 0.5 s on the bench machine, and a backlog of them stalled every customer (and
# an admin's /stats) once per chunk. So the sweep starts with a small chunk and sizes the next
# one by how long the last one took (`next_chunk`: about CHUNK_AIM, never past
# `expire_chunk`). PostgreSQL awaits its statements (the loop is free meanwhile), so there
# every chunk is `expire_chunk`.
EXPIRE_FIRST_CHUNK = 100
# Chunks of the expiry sweep in flight at once on PostgreSQL (two pooled connections).
EXPIRE_WORKERS = 2
CHUNK_SECONDS = 0.025
# What the next chunk aims at: a little under CHUNK_SECONDS, so the noise in a chunk's time
# seldom carries it past.
CHUNK_AIM = 0.8 * CHUNK_SECONDS
# Checks of the reconcilers in flight at once: they share the gateway's connections
# (YOOKASSA_CONCURRENCY, possibly as few as one) with checkouts, the webhook's
# re-fetches and the customers' status checks; four at a time leave the rest of it to them.
RECONCILE_PARALLEL = 4


def expiry_notes(dialect: str, rows: FromClause, where: ColumnElement[bool]) -> Any:
    """The messages to the customers whose payments expired (`rows` matching `where`, with
    the payment's columns), written in the expiry's transaction: each also retires its pay
    message. The database builds them (payments/outbox/notes.py `notes_insert`); API-only
    users have no chat and get none.
    """
    users = cast(Table, User.__table__)
    reason = CancelReason.EXPIRED.value
    return notes_insert(
        dialect,
        PaymentCanceled,
        rows.join(users, users.c.id == rows.c.user_id),
        where,
        user_id=rows.c.user_id,
        fields={
            "recipient": {
                "user_id": rows.c.user_id,
                "language": users.c.language,
                "pay_message_id": rows.c.chat_message_id,
            },
            "payment_id": rows.c.id,
            "reason": literal(reason, String),
            "kind": rows.c.kind,
            "order_id": rows.c.order_id,
        },
        dedupe=rows.c.id + literal(f":{reason}", String),
    )


def next_chunk(size: int, took: float, limit: int) -> int:
    """The size of the expiry sweep's next chunk, after one of `size` took `took` seconds.

    In proportion to the last chunk's time per payment, aimed at CHUNK_AIM; at most doubled or
    halved at a step (one slow chunk, a collection say, does not shrink the next to nothing);
    never past `limit`.
    """
    if took <= 0:
        return min(limit, size * 2)
    aimed = int(size * CHUNK_AIM / took)
    return max(1, min(limit, size * 2, max(size // 2, aimed)))


class Jobs:
    """The periodic work of the shop."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        gateway: PaymentGateway,
        fulfilment: Fulfilment,
        clock: Clock,
        schedule_renewals: Callable[[], Awaitable[object]] | None = None,
        wake: Callable[[], None] | None = None,
        parallel: int = RECONCILE_PARALLEL,
        expire_chunk: int = EXPIRE_CHUNK,
    ) -> None:
        """Keep the collaborators; `wake` tells the sending lane that messages wait.

        `schedule_renewals` writes the renewals whose notice is due (with the price they will
        charge) before the reminders go out, so the notice states that very price.
        `parallel`: YooKassa checks in flight at once; `expire_chunk`: payments per UPDATE at most.
        """
        self._sessionmaker = sessionmaker
        self._gateway = gateway
        self._fulfilment = fulfilment
        self._wake = wake
        self._clock = clock
        self._subscriptions = SubscriptionSweeps(
            sessionmaker=sessionmaker,
            clock=clock,
            schedule_renewals=schedule_renewals,
            wake=wake,
        )
        self._parallel = parallel
        self._expire_chunk_size = expire_chunk
        self._reconcile_round = Round()
        self._recheck_round = Round()

    async def reconcile(self) -> SweepReport:
        """Ask YooKassa about open payments older than a few minutes; apply what it says.

        A notification that never arrived still ends in a delivered purchase this way. Each
        run takes the next `BATCH` in a round-robin over creation time, checked a few at a
        time, so every open payment comes up within a few runs however many there are.
        """
        cutoff = self._clock.now() - RECONCILE_AFTER
        report = await self._check_round(
            self._reconcile_round,
            and_(
                Payment.status.in_(payments_repo.OPEN),
                Payment.provider_id.is_not(None),
                Payment.created_at <= cutoff,
            ),
            Payment.created_at,
            # Every open payment has a deadline: a short list, not the whole history.
            within=select(PaymentDeadline.payment_id),
            source="reconciler",
        )
        if report.changed:
            log.info("reconcile: %d of %d open payments moved on", report.changed, report.seen)
        return report

    async def recheck_abandoned(self) -> SweepReport:
        """Ask again about payments we gave up on (expired, canceled by the user) lately.

        The customer may still pay on a checkout page left open; if that notification is lost
        too, this is the only way the money turns into a delivered purchase. YooKassa drops
        unpaid payments after about an hour, so a window of 90 minutes covers them. A
        round-robin like `reconcile`'s, so a rush's many abandoned payments all come up.
        """
        now = self._clock.now()
        report = await self._check_round(
            self._recheck_round,
            and_(
                Payment.status == PaymentStatus.CANCELED,
                Payment.cancel_reason.in_(REVIVABLE),
                Payment.provider_id.is_not(None),
                Payment.updated_at >= now - RECHECK_WINDOW,
            ),
            Payment.updated_at,
            # Found through their cancellations' events (no index of payments holds the
            # status or the update time: db/models.py Payment).
            within=select(PaymentEvent.payment_id).where(
                PaymentEvent.created_at >= now - RECHECK_WINDOW,
                PaymentEvent.status_after == PaymentStatus.CANCELED,
            ),
            source="recheck",
        )
        if report.changed:
            log.info("recheck: %d abandoned payments were paid after all", report.changed)
        return report

    async def _check_round(
        self,
        place: Round,
        where: ColumnElement[bool],
        key: InstrumentedAttribute[datetime],
        *,
        within: Select[Any],
        source: str,
    ) -> SweepReport:
        """Refresh the next `BATCH` payments of a round-robin, `parallel` at a time: those
        matching `where` among the ids `within` selects."""
        async with self._sessionmaker() as session:
            found = await sweeps_repo.next_round(
                session, where, key, place.after, BATCH, within=within
            )
        if found:
            place.after = found[-1][1]

        async def check(payment_id: str) -> bool:
            applied = await self._fulfilment.refresh(payment_id, source=source)
            return applied.outcome is Outcome.APPLIED

        changed = await check_bounded([pid for pid, _ in found], check, self._parallel)
        return SweepReport(len(found), changed)

    async def expire(self) -> SweepReport:
        """Cancel pending payments past their TTL and release their seats, set-based.

        YooKassa is asked first, once per sweep rather than once per payment: the payments it
        has authorised or charged since the oldest overdue one are listed, and those are
        fulfilled instead. Everything else that is overdue is canceled in chunks of one
        conditional UPDATE each, chosen from the deadlines that have come (only their ids are
        read), with its audit rows and the customers' notices written by the database in the
        same transaction (on PostgreSQL in the same statement, two chunks at a time), and the
        seats of their orders go back in one UPDATE per slot. If YooKassa cannot be asked,
        nothing expires this time.
        """
        now = self._clock.now()
        async with self._sessionmaker() as session:
            overdue, oldest = await sweeps_repo.overdue_summary(session, now)
            # Deadlines also come for payments that finished in time: they are taken off the
            # list even when nothing is overdue (the chunks then cancel nothing: what they
            # cancel is what was overdue at `now`, counted here).
            due = overdue or await sweeps_repo.deadlines_due(session, now)
            # SQLite runs a chunk on the loop: sized by time. PostgreSQL awaits: whole chunks.
            on_loop = session.get_bind().dialect.name == "sqlite"
        if not due:
            return SweepReport(0, 0)
        paid: dict[str, ProviderPayment] = {}
        if overdue and oldest is not None:
            since = oldest - timedelta(minutes=1)
            try:
                paid = {
                    remote.id: remote
                    for status in (PaymentStatus.WAITING_FOR_CAPTURE, PaymentStatus.SUCCEEDED)
                    for remote in await self._gateway.list_payments(status, since)
                }
            except GatewayError as exc:
                log.warning("expire: cannot ask YooKassa (%s); nothing expires this time", exc)
                return SweepReport(overdue, 0)
        changed = 0
        ours: dict[str, str] = {}
        if paid:
            async with self._sessionmaker() as session:
                ours = await sweeps_repo.overdue_among(session, now, list(paid))
            for provider_id in ours:
                applied = await self._fulfilment.apply(paid[provider_id], source="expiry")
                changed += applied.outcome is Outcome.APPLIED
        limit = self._expire_chunk_size
        skip = list(ours.values())  # the paid ones are left to fulfilment

        async def chunks(size: int) -> int:
            done = 0
            while True:
                started = time.perf_counter()
                chunk = await self._expire_chunk(now, skip, size)
                if on_loop:
                    size = next_chunk(size, time.perf_counter() - started, limit)
                done += chunk.expired
                skip.extend(chunk.kept)
                self._woken(bool(chunk.expired))
                await asyncio.sleep(0)  # SQLite runs on the loop: let updates in between chunks
                if not chunk.chosen:
                    return done

        if on_loop:
            changed += await chunks(min(EXPIRE_FIRST_CHUNK, limit))
        else:
            # PostgreSQL: chunks go EXPIRE_WORKERS at a time, as sweeps of several instances
            # do (each locks its chunk with SKIP LOCKED); the database's time per payment
            # (its indexes, the audit row, the notice) is spread over its cores.
            async with asyncio.TaskGroup() as group:
                workers = [group.create_task(chunks(limit)) for _ in range(EXPIRE_WORKERS)]
            changed += sum(worker.result() for worker in workers)
        if changed:
            log.info("expire: %d of %d overdue payments settled", changed, overdue)
        return SweepReport(overdue, changed)

    async def _expire_chunk(self, now: datetime, skip: list[str], size: int) -> Chunk:
        """Cancel the next chunk of overdue payments still pending; release their seats.

        `skip`: payment ids this sweep leaves alone (sweeps_repo.cancel_overdue).
        """
        async with self._sessionmaker.begin() as session:
            chunk = await sweeps_repo.cancel_overdue(
                session, now, size, skip=skip, notes=expiry_notes
            )
            if chunk.orders:
                await release_orders(session, chunk.orders)
        return chunk

    async def remind(self) -> SweepReport:
        """Remind subscribers before expiry (payments/subscriptions/sweeps.py)."""
        return await self._subscriptions.remind()

    async def lapse(self) -> SweepReport:
        """End subscriptions whose time is up (payments/subscriptions/sweeps.py)."""
        return await self._subscriptions.lapse()

    def _woken(self, any_written: bool) -> None:
        """Tell the sending lane that messages were committed."""
        if any_written and self._wake is not None:
            self._wake()


def create_scheduler(
    jobs: Jobs, *, renewals: Callable[[], Awaitable[object]] | None = None
) -> AsyncIOScheduler:
    """Create the scheduler with every sweep on its interval, coalesced, one run at a time.

    `renewals`: the auto-renewal sweep (payments/subscriptions/renewal.py), every 5 minutes.
    """
    scheduler = AsyncIOScheduler(timezone="UTC")
    # Each job's name: its id in the scheduler and its `job` label in the metrics.
    sweeps: list[tuple[str, Callable[[], Awaitable[object]], int]] = [
        ("expire", jobs.expire, 30),
        ("reconcile", jobs.reconcile, 60),
        ("lapse", jobs.lapse, 300),
        ("remind", jobs.remind, 600),
        ("recheck_abandoned", jobs.recheck_abandoned, 600),
    ]
    if renewals is not None:
        sweeps.append(("renew", renewals, 300))
    for name, job, seconds in sweeps:
        scheduler.add_job(
            timed_job(name, job),  # runs and failures in zooticket_job_runs_total
            "interval",
            seconds=seconds,
            id=name,
            coalesce=True,
            max_instances=1,
        )
    return scheduler
