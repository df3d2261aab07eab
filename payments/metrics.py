"""Prometheus metrics of the service: one registry, the objects every layer increments.

Counters and histograms are bumped where things happen (the bot's update middleware, the
webhook route, the sending lane, the scheduler's job wrapper, the loop-lag monitor). Two figures
are read from the database when Prometheus scrapes, not kept in memory: payments by status and
the outbox's depth; `DatabaseGauges.refresh` runs one aggregate query for each (both served by an
index), and the `/metrics` handler awaits it before rendering.

Series (all prefixed `zooticket_`):

- `updates_total{result}`, `update_seconds`: bot updates handled ("handled", "unhandled",
  "error") and how long each took.
- `webhooks_total{result}`: YooKassa notifications by the route's answer ("ok", "forbidden",
  "bad_request", "retry"; a notification of a payment that is not ours is answered 200: ok).
- `webhook_waiting`: notifications waiting for their turn to be applied (payments/loop_turns.py;
  a backlog that stays up means WEBHOOK_CONCURRENCY, or the instances, are too few).
- `customers_in_flight`: customers' bot updates and API requests being answered right now
  (those waiting for YooKassa not counted); past three, notifications not yet started wait.
- `outbox_sent_total{kind,outcome}`: deliveries by the sending lane ("sent", "blocked",
  "retry", "rate_limited", "give_up"); its rate is the send rate.
- `outbox_depth{status,priority}`: rows waiting ("pending"), claimed ("sending") or being
  sent ("delivering": broadcast rows whose send started).
- `payments{status}`: payments by status.
- `job_runs_total{job,outcome}`: scheduler runs ("ok", "error").
- `loop_lag_seconds`: how late the event loop woke a sleeping task (histogram), and
  `loop_lag_max_seconds`: the worst lag since the last scrape.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select

from db.models import Payment
from db.models_outbox import OutboxMessage
from db.reader import Reader
from payments.outbox.outcomes import Blocked, Envelope, Outcome, RetryLater, Sent

__all__ = [
    "CONTENT_TYPE_LATEST",
    "JOB_RUNS",
    "LOOP_LAG",
    "LOOP_LAG_MAX",
    "OUTBOX_DEPTH",
    "OUTBOX_SENT",
    "PAYMENTS",
    "REGISTRY",
    "UPDATES",
    "UPDATE_SECONDS",
    "WEBHOOKS",
    "WEBHOOK_WAITING",
    "CUSTOMERS_IN_FLIGHT",
    "DatabaseGauges",
    "LoopLagMonitor",
    "render",
    "timed_job",
]

REGISTRY = CollectorRegistry(auto_describe=True)
# Resident memory, CPU seconds, open files of this process (read from /proc when scraped).
ProcessCollector(namespace="zooticket", registry=REGISTRY)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)

UPDATES = Counter(
    "zooticket_updates",
    "Telegram updates handled, by result (handled, unhandled, error).",
    ["result"],
    registry=REGISTRY,
)
UPDATE_SECONDS = Histogram(
    "zooticket_update_seconds",
    "Time to handle one Telegram update, from dispatch to the handler's return.",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
WEBHOOKS = Counter(
    "zooticket_webhooks",
    "YooKassa notifications by the route's answer (ok, forbidden, bad_request, retry).",
    ["result"],
    registry=REGISTRY,
)
WEBHOOK_WAITING = Gauge(
    "zooticket_webhook_waiting",
    "YooKassa notifications waiting for their turn to be applied.",
    registry=REGISTRY,
)
CUSTOMERS_IN_FLIGHT = Gauge(
    "zooticket_customers_in_flight",
    "Customers' bot updates and API requests being answered now (not those waiting for YooKassa).",
    registry=REGISTRY,
)
OUTBOX_SENT = Counter(
    "zooticket_outbox_sent",
    "Outbox deliveries by kind and outcome (sent, blocked, retry, rate_limited, give_up).",
    ["kind", "outcome"],
    registry=REGISTRY,
)
JOB_RUNS = Counter(
    "zooticket_job_runs",
    "Scheduler job runs by job and outcome (ok, error).",
    ["job", "outcome"],
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "zooticket_job_seconds",
    "Time one scheduler job run took.",
    ["job"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
LOOP_LAG = Histogram(
    "zooticket_loop_lag_seconds",
    "How late the event loop woke a task that slept a fixed interval.",
    buckets=_LAG_BUCKETS,
    registry=REGISTRY,
)
LOOP_LAG_MAX = Gauge(
    "zooticket_loop_lag_max_seconds",
    "The worst event-loop lag seen since the previous scrape.",
    registry=REGISTRY,
)
PAYMENTS = Gauge(
    "zooticket_payments",
    "Payments by status (read from the database when scraped).",
    ["status"],
    registry=REGISTRY,
)
DEPTH_STATUSES = ("pending", "sending", "delivering")
OUTBOX_DEPTH = Gauge(
    "zooticket_outbox_depth",
    "Outbox rows pending or in flight, by status and priority (0 transactional, 1 broadcast).",
    ["status", "priority"],
    registry=REGISTRY,
)

_T = TypeVar("_T")


class _WorstLag:
    """The worst lag since the last scrape (the gauge is reset when read)."""

    worst = 0.0

    def observe(self, seconds: float) -> None:
        """Record one lag sample."""
        LOOP_LAG.observe(seconds)
        self.worst = max(self.worst, seconds)

    def take(self) -> float:
        """Return the worst lag since the previous call and start over."""
        worst, self.worst = self.worst, 0.0
        return worst


WORST_LAG = _WorstLag()


# The two scrape-time aggregates (built once).
_PAYMENTS_BY_STATUS = select(Payment.status, func.count()).group_by(Payment.status)
_OUTBOX_BY_STATUS = (
    select(OutboxMessage.status, OutboxMessage.priority, func.count())
    .where(OutboxMessage.status.in_(DEPTH_STATUSES))
    .group_by(OutboxMessage.status, OutboxMessage.priority)
)


class DatabaseGauges:
    """Payments by status and outbox depth, counted when Prometheus scrapes."""

    def __init__(self, reader: Reader) -> None:
        """Keep the reader the two aggregate queries run through: on SQLite a connection of
        their own in a worker thread, so a scrape never waits for the writer's connection (a
        transaction waiting for the database's lock held it, and the scrape with it)."""
        self._reader = reader

    async def refresh(self) -> None:
        """Run one GROUP BY per figure and set the gauges (labels that vanished drop to 0)."""
        payments, depth = await self._reader.report(
            lambda: (_PAYMENTS_BY_STATUS, _OUTBOX_BY_STATUS)
        )
        PAYMENTS.clear()
        for status, count in payments:
            PAYMENTS.labels(status=status).set(count)
        OUTBOX_DEPTH.clear()
        for status in DEPTH_STATUSES:
            for priority in (0, 1):
                OUTBOX_DEPTH.labels(status=status, priority=str(priority)).set(0)
        for status, priority, count in depth:
            OUTBOX_DEPTH.labels(status=status, priority=str(priority)).set(count)


class LoopLagMonitor:
    """A task that sleeps `interval` seconds over and over and records how late it woke.

    Anything that holds the event loop (a long query on it, CPU work) shows as lag: the figure
    every customer's update and every webhook waits on. One wake-up per interval, nothing more.
    """

    def __init__(self, interval: float = 0.25) -> None:
        """Keep the sampling interval."""
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start sampling on the running loop."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="loop-lag")

    async def stop(self) -> None:
        """Stop sampling."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self._interval)
            WORST_LAG.observe(max(loop.time() - before - self._interval, 0.0))


async def render(gauges: DatabaseGauges | None) -> bytes:
    """Refresh the scrape-time figures and return the text exposition format."""
    if gauges is not None:
        await gauges.refresh()
    LOOP_LAG_MAX.set(WORST_LAG.take())
    return generate_latest(REGISTRY)


def timed_job(job: str, run: Callable[[], Awaitable[_T]]) -> Callable[[], Awaitable[_T]]:
    """Wrap a scheduler job so each run counts in `job_runs_total` and `job_seconds`."""

    async def counted() -> _T:
        started = time.perf_counter()
        try:
            result = await run()
        except Exception:
            JOB_RUNS.labels(job=job, outcome="error").inc()
            raise
        finally:
            JOB_SECONDS.labels(job=job).observe(time.perf_counter() - started)
        JOB_RUNS.labels(job=job, outcome="ok").inc()
        return result

    return counted


def count_outbox(envelope: Envelope, outcome: Outcome) -> None:
    """Count one delivery of the sending lane under OUTBOX_SENT (the lane's `observe` hook)."""
    if isinstance(outcome, Sent):
        label = "sent"
    elif isinstance(outcome, Blocked):
        label = "blocked"
    elif isinstance(outcome, RetryLater):
        label = "rate_limited" if outcome.rate_limited else "retry"
    else:
        label = "give_up"
    OUTBOX_SENT.labels(kind=envelope.kind, outcome=label).inc()
