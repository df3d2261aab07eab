"""Graceful drain on SIGTERM: refuse new work, let work in flight finish, then cut it short.

`HttpGate` wraps the ASGI app: once closed, a new request is answered 503 with
`Connection: close` (the balancer or client goes elsewhere); a request still running when the
grace ends is cancelled by uvicorn, and the gate turns that into a 503 saying the service is
restarting instead of uvicorn's bare 500. `JobWatch` counts scheduler jobs running, so shutdown
can wait for them. `drain_jobs` and `finish` are steps of a stop that main.py's Service puts in
order.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Collection
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
# After the grace: how long cut-short work gets to let go (release seats) before the exit.
SETTLE_SECONDS = 5.0
RESTARTING = (
    "The service is restarting and did not finish this request; nothing more will happen "
    "with it. Please retry in a few seconds."
)


class HttpGate:
    """ASGI wrapper that lets requests drain on shutdown and never answers a cut one with 500."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap the app; the gate starts open."""
        self.app = app
        self._closed = False
        self._running: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def close(self) -> None:
        """Refuse every request that arrives from now on."""
        self._closed = True

    @property
    def in_flight(self) -> int:
        """Return how many requests are being handled."""
        return len(self._running)

    async def wait_idle(self, timeout: float) -> bool:  # noqa: ASYNC109 - a bounded wait on stop
        """Wait (at most `timeout` seconds) until no request is being handled."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request, or refuse it while closed."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._closed:
            await _restarting(send)
            return
        task = asyncio.current_task()
        assert task is not None  # noqa: S101 - uvicorn runs each request in a task
        self._running.add(task)
        self._idle.clear()
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except asyncio.CancelledError:
            if started:
                raise
            # Cut short at the end of the grace: the work below has already let go of what it
            # held (see Checkout.run); answer instead of leaving uvicorn to send a bare 500.
            task.uncancel()
            log.warning("http: %s %s cut short by shutdown", scope["method"], scope["path"])
            await _restarting(send)
        finally:
            self._running.discard(task)
            if not self._running:
                self._idle.set()


async def _restarting(send: Send) -> None:
    body = json.dumps({"success": False, "message": RESTARTING}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def cancel_all(tasks: set[asyncio.Task[Any]], settle_seconds: float = 5.0) -> None:
    """Cancel the tasks and give them `settle_seconds` to unwind (a checkout lets go of seats)."""
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=settle_seconds)


class JobWatch:
    """Count the scheduler's jobs running right now (from its own events)."""

    def __init__(self, scheduler: AsyncIOScheduler) -> None:
        """Listen to job submissions and their ends."""
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()
        scheduler.add_listener(
            self._on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
        )

    def _on_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_SUBMITTED:
            self._running += 1
            self._idle.clear()
            return
        self._running = max(0, self._running - 1)
        if not self._running:
            self._idle.set()

    @property
    def running(self) -> int:
        """Return how many jobs are running."""
        return self._running

    async def wait_idle(self, timeout: float) -> bool:  # noqa: ASYNC109 - a bounded wait on stop
        """Wait (at most `timeout` seconds) until no job is running."""
        try:
            await asyncio.wait_for(self._idle.wait(), max(timeout, 0))
        except TimeoutError:
            return False
        return True


async def drain_jobs(scheduler: AsyncIOScheduler, watch: JobWatch | None, deadline: float) -> None:
    """Let running scheduler jobs finish by `deadline` (loop time), then cancel them."""
    if not scheduler.running:
        return
    if watch is not None and watch.running:
        log.info("draining: %d scheduler job(s) running", watch.running)
        await watch.wait_idle(deadline - asyncio.get_running_loop().time())
    scheduler.shutdown(wait=False)  # cancels the jobs still running
    if watch is not None:
        await watch.wait_idle(SETTLE_SECONDS)


async def finish(tasks: Collection[asyncio.Task[None]], timeout: float) -> None:  # noqa: ASYNC109
    """Wait (at most `timeout` seconds) for the tasks to end, then cancel what is left."""
    if tasks:
        _done, pending = await asyncio.wait(tasks, timeout=timeout)
        await cancel_all(set(pending))
