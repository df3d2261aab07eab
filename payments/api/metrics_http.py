"""Where Prometheus scrapes `/metrics`: a listener of its own, off the public API by default.

`METRICS_PORT` set (0: any free port) opens a second listener on `METRICS_HOST` (127.0.0.1 by
default) that answers `GET /metrics` and nothing else, so the public port never shows the shop's
figures. `METRICS_PUBLIC=true` also serves `/metrics` on the public HTTP port, for set-ups whose
proxy keeps that path inside. With neither, there is no `/metrics` and no loop-lag task.
"""

from __future__ import annotations

import asyncio
import logging
import socket

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from payments.api.server import _Server, bind_socket
from payments.metrics import CONTENT_TYPE_LATEST, DatabaseGauges, LoopLagMonitor, render

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"


class MetricsEndpoint:
    """The `/metrics` answer, the loop-lag monitor behind it, and its own listener if asked."""

    def __init__(self, gauges: DatabaseGauges | None, sock: socket.socket | None = None) -> None:
        """Keep the scrape-time gauges and the bound socket of the own listener (or None)."""
        self._gauges = gauges
        self._socket = sock
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._lag = LoopLagMonitor()

    @classmethod
    def bind(cls, gauges: DatabaseGauges | None, host: str, port: int) -> MetricsEndpoint:
        """Bind the own listener now (a busy port is a configuration error, PortUnavailable)."""
        return cls(gauges, bind_socket(host, port))

    @property
    def port(self) -> int | None:
        """Return the own listener's port, or None without one."""
        return int(self._socket.getsockname()[1]) if self._socket is not None else None

    async def answer(self, request: Request) -> Response:
        """Answer a scrape in Prometheus's text format."""
        return Response(await render(self._gauges), media_type=CONTENT_TYPE_LATEST)

    def app(self) -> Starlette:
        """Return the own listener's app: `/metrics`, everything else 404."""
        return Starlette(routes=[Route(METRICS_PATH, self.answer, methods=["GET"])])

    def start(self) -> None:
        """Start the loop-lag monitor and the own listener, if any."""
        self._lag.start()
        if self._socket is None:
            return
        config = uvicorn.Config(
            self.app(), log_config=None, access_log=False, lifespan="off", proxy_headers=False
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve([self._socket]), name="metrics")
        host, port = self._socket.getsockname()[:2]
        log.info("metrics: serving http://%s:%d%s", host, port, METRICS_PATH)

    async def stop(self) -> None:
        """Stop the listener (a scrape in flight gets a second) and the monitor."""
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 2.0)
            except TimeoutError:
                self._task.cancel()
        if self._socket is not None:
            self._socket.close()
        await self._lag.stop()
