"""Prometheus /metrics: the series an operator graphs, served off the public port by default."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from decimal import Decimal

import httpx

from db.models import Payment, User
from db.models_outbox import OutboxMessage
from payments.outbox.notes import enqueue_note
from payments.ports import Recipient, SubscriptionEnded
from tests.e2e.conftest import Shop, ShopFactory


def sample(text: str, name: str, **labels: str) -> float | None:
    """Return the value of one series in an exposition, or None when it is absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if match and match[1] == name:
            found = ",".join(sorted((match[2] or "").split(","))) if match[2] else ""
            if found == wanted:
                return float(match[3])
    return None


async def scrape(shop: Shop) -> str:
    """GET /metrics from the service's own metrics listener."""
    assert shop.service.metrics is not None and shop.service.metrics.port is not None
    url = f"http://127.0.0.1:{shop.service.metrics.port}/metrics"
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(url)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.text


async def scraped_until(shop: Shop, check: Callable[[str], bool]) -> str:
    """Scrape until check(text) holds (a few seconds at most); return that scrape."""
    deadline = time.monotonic() + 10
    while True:
        text = await scrape(shop)
        if check(text):
            return text
        assert time.monotonic() < deadline, f"the metrics never showed it:\n{text}"
        await asyncio.sleep(0.05)


async def seed(shop: Shop) -> None:
    """One succeeded payment, two pending broadcast rows and one pending transactional row."""
    async with shop.service.sessionmaker.begin() as session:
        session.add(User(id="777", first_name="Mia", language="en"))
        await session.flush()
        session.add(
            Payment(
                id="ZT_0000000777",
                idempotence_key="k777",
                kind="subscription",
                user_id="777",
                plan_code="monthly",
                amount=Decimal("299.00"),
                description="x",
                status="succeeded",
                expires_at=shop.service.clock.now(),
            )
        )
        for chat, priority in ((777, 1), (778, 1), (779, 0)):
            session.add(
                OutboxMessage(
                    kind="broadcast" if priority else "probe",
                    chat_id=chat,
                    priority=priority,
                    payload={"text": "hi"},
                    # Due in a day: nothing delivers them while the test looks.
                    not_before=shop.service.clock.now().replace(year=2099),
                )
            )


async def test_metrics_listener_shows_updates_webhooks_jobs_lag_payments_and_outbox(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop(METRICS_PORT=0)
    await seed(shop)
    # Counters live as long as the process (other tests' services count in them too).
    before = await scrape(shop)

    def more(text: str, name: str, **labels: str) -> float:
        return (sample(text, name, **labels) or 0) - (sample(before, name, **labels) or 0)

    anna = shop.telegram.user(5001, first_name="Anna")
    await anna.send("/start")
    await anna.wait_reply()
    hook = f"{shop.service.base_url}/api/v2/payments/webhook/yookassa"
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.post(hook, content=b"not json")).status_code == 400
    job = shop.service.scheduler.get_job("expire")
    assert job is not None
    await job.func()
    # A customer's notice goes through the sending lane: counted as sent once Telegram took it.
    async with shop.service.sessionmaker.begin() as session:
        await enqueue_note(session, SubscriptionEnded(Recipient("5001", "en")), dedupe_key="m1")
    shop.service.payments.outbox.wake()

    text = await scraped_until(
        shop,
        lambda t: (
            more(t, "zooticket_updates_total", result="handled") >= 1
            and more(t, "zooticket_loop_lag_seconds_count") >= 1
            and more(t, "zooticket_outbox_sent_total", kind="subscription_ended", outcome="sent")
            >= 1
        ),
    )
    assert more(text, "zooticket_update_seconds_count") >= 1
    assert more(text, "zooticket_webhooks_total", result="bad_request") == 1
    assert more(text, "zooticket_job_runs_total", job="expire", outcome="ok") == 1
    assert sample(text, "zooticket_payments", status="succeeded") == 1
    assert sample(text, "zooticket_outbox_depth", status="pending", priority="1") == 2
    assert sample(text, "zooticket_outbox_depth", status="pending", priority="0") == 1
    assert sample(text, "zooticket_loop_lag_max_seconds") is not None
    assert sample(text, "zooticket_process_resident_memory_bytes") is not None
    assert more(text, "zooticket_outbox_sent_total", kind="subscription_ended", outcome="sent") == 1
    assert shop.service.scheduler.get_job("renew") is not None  # named, as its runs are counted


async def test_metrics_are_not_on_the_public_port_by_default(make_shop: ShopFactory) -> None:
    shop = await make_shop(METRICS_PORT=0)
    async with httpx.AsyncClient(base_url=shop.service.base_url, timeout=10) as client:
        assert (await client.get("/metrics")).status_code == 404
        assert (await client.get("/health")).status_code == 200
    # The own listener serves /metrics and nothing else.
    assert shop.service.metrics is not None
    own = f"http://127.0.0.1:{shop.service.metrics.port}"
    async with httpx.AsyncClient(base_url=own, timeout=10) as client:
        assert (await client.get("/health")).status_code == 404
        assert (await client.get("/metrics")).status_code == 200


async def test_without_settings_there_is_no_metrics_anywhere(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    assert shop.service.metrics is None
    async with httpx.AsyncClient(base_url=shop.service.base_url, timeout=10) as client:
        assert (await client.get("/metrics")).status_code == 404


async def test_metrics_public_serves_them_on_the_public_port(make_shop: ShopFactory) -> None:
    shop = await make_shop(METRICS_PUBLIC=True)
    async with httpx.AsyncClient(base_url=shop.service.base_url, timeout=10) as client:
        answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert "zooticket_updates_total" in answer.text or "zooticket_updates" in answer.text
