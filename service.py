"""The running service: the parts main.py composed, started in order and drained on stop."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.broadcast import Broadcasts
from bot.runner import Telegram
from db.database import Database
from payments.api.metrics_http import MetricsEndpoint
from payments.api.server import HttpServer
from payments.catalog import Catalog
from payments.compose import Payments
from payments.ports import Clock
from payments.process import favour_the_loop
from payments.shutdown import SETTLE_SECONDS, JobWatch, drain_jobs, finish
from settings import Settings

log = logging.getLogger("zooticket")


@dataclass
class Service:
    """The running service: every part main.build() composed, started and stopped in order."""

    settings: Settings
    catalog: Catalog
    clock: Clock
    database: Database
    payments: Payments
    telegram: Telegram | None
    http: HttpServer
    app: FastAPI
    scheduler: AsyncIOScheduler
    # The watchers of broadcasts' progress messages (with a bot only).
    broadcasts: Broadcasts | None = None
    metrics: MetricsEndpoint | None = None
    _job_watch: JobWatch | None = None
    _stopped: bool = False

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        """Return the session factory (tests and the benchmark read the database through it)."""
        return self.database.sessionmaker

    @property
    def port(self) -> int:
        """Return the bound HTTP port (useful with HTTP_PORT=0)."""
        return self.http.port

    @property
    def base_url(self) -> str:
        """Return the loopback URL of the HTTP server."""
        return self.http.base_url

    async def start(self) -> None:
        """Start HTTP, then the bot and the scheduler."""
        favour_the_loop()
        access_log = self.settings.LOG_LEVEL == "DEBUG"
        grace = self.settings.SHUTDOWN_GRACE_SECONDS
        self.http.start(self.app, grace_seconds=grace, access_log=access_log)
        if self.metrics is not None:
            self.metrics.start()
        if self.telegram is not None:
            await self.telegram.start()
        if self.settings.OUTBOX_SENDER:
            self.payments.outbox.start()
            log.info("outbox: sending lane %s started", self.payments.outbox.instance_id)
        else:
            log.info("outbox: OUTBOX_SENDER is off; this instance only writes messages")
        if self.broadcasts is not None:
            # Broadcasts a restart interrupted: the lane goes on with their pending messages.
            await self.broadcasts.resume()
        self._job_watch = JobWatch(self.scheduler)
        self.scheduler.start()
        log.info("scheduler: started with %d jobs", len(self.scheduler.get_jobs()))

    async def _drain_updates(self, deadline: float) -> None:
        """Let the bot's updates in hand finish by the deadline, then cancel them."""
        if self.telegram is not None:
            await self.telegram.drain(deadline)

    async def stop(self) -> None:
        """Drain: take no new requests or updates, give work in flight the grace, then cancel.

        Everything shares one deadline, SHUTDOWN_GRACE_SECONDS from now: HTTP requests
        (uvicorn stops accepting and cancels what is left at the deadline; the gate answers
        those 503), webhook and polling updates, scheduler jobs. Cancelled work gets
        SETTLE_SECONDS more to let go of what it holds (a cut-short checkout releases its
        seats) before the database closes.
        """
        if self._stopped:
            return
        self._stopped = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.SHUTDOWN_GRACE_SECONDS
        # Take no new work.
        self.http.refuse()
        if self.telegram is not None:
            await self.telegram.stop_taking()
        if self.scheduler.running:
            self.scheduler.pause()
        self.http.exit()
        # Give the work in flight the grace, then cut it short.
        await asyncio.gather(
            self._drain_updates(deadline),
            drain_jobs(self.scheduler, self._job_watch, deadline),
        )
        tasks = self.http.tasks + (self.telegram.tasks if self.telegram is not None else [])
        # uvicorn cancels its requests at the deadline itself; this is a second guard.
        await finish(tasks, max(deadline - loop.time(), 0) + SETTLE_SECONDS)
        if self.broadcasts is not None:
            await self.broadcasts.close()  # watched again after a restart
        # What the drained work committed goes out now; what is left waits in the outbox.
        await self.payments.outbox.stop(grace=min(max(deadline - loop.time(), 1.0), 5.0))
        # Let cut-short work let go of what it holds (seats), then close, the database last.
        await self.http.settle(SETTLE_SECONDS)
        await self.payments.checkout.settle(SETTLE_SECONDS)
        await self.payments.close()
        if self.telegram is not None:
            await self.telegram.close()
        self.http.close()
        if self.metrics is not None:
            await self.metrics.stop()
        await self.database.close()
        log.info("stopped")
