"""make bench's rush: a sale opens and 2 000 customers run the whole ticket journey in a minute.

The service runs as `python main.py` in a process of its own (as in production), against the fake
Telegram and the fake YooKassa served from this process. Customers arrive evenly over one minute;
each then runs the whole ticket journey (scripts/bench_journey.py) and waits for the
confirmation that the payment's notification brings. 500 seats are on sale in all. With
BENCH_RUSH_INSTANCES=N (PostgreSQL + Redis), N such processes run in webhook mode behind a
round-robin balancer in this process, for Telegram's updates and YooKassa's notifications.

An update's answer time runs from the moment the update is queued on the fake to the bot's first
visible reaction in that chat on the fake (a new or edited message, or the answer to that very
press, whichever comes first), stamped by the fake as it records the call.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_journey import PAID_TEXT, STEPS, Customer, journey  # noqa: E402
from bench_kit import SECRET, SHOP, OwnStalls, Row  # noqa: E402
from bench_proc import (  # noqa: E402
    REDIS_URL,
    ServiceProcess,
    catalog_file,
    database,
    kinds,
    log,
    pct,
    sized,
)

from db.engine import create_engine, create_sessionmaker  # noqa: E402
from db.models import Order, Payment, SlotInventory, Ticket  # noqa: E402
from tests.balancer import Balancer  # noqa: E402
from tests.fakes.telegram_api import FakeTelegramAPI  # noqa: E402
from tests.fakes.yookassa_api import FakeYooKassa  # noqa: E402

# BENCH_RUSH_CUSTOMERS / _SEATS / _SECONDS override the sizes (a slow trickle measures the
# service's CPU per customer with no queueing; a profile wants a run of a chosen length).
CUSTOMERS = int(os.environ.get("BENCH_RUSH_CUSTOMERS") or sized(2000, 200))
SEATS = int(os.environ.get("BENCH_RUSH_SEATS") or sized(500, 50))
ARRIVAL_SECONDS = int(os.environ.get("BENCH_RUSH_SECONDS") or sized(60, 15))
# BENCH_RUSH_INSTANCES=N (PostgreSQL + Redis only): N instances in webhook mode behind a
# round-robin balancer, as README's "Several instances" runs them, instead of one polling.
INSTANCES = int(os.environ.get("BENCH_RUSH_INSTANCES") or 1)
# BENCH_RUSH_PROVIDER_MS=250: YooKassa answers every call that much later (its own work done at
# once), as the real one does across the internet; 0 (the default): at once.
PROVIDER_MS = int(os.environ.get("BENCH_RUSH_PROVIDER_MS") or 0)
WEBHOOK_SECRET = "rush-webhook-secret"  # noqa: S105 - the bench's own
FIRST_USER = 3_000_000
PACE_SECONDS = 6


@dataclass
class RushResult:
    """The figures of one rush."""

    kind: str
    records: list[Customer]
    answers: list[float]
    confirmations: list[float]
    tickets: list[float]
    outcomes: Counter[str]
    seconds: float
    counts: Counts
    service_cpu: float  # CPU seconds the service process used from the first customer on
    bench_cpu: float  # the same for this process (the fakes and the customers)
    confirmations_per_chat: Counter[int]


@dataclass
class Counts:
    """What the database holds after the rush."""

    sold: int
    held: int
    succeeded: int
    paid_orders: int
    tickets_per_payment: Counter[int]


async def rush(kind: str, tmp: Path) -> RushResult:
    """Run the rush on one database."""
    folder = tmp / f"rush-{kind}"
    folder.mkdir()
    async with (
        database(kind, folder, "rush") as url,
        FakeTelegramAPI(validate_html=False, callback_ttl=120) as fake,
        FakeYooKassa(shop_id=SHOP, secret_key=SECRET) as yookassa,
        Balancer() as balancer,
    ):
        if PROVIDER_MS:
            yookassa.slow(PROVIDER_MS / 1000)
        with catalog_file(folder, SEATS, ["10:00"]) as catalog:
            env = {
                "DATABASE_URL": url,
                "BOT_TOKEN": fake.token,
                "TELEGRAM_API_BASE": fake.base_url,
                "YOOKASSA_SHOP_ID": SHOP,
                "YOOKASSA_SECRET_KEY": SECRET,
                "YOOKASSA_API_URL": yookassa.api_url,
                "YOOKASSA_TRUSTED_NETWORKS": "127.0.0.0/8",
                "CATALOG_PATH": str(catalog),
                "LOG_LEVEL": "WARNING",
                "PENDING_PAYMENTS_LIMIT": "1000000",
            }
            if kind == "postgresql" and REDIS_URL:
                env["REDIS_URL"] = REDIS_URL
            if INSTANCES > 1:
                env |= {
                    "TELEGRAM_WEBHOOK_URL": f"{balancer.url}/telegram/webhook",
                    "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
                    # Their sum stays within Telegram's budget, as the README asks.
                    "OUTBOX_RATE": f"{29 / INSTANCES:.2f}",
                }
            # BENCH_RUSH_LAG=1: the service runs with a 10 ms loop probe, to tell a busy loop
            # from answers that wait on something else.
            lag_file = folder / "lag.txt" if os.environ.get("BENCH_RUSH_LAG") else None
            services = [ServiceProcess(env, folder, lag_file=lag_file)]
            for number in range(1, INSTANCES):
                (folder / f"instance-{number}").mkdir()
                services.append(ServiceProcess(env, folder / f"instance-{number}"))
            service = services[0]
            tz = ZoneInfo("Europe/Moscow")
            visit = datetime.now(tz).date() + timedelta(days=1)
            records = [Customer() for _ in range(CUSTOMERS)]
            try:
                for instance in services:  # one after the other: the first one migrates
                    await instance.start()
                balancer.targets = [instance.base_url for instance in services]
                entry = balancer.url if INSTANCES > 1 else service.base_url
                yookassa.notification_url = f"{entry}/api/v2/payments/webhook/yookassa"
                # This process runs the 2 000 customers, the local Telegram that stamps their
                # answers and the local YooKassa. Its full collections, longer as what the fakes
                # record grows (94-316 ms, every 4 s or so), stalled all three at once, and the
                # stall landed in the answers measured then (a cluster of 250-720 ms answers
                # at one moment, every step alike, while the service's loop was never late by
                # more than 72 ms). Telegram's and YooKassa's servers do not pause for it.
                stalls = OwnStalls()
                stalls.start()
                started = time.perf_counter()
                cpu_before = sum(instance.cpu_seconds() for instance in services)
                own_before = time.process_time()

                async def customer(number: int) -> None:
                    await asyncio.sleep(number * ARRIVAL_SECONDS / CUSTOMERS)
                    user = fake.user(FIRST_USER + number, first_name="Rush")
                    try:
                        await journey(user, yookassa, visit, records[number])
                    except (TimeoutError, AssertionError) as exc:
                        records[number].outcome = f"failed: {type(exc).__name__}"

                await asyncio.gather(*(customer(n) for n in range(CUSTOMERS)))
                seconds = time.perf_counter() - started
                log_pace(kind, records, started)
                await yookassa.wait_notifications(30)
                stalls.stop()
                log(f"rush {kind}: this process (customers, fakes): {stalls.summary()}")
                answered = Counter(record.http_status for record in yookassa.notifications)
                log(
                    f"rush {kind}: YooKassa's notifications: {len(yookassa.notifications)} "
                    f"posts, answered {dict(answered)} (None: no answer within "
                    f"{yookassa.notification_timeout:.0f} s, posted again)"
                )
                service_cpu = sum(instance.cpu_seconds() for instance in services) - cpu_before
                if lag_file is not None:
                    lags = service.lags(time.time() - seconds, time.time())
                    log(
                        f"rush {kind}: loop lag p50 / p99 / max {pct(lags, 0.5):.0f} / "
                        f"{pct(lags, 0.99):.0f} / {pct(lags, 1.0):.0f} ms"
                    )
                bench_cpu = time.process_time() - own_before
                log(
                    f"rush {kind}: {seconds:.0f} s; CPU used: service {service_cpu:.1f} s, "
                    f"bench process with the fakes and customers {bench_cpu:.1f} s"
                )
            finally:
                for instance in services:
                    await instance.stop()
            for record in records:
                if record.outcome.startswith("failed"):
                    for number, instance in enumerate(services):
                        kept = instance.keep_log(f"rush-{kind}-{number}")
                        log(f"rush {kind}: a customer failed; service log kept at {kept}")
                    break
            counts = await _count(url)
        confirmations_per_chat: Counter[int] = Counter()
        for number in range(CUSTOMERS):
            chat = fake.chat(FIRST_USER + number)
            told = sum(1 for m in chat.messages if m.from_bot and PAID_TEXT in (m.text or ""))
            if told:
                confirmations_per_chat[told] += 1
    return RushResult(
        kind=kind,
        records=records,
        answers=[a for r in records for a in r.answers],
        confirmations=[r.confirmation for r in records if r.confirmation is not None],
        tickets=[r.tickets for r in records if r.tickets is not None],
        outcomes=Counter(r.outcome for r in records),
        seconds=seconds,
        service_cpu=service_cpu,
        bench_cpu=bench_cpu,
        confirmations_per_chat=confirmations_per_chat,
        counts=counts,
    )


async def _count(url: str) -> Counts:
    """Seats sold, held, payments succeeded, orders paid, tickets per payment."""
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            sold = await session.scalar(select(func.count()).select_from(Ticket))
            held = await session.scalar(select(func.coalesce(func.sum(SlotInventory.held), 0)))
            succeeded = await session.scalar(
                select(func.count()).select_from(Payment).where(Payment.status == "succeeded")
            )
            paid_orders = await session.scalar(
                select(func.count()).select_from(Order).where(Order.status == "paid")
            )
            per_payment = (
                await session.execute(
                    select(Ticket.payment_id, func.count()).group_by(Ticket.payment_id)
                )
            ).all()
    finally:
        await engine.dispose()
    return Counts(
        sold=int(sold or 0),
        held=int(held or 0),
        succeeded=int(succeeded or 0),
        paid_orders=int(paid_orders or 0),
        tickets_per_payment=Counter(int(n) for _, n in per_payment),
    )


def rows_of(result: RushResult) -> list[Row]:
    """The table rows of one rush."""
    counts = result.counts
    name = "SQLite" if result.kind == "sqlite" else "PostgreSQL"
    if INSTANCES > 1:
        name += f" on {INSTANCES} instances"
    once = (
        counts.succeeded == counts.paid_orders == counts.sold == SEATS
        and set(counts.tickets_per_payment) == {1}
        and set(result.confirmations_per_chat) == {1}
        and sum(result.confirmations_per_chat.values()) == SEATS
    )
    # The goal is for YooKassa answering at once: a later answer is in every checkout's time.
    goal = " (goal p99 < 300 ms)" if result.kind == "postgresql" and not PROVIDER_MS else ""
    outcomes = ", ".join(f"{n} {what}" for what, n in result.outcomes.most_common())
    log(f"rush {name}: outcomes {outcomes}; tickets per payment {dict(counts.tickets_per_payment)}")
    for number, step in enumerate(STEPS):
        taken = [r.answers[number] for r in result.records if len(r.answers) > number]
        log(
            f"rush {name}: step {step}: {len(taken)} answers, p50 / p99 / max "
            f"{pct(taken, 0.5):.0f} / {pct(taken, 0.99):.0f} / {pct(taken, 1.0):.0f} ms"
        )
    log_by_arrival(name, result.records)
    links = [r.link for r in result.records if r.link is not None]
    log(
        f"rush {name}: pay press → pay button: {len(links)} checkouts, p50 / p99 / max "
        f"{pct(links, 0.5):.0f} / {pct(links, 0.99):.0f} / {pct(links, 1.0):.0f} ms"
    )
    return [
        Row(
            f"rush {name}: {CUSTOMERS:,} customers in {ARRIVAL_SECONDS} s"
            + (f", YooKassa answering in {PROVIDER_MS} ms" if PROVIDER_MS else "")
            + ", update answer p50 / p99",
            f"{pct(result.answers, 0.5):.0f} / {pct(result.answers, 0.99):.0f} ms",
            f"{len(result.answers):,} updates in {result.seconds:.0f} s",
            f"max {pct(result.answers, 1.0):.0f} ms{goal}",
        ),
        Row(
            f"rush {name}: pay press → pay button, p50 / p99 (its answer above: 'preparing')",
            f"{pct(links, 0.5):.0f} / {pct(links, 0.99):.0f} ms",
            f"{len(links)} checkouts",
            "",
        ),
        Row(
            f"rush {name}: seats sold / held of {SEATS}, payments succeeded / orders paid",
            f"{counts.sold} / {counts.held}",
            f"{counts.succeeded} / {counts.paid_orders}",
            "exactly once" if once else "NOT EXACTLY ONCE",
        ),
        Row(
            f"rush {name}: payment → confirmation; QR tickets in chat p50 / p99 (incl. capture)",
            f"{pct(result.confirmations, 0.5):.0f} / {pct(result.confirmations, 0.99):.0f} ms; "
            f"{pct(result.tickets, 0.5):.0f} / {pct(result.tickets, 0.99):.0f} ms",
            f"{sum(result.confirmations_per_chat.values())} chats told "
            f"{dict(result.confirmations_per_chat)}",
        ),
        Row(
            f"rush {name}: CPU per customer, service / bench process (fakes, customers)",
            f"{result.service_cpu / CUSTOMERS * 1000:.1f} ms",
            f"{result.bench_cpu / CUSTOMERS * 1000:.1f} ms",
            f"service busy {result.service_cpu / result.seconds:.0%} of the rush's wall time",
        ),
    ]


def log_pace(name: str, records: list[Customer], started: float) -> None:
    """Log, for each PACE_SECONDS of the rush, the payments made and the confirmations and QR
    codes that reached their chats: whether the sending lane keeps up, and from when."""
    moments: dict[str, list[float]] = {"paid": [], "confirmed": [], "QR": []}
    for r in records:
        if r.paid_at is not None:
            moments["paid"].append(r.paid_at - started)
            if r.confirmation is not None:
                moments["confirmed"].append(r.paid_at + r.confirmation - started)
            if r.tickets is not None:
                moments["QR"].append(r.paid_at + r.tickets - started)
    end = max((m for ms in moments.values() for m in ms), default=0.0)
    windows = range(int(end // PACE_SECONDS) + 1)
    for what, ms in moments.items():
        counts = Counter(int(m // PACE_SECONDS) for m in ms)
        log(
            f"rush {name}: {what} per {PACE_SECONDS} s from the start: "
            + " ".join(str(counts[w]) for w in windows)
        )


def log_by_arrival(name: str, records: list[Customer]) -> None:
    """Log the answers of each tenth of the customers, by when they arrived, with their slowest
    step: where in the sale the tail is, and which steps make it."""
    tenth = max(1, len(records) // 10)
    for start in range(0, len(records), tenth):
        chunk = records[start : start + tenth]
        answers = [a for r in chunk for a in r.answers]
        steps = {
            step: [r.answers[i] for r in chunk if len(r.answers) > i]
            for i, step in enumerate(STEPS)
        }
        slowest = max((s for s in steps if steps[s]), key=lambda s: pct(steps[s], 0.5))
        began = start * ARRIVAL_SECONDS / len(records)
        ended = (start + len(chunk)) * ARRIVAL_SECONDS / len(records)
        log(
            f"rush {name}: customers arriving {began:.0f}-{ended:.0f} s: answers p50 / p99 "
            f"{pct(answers, 0.5):.0f} / {pct(answers, 0.99):.0f} ms; slowest step {slowest} "
            f"p50 {pct(steps[slowest], 0.5):.0f} ms"
        )


async def rush_rows(tmp: Path) -> list[Row]:
    """The rush on SQLite and, when the services run gives one, PostgreSQL."""
    rows: list[Row] = []
    for kind in kinds():
        if INSTANCES > 1 and (kind == "sqlite" or not REDIS_URL):
            log(f"rush: BENCH_RUSH_INSTANCES needs PostgreSQL and Redis; {kind} left out")
            continue
        rows += rows_of(await rush(kind, tmp))
    return rows
