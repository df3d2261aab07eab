"""make bench's webhook part: YooKassa notifications per second, beside two references.

Each round pays a fresh batch of payments, then sends their notifications 16 at a time to the
service, to an endpoint that only re-fetches the payment through the same gateway (the least a
verified webhook does: SPEC.md says act on what the API says, never on the body), and to a bare
FastAPI endpoint. The client and the local YooKassa run in processes of their own, as they would
in life; both endpoints run in this process, like the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from bench_kit import (
    HOOK_ROUNDS,
    NOTIFICATIONS,
    NOTIFY_CONCURRENCY,
    SECRET,
    SHOP,
    Row,
    paying_settings,
    wait_until,
)
from bench_proc import pct
from bench_provider import RemoteYooKassa
from fastapi import FastAPI, Request

from db.models import User
from main import Service, build, settle_heap
from payments.api.server import bind_socket
from payments.ports import PaymentGateway
from payments.types import ProviderPayment
from payments.yookassa.webhook import WEBHOOK_PATH


async def load(url: str, bodies: list[bytes], concurrency: int) -> tuple[float, list[float]]:
    """POST bodies with a fixed concurrency from another process; return (seconds, latencies).

    The client (scripts/bench_load.py) runs in a process of its own so that its work does not
    queue on the event loop of the server it measures; latencies come back in body order.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).with_name("bench_load.py")),
        url,
        str(concurrency),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    output, _ = await process.communicate(json.dumps([b.decode() for b in bodies]).encode())
    if process.returncode != 0:
        raise RuntimeError(f"the load generator failed against {url}")
    result = json.loads(output)
    return float(result["seconds"]), [float(x) for x in result["latencies"]]


@contextlib.asynccontextmanager
async def serve_app(app: FastAPI) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free loopback port; yield the URL of its /hook."""
    # The service's own socket (IPPROTO_TCP, so asyncio sets TCP_NODELAY on each connection):
    # otherwise the references wait for delayed ACKs on kept-alive connections.
    sock = bind_socket("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve([sock]))
    await wait_until(lambda: server.started, 10)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextlib.asynccontextmanager
async def bare_endpoint() -> AsyncIterator[str]:
    """Serve a FastAPI endpoint that only answers {"success": true}; yield its URL."""
    app = FastAPI()

    @app.post("/hook")
    async def hook() -> dict[str, bool]:
        return {"success": True}

    async with serve_app(app) as url:
        yield url


@contextlib.asynccontextmanager
async def refetch_endpoint(gateway: PaymentGateway) -> AsyncIterator[str]:
    """Serve an endpoint that reads the notification's id and re-fetches that payment through
    `gateway` (the service's own: the yookassa SDK in its threads), and nothing else."""
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> dict[str, str]:
        remote = await gateway.get_payment(provider_id(await request.body()))
        return {"status": remote.status.value}

    async with serve_app(app) as url:
        yield url


def timed_refetch(service: Service) -> dict[str, float]:
    """Record how long each re-fetch from YooKassa takes the service, by YooKassa's payment id.

    Wraps the gateway object of this benchmark's service only: from the call to its answer,
    thread hand-over and connection included (the provider's own part is timed by the fake).
    """
    gateway = service.payments.gateway
    fetch = gateway.get_payment
    taken: dict[str, float] = {}

    async def get_payment(provider_id: str) -> ProviderPayment:
        began = time.perf_counter()
        try:
            return await fetch(provider_id)
        finally:
            taken[provider_id] = time.perf_counter() - began

    gateway.get_payment = get_payment  # type: ignore[method-assign]
    return taken


def provider_id(body: bytes) -> str:
    """Return the payment id a notification body names."""
    return str(json.loads(body)["object"]["id"])


@dataclasses.dataclass
class HookRun:
    """What the webhook part collects over its rounds."""

    # Per round: notifications/s of the service, the re-fetch-only endpoint, the bare one.
    rounds: list[tuple[float, float, float]] = dataclasses.field(default_factory=list)
    latencies: list[float] = dataclasses.field(default_factory=list)
    own: list[float] = dataclasses.field(default_factory=list)
    provider: list[float] = dataclasses.field(default_factory=list)
    refetch: list[float] = dataclasses.field(default_factory=list)
    floor: list[float] = dataclasses.field(default_factory=list)
    bare: list[float] = dataclasses.field(default_factory=list)
    cpu: list[float] = dataclasses.field(default_factory=list)
    floor_cpu: list[float] = dataclasses.field(default_factory=list)


async def bench_webhook(tmp: Path) -> list[Row]:
    """Notifications through peer check, re-fetch and fulfilment, against two references.

    Each round sends the same bodies to the service, the re-fetch-only endpoint and the bare
    endpoint, back to back. The ratios are medians of the rounds' own ratios, the latencies are
    over every request. A notification's own latency leaves out the time the fake YooKassa
    itself spent answering its re-fetch (reported beside it).
    """
    (tmp / "hook").mkdir()
    run = HookRun()
    async with RemoteYooKassa(SHOP, SECRET) as yookassa, bare_endpoint() as bare:
        service = await build(paying_settings(tmp / "hook", yookassa))
        await service.start()
        refetch = timed_refetch(service)
        settle_heap()
        try:
            async with refetch_endpoint(service.payments.gateway) as floor:
                for number in range(HOOK_ROUNDS):
                    await one_round(run, service, yookassa, floor, bare, refetch, number)
        finally:
            await service.stop()
    return webhook_rows(run)


async def one_round(  # noqa: PLR0913 - one round needs every party
    run: HookRun,
    service: Service,
    yookassa: RemoteYooKassa,
    floor: str,
    bare: str,
    refetch: dict[str, float],
    number: int,
) -> None:
    """Pay a batch, send its notifications to the service and the same bodies to both
    references; add what was measured to `run`."""
    bodies = await paid_notifications(service, yookassa, NOTIFICATIONS, number)
    cpu_before = time.process_time()
    seconds, taken = await load(f"{service.base_url}{WEBHOOK_PATH}", bodies, NOTIFY_CONCURRENCY)
    run.cpu.append((time.process_time() - cpu_before) / len(bodies))
    provider = await yookassa.fetch_seconds()
    for body, latency in zip(bodies, taken, strict=True):
        payment = provider_id(body)
        run.provider.append(provider[payment])
        run.refetch.append(refetch[payment])
        run.own.append(latency - provider[payment])
    run.latencies += taken
    own = run.own[-len(bodies) :]
    sys.stderr.write(
        f"bench: webhook round {number + 1}: without the provider's time p50 / p99 / max "
        f"{pct(own, 0.5):.1f} / {pct(own, 0.99):.1f} / {pct(own, 1.0):.1f} ms, "
        f"CPU {run.cpu[-1] * 1000:.2f} ms each\n"
    )
    cpu_before = time.process_time()
    floor_seconds, floor_taken = await load(floor, bodies, NOTIFY_CONCURRENCY)
    run.floor_cpu.append((time.process_time() - cpu_before) / len(bodies))
    run.floor += floor_taken
    bare_seconds, bare_taken = await load(bare, bodies, NOTIFY_CONCURRENCY)
    run.bare += bare_taken
    count = len(bodies)
    run.rounds.append((count / seconds, count / floor_seconds, count / bare_seconds))


def webhook_rows(run: HookRun) -> list[Row]:
    """The webhook part's rows; the per-round ratios (the spread) go to stderr."""
    to_bare = [whole / bare for whole, _, bare in run.rounds]
    to_floor = [whole / floor for whole, floor, _ in run.rounds]
    floor_to_bare = [floor / bare for _, floor, bare in run.rounds]
    sys.stderr.write("bench: webhook ratio per round " + " ".join(f"{r:.0%}" for r in to_bare))
    sys.stderr.write("\n")
    whole, floor, bare = (statistics.median(r[i] for r in run.rounds) for i in range(3))
    return [
        Row(
            "webhook notifications/s (verify, re-fetch, fulfil) vs bare FastAPI endpoint",
            f"{whole:,.0f}/s",
            f"{bare:,.0f}/s",
            f"{statistics.median(to_bare):.0%} ({min(to_bare):.0%}–{max(to_bare):.0%}; goal ≥ 50%)",
        ),
        Row(
            "webhook vs an endpoint that only re-fetches the payment (the least it must do)",
            f"{whole:,.0f}/s",
            f"{floor:,.0f}/s",
            f"{statistics.median(to_floor):.0%} ({min(to_floor):.0%}–{max(to_floor):.0%})",
        ),
        Row(
            "re-fetch only vs bare endpoint: the ceiling of the ratio above",
            f"{floor:,.0f}/s, CPU {statistics.median(run.floor_cpu) * 1000:.2f} ms",
            f"{bare:,.0f}/s",
            f"{statistics.median(floor_to_bare):.0%} "
            f"({min(floor_to_bare):.0%}–{max(floor_to_bare):.0%})",
        ),
        Row(
            "webhook latency p50 / p99, whole, vs re-fetch only, vs bare endpoint",
            f"{pct(run.latencies, 0.5):.1f} / {pct(run.latencies, 0.99):.1f} ms",
            f"{pct(run.floor, 0.5):.1f} / {pct(run.floor, 0.99):.1f} ms",
            f"bare {pct(run.bare, 0.5):.1f} / {pct(run.bare, 0.99):.1f} ms",
        ),
        Row(
            "webhook latency p50 / p99 without the provider's time vs the provider's",
            f"{pct(run.own, 0.5):.1f} / {pct(run.own, 0.99):.1f} ms",
            f"{pct(run.provider, 0.5):.2f} / {pct(run.provider, 0.99):.2f} ms",
            f"goal p99 < 50 ms at {NOTIFY_CONCURRENCY} at a time",
        ),
        Row(
            "webhook re-fetch as the service waits for it, p50 / p99",
            f"{pct(run.refetch, 0.5):.1f} / {pct(run.refetch, 0.99):.1f} ms",
            "",
        ),
        Row(
            "webhook CPU per notification in the service's process (median of rounds)",
            f"{statistics.median(run.cpu) * 1000:.2f} ms",
            f"{min(run.cpu) * 1000:.2f}–{max(run.cpu) * 1000:.2f} ms",
            # 16 in flight on one GIL: each waits for the other 15 (p99 about 1.5 x that).
            f"x {NOTIFY_CONCURRENCY} in flight: "
            f"{statistics.median(run.cpu) * 1000 * NOTIFY_CONCURRENCY:.0f} ms, about the p50",
        ),
    ]


async def paid_notifications(
    service: Service, yookassa: RemoteYooKassa, count: int, batch: int = 0
) -> list[bytes]:
    """Create and pay `count` subscription payments (notifications lost); return their bodies."""
    first = 500_000 + batch * count
    async with service.sessionmaker.begin() as session:
        session.add_all(
            User(id=str(first + i), first_name="N", language="ru") for i in range(count)
        )
    await yookassa.lose_notifications(count)
    results = []
    for start in range(0, count, 25):
        results += await asyncio.gather(
            *(
                service.payments.checkout.start_subscription(
                    str(first + i), "monthly", return_url="https://t.me/x"
                )
                for i in range(start, min(count, start + 25))
            )
        )
    paid = [str(result.provider_id) for result in results]
    await yookassa.pay(paid)
    return [
        f'{{"type":"notification","event":"payment.succeeded","object":'
        f'{{"id":"{payment}","status":"succeeded"}}}}'.encode()
        for payment in paid
    ]
