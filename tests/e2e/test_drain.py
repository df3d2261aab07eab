"""SIGTERM with checkouts in flight: the real `main.py` drains, and a cut-short checkout lets go.

The service runs as an operator runs it (a subprocess, live-looking YooKassa credentials against
the local fake, the bot polling the local Telegram). 32 customers start a ticket checkout at once
while YooKassa takes its time to answer, and the process gets SIGTERM when every one of them has
its pending row (its seats held) and waits for YooKassa.

What a customer cut off at the deadline sees is a decision: a 503 with a JSON message saying the
service is restarting (and `Retry-After`), never a 500 and never a link that leads nowhere.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from db.models import Payment, SlotInventory
from payments.api.auth import sign_init_data
from payments.tickets.rules import TicketRules
from settings import Settings
from tests.e2e.conftest import ShopFactory
from tests.fakes.telegram_api import FakeApiError, FakeTelegramAPI
from tests.fakes.yookassa_api import FakeYooKassa

ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = 32
SLOT = "12:00"
SEATS = 2
JSON = dict[str, Any]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def live_yookassa() -> AsyncIterator[FakeYooKassa]:
    """The local YooKassa with credentials shaped like a live shop's."""
    async with FakeYooKassa(
        shop_id="506751", secret_key=f"live_{secrets.token_urlsafe(30)}"
    ) as fake:
        yield fake


@dataclass
class Run:
    """What one SIGTERM-during-a-burst run left behind."""

    answers: list[httpx.Response | httpx.HTTPError]
    in_flight_at_signal: int
    stop_seconds: float
    returncode: int
    output: str
    database: Path


def _query(database: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
    try:
        return list(connection.execute(sql, params).fetchall())
    finally:
        connection.close()


def _body(visit: date) -> JSON:
    return {
        "session_id": f"session_{secrets.token_hex(4)}",
        "order": {"order_id": "ignored", "total_amount": {"value": "2000.00", "currency": "RUB"}},
        "items": [
            {
                "ticket_type": "adult",
                "quantity": SEATS,
                "unit_price": {"value": "1000.00", "currency": "RUB"},
                "visit_date": visit.isoformat(),
                "visit_time": SLOT,
            }
        ],
        "customer": {"email": "visitor@example.com"},
        "confirmation": {"type": "redirect", "return_url": "https://zooticket.ru/payment/success"},
    }


async def _sigterm_during_burst(
    tmp_path: Path,
    telegram: FakeTelegramAPI,
    yookassa: FakeYooKassa,
    *,
    grace: float,
    yookassa_seconds: float,
) -> Run:
    port = _free_port()
    database = tmp_path / "shop.db"
    env = {k: v for k, v in os.environ.items() if k.upper() not in Settings.model_fields}
    env.update(
        HTTP_PORT=str(port),
        DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        BOT_TOKEN=telegram.token,
        TELEGRAM_API_BASE=telegram.base_url,
        YOOKASSA_SHOP_ID=yookassa.shop_id,
        YOOKASSA_SECRET_KEY=yookassa.secret_key,
        YOOKASSA_API_URL=yookassa.api_url,
        JWT_SECRET=secrets.token_urlsafe(40),
        SHUTDOWN_GRACE_SECONDS=str(grace),
    )
    log_path = tmp_path / "service.log"
    with log_path.open("w") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "main.py"),
            cwd=tmp_path,
            env=env,
            stdout=log_file,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        limits = httpx.Limits(max_connections=CUSTOMERS * 2)
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
            for _ in range(300):
                try:
                    if (await http.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
            else:
                raise AssertionError(f"no /health within a minute:\n{log_path.read_text()}")
            tokens = []
            for n in range(CUSTOMERS):
                init_data = sign_init_data(
                    {"user": json.dumps({"id": 7_100_000 + n}), "auth_date": str(int(time.time()))},
                    telegram.token,
                )
                verified = await http.get(f"/api/v2/auth/verify?{init_data}")
                assert verified.status_code == 200, verified.text
                tokens.append(verified.json()["accessToken"])
            visit = datetime.now(UTC).astimezone(ZoneInfo("Europe/Moscow")).date() + timedelta(1)

            async def checkout(token: str) -> httpx.Response | httpx.HTTPError:
                try:
                    return await http.post(
                        "/v1/payments/sessions",
                        json=_body(visit),
                        headers={"Authorization": f"Bearer {token}"},
                    )
                except httpx.HTTPError as exc:  # a connection closed on us is an answer too
                    return exc

            yookassa.slow(yookassa_seconds)
            burst = [asyncio.create_task(checkout(token)) for token in tokens]
            # Every customer has a pending row (seats held) and waits for YooKassa.
            for _ in range(600):
                rows = await asyncio.to_thread(
                    _query, database, "SELECT count(*) FROM payments WHERE status = 'pending'"
                )
                if rows[0][0] == CUSTOMERS:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the burst never had every checkout pending")
            in_flight = sum(not task.done() for task in burst)
            process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            answers = await asyncio.gather(*burst)
            await asyncio.wait_for(process.wait(), grace + 30)
            stopped = time.monotonic() - signalled
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        yookassa.slow(0)
    assert process.returncode is not None
    return Run(
        answers=list(answers),
        in_flight_at_signal=in_flight,
        stop_seconds=stopped,
        returncode=process.returncode,
        output=log_path.read_text(),
        database=database,
    )


def _seats_held_by_pending_with_a_link(database: Path) -> int:
    rows = _query(
        database,
        "SELECT coalesce(sum(o.seats), 0) FROM payments p JOIN orders o ON o.id = p.order_id "
        "WHERE p.status = 'pending' AND p.confirmation_url IS NOT NULL AND o.seats_held",
    )
    return int(rows[0][0])


def _held(database: Path) -> int:
    rows = _query(
        database, "SELECT coalesce(sum(held), 0) FROM slot_inventory WHERE slot_time = ?", SLOT
    )
    return int(rows[0][0])


@pytest.mark.slow
async def test_sigterm_lets_every_checkout_in_flight_finish(
    tmp_path: Path, telegram: FakeTelegramAPI, live_yookassa: FakeYooKassa
) -> None:
    run = await _sigterm_during_burst(
        tmp_path, telegram, live_yookassa, grace=25, yookassa_seconds=1.5
    )
    assert run.returncode == 0, run.output
    assert run.stop_seconds < 25, run.output
    # Each call takes 1.5 s and the gateway's pool (64) takes all 32 at once: at the signal,
    # once every one has its pending row, nearly all are still waiting for YooKassa.
    assert run.in_flight_at_signal >= CUSTOMERS - 8
    statuses = [a.status_code if isinstance(a, httpx.Response) else repr(a) for a in run.answers]
    assert statuses == [201] * CUSTOMERS, run.output
    stored = {
        row[0]: row[1:]
        for row in _query(
            run.database, "SELECT id, status, confirmation_url, provider_id FROM payments"
        )
    }
    at_yookassa = {p["id"]: p for p in live_yookassa.payments.values()}
    for answer in run.answers:
        assert isinstance(answer, httpx.Response)
        data = answer.json()["data"]
        link = data["confirmation_url"]
        assert link
        status, stored_link, provider_id = stored[data["payment_id"]]
        assert (status, stored_link) == ("pending", link)
        remote = at_yookassa[provider_id]
        assert remote["status"] == "pending"
        assert remote["confirmation"]["confirmation_url"] == link
    # Every held seat belongs to a pending payment whose link reached its customer.
    assert (
        _held(run.database) == _seats_held_by_pending_with_a_link(run.database) == CUSTOMERS * SEATS
    )
    assert "Traceback" not in run.output


@pytest.mark.slow
async def test_checkouts_cut_short_at_the_deadline_are_canceled_and_let_go(
    tmp_path: Path, telegram: FakeTelegramAPI, live_yookassa: FakeYooKassa
) -> None:
    run = await _sigterm_during_burst(
        tmp_path, telegram, live_yookassa, grace=1, yookassa_seconds=12
    )
    assert run.returncode == 0, run.output
    # The cut-short YooKassa calls (12 s) are not waited for: the stop takes the grace and the
    # process's own shutdown, which on a loaded 2-core CI machine took up to 4.4 s (the limit
    # was once 3.5 s and tripped there), never the 12 s the calls would.
    assert run.stop_seconds < 1 + 6, run.output
    # Every checkout's call was in flight (YOOKASSA_CONCURRENCY, 64, is above the 32 of them).
    assert run.in_flight_at_signal == CUSTOMERS
    for answer in run.answers:
        assert isinstance(answer, httpx.Response), answer
        assert answer.status_code == 503, answer.text
        body = answer.json()
        assert body["success"] is False
        assert "restarting" in body["message"]
        assert answer.headers["retry-after"]
        assert answer.headers["connection"] == "close"
    rows = _query(run.database, "SELECT status, cancel_reason, confirmation_url FROM payments")
    assert rows == [("canceled", "interrupted", None)] * CUSTOMERS
    orders = _query(run.database, "SELECT status, seats_held FROM orders")
    assert orders == [("canceled", 0)] * CUSTOMERS
    assert _held(run.database) == 0


async def test_a_checkout_cancelled_while_yookassa_answers_gives_its_seats_back(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    shop.yookassa.slow(5.0)
    rules = TicketRules(shop.service.catalog, shop.settings.tz)
    now = datetime.now(UTC)
    visit = now.astimezone(shop.settings.tz).date() + timedelta(days=1)
    order = rules.validate(visit, SLOT, {"adult": 3}, now)
    user = shop.telegram.user(4242)
    await user.send("/start")
    await user.wait_reply()
    checkout = asyncio.create_task(
        shop.service.payments.checkout.start_tickets(
            str(user.user_id), order, return_url="https://x.example/"
        )
    )
    for _ in range(200):
        if shop.yookassa.create_count:
            break
        await asyncio.sleep(0.02)
    assert shop.yookassa.create_count == 1
    checkout.cancel()
    with pytest.raises(asyncio.CancelledError):
        await checkout
    # No waiting for the expiry sweep: the row and the seats are let go before the cancel ends.
    async with shop.service.sessionmaker() as session:
        payment = (await session.execute(select(Payment))).scalar_one()
        held = await session.scalar(select(func.coalesce(func.sum(SlotInventory.held), 0)))
    assert (payment.status, payment.cancel_reason) == ("canceled", "interrupted")
    assert held == 0
    shop.yookassa.slow(0)


async def test_a_bot_checkout_in_flight_at_stop_still_sends_its_pay_button(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop(SHUTDOWN_GRACE_SECONDS=10)
    user = shop.telegram.user(4243)
    await user.send("/subscribe")
    await user.wait_reply()
    shop.yookassa.slow(1.5)
    await user.press("299 ₽", contains=True)
    for _ in range(200):
        if shop.yookassa.create_count:
            break
        await asyncio.sleep(0.02)
    assert shop.yookassa.create_count == 1
    await shop.service.stop()
    pay = await user.wait_for(lambda m: any("💳" in b for b in m.button_texts()), timeout=1)
    assert pay is not None
    async with shop.service.sessionmaker() as session:
        payment = (await session.execute(select(Payment))).scalar_one()
    assert payment.status == "pending"
    assert payment.confirmation_url


async def test_a_scheduler_job_running_at_stop_gets_the_grace_and_no_more(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop(SHUTDOWN_GRACE_SECONDS=2)
    ran: dict[str, str] = {}

    async def job(name: str, seconds: float) -> None:
        ran[name] = "started"
        try:
            await asyncio.sleep(seconds)  # the job's own work
        except asyncio.CancelledError:
            ran[name] = "cancelled"
            raise
        ran[name] = "finished"

    scheduler = shop.service.scheduler
    now = datetime.now(UTC)
    scheduler.add_job(job, "date", run_date=now, args=["short", 0.5], id="short")
    scheduler.add_job(job, "date", run_date=now, args=["long", 60], id="long")
    for _ in range(200):
        if len(ran) == 2:
            break
        await asyncio.sleep(0.02)
    assert ran == {"short": "started", "long": "started"}
    started = time.monotonic()
    await shop.service.stop()
    assert ran == {"short": "finished", "long": "cancelled"}
    assert 1.5 < time.monotonic() - started < 4


async def test_a_stop_while_telegram_fails_the_start_still_ends(
    make_shop: ShopFactory, telegram: FakeTelegramAPI
) -> None:
    # SIGTERM while the bot's start-up calls (the command lists) wait on a Telegram that then
    # fails them: aiogram's stop_polling waited for a signal that a failed start never sets,
    # so the service hung instead of stopping (and an orchestrator had to kill it).
    asked = asyncio.Event()
    answer = asyncio.Event()

    async def set_my_commands(params: Any) -> Any:
        asked.set()
        await answer.wait()
        raise FakeApiError(500, "Internal Server Error")

    telegram.register_method("setMyCommands", set_my_commands)
    shop = await make_shop(SHUTDOWN_GRACE_SECONDS=2)
    health = f"{shop.service.base_url}/health"
    await asyncio.wait_for(asked.wait(), 10)
    stopping = asyncio.create_task(shop.service.stop())
    await asyncio.sleep(0)  # stop() is under way: it asked polling to stop (start-up pending)
    answer.set()
    await asyncio.wait_for(stopping, 15)  # the grace, and the settling after it, at most
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(health)
