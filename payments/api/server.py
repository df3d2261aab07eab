"""The HTTP server: a socket bound up front, uvicorn behind the drain gate, access log set-up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from payments.log_filters import ACCESS_LOGGER, hide_auth_queries
from payments.shutdown import HttpGate

log = logging.getLogger(__name__)


class PortUnavailable(Exception):
    """The HTTP socket cannot be bound; the message names the address and the reason."""


class _Server(uvicorn.Server):
    """Uvicorn without its own signal handling: main() owns SIGINT and SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave signals to the composition root."""
        yield


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind the HTTP socket up front so a busy port is a clear configuration error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on accepted sockets whose `proto` says
    # TCP, and without it every answer on a kept-alive connection waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortUnavailable(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class HttpServer:
    """Serves the app on a bound socket; on stop refuses new requests, then lets the rest drain."""

    def __init__(self, host: str, sock: socket.socket) -> None:
        """Keep the host the socket was bound on and the socket."""
        self._host = host
        self._socket = sock
        self._gate: HttpGate | None = None
        self._server: _Server | None = None
        self.tasks: list[asyncio.Task[None]] = []

    @classmethod
    def bind(cls, host: str, port: int) -> HttpServer:
        """Bind `host:port` (0: any free port) or raise PortUnavailable."""
        return cls(host, bind_socket(host, port))

    @property
    def port(self) -> int:
        """Return the bound port (useful with HTTP_PORT=0)."""
        return int(self._socket.getsockname()[1])

    @property
    def base_url(self) -> str:
        """Return the URL of the server on the host it was bound on."""
        return f"http://{self._host}:{self.port}"

    @property
    def internal_base_url(self) -> str:
        """Return how this process reaches its own HTTP server."""
        host = self._host
        if host in {"0.0.0.0", "::", ""}:  # noqa: S104 - we only read the bind address here
            host = "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    def start(self, app: ASGIApp, *, grace_seconds: int, access_log: bool) -> None:
        """Serve `app` behind the drain gate; cut requests short `grace_seconds` into a stop."""
        hide_auth_queries()
        if access_log:  # a Config without it (an earlier service in this process) cut it off
            logging.getLogger(ACCESS_LOGGER).propagate = True
        self._gate = HttpGate(app)
        config = uvicorn.Config(
            self._gate,
            log_config=None,
            access_log=access_log,
            lifespan="off",
            timeout_graceful_shutdown=grace_seconds,
            # Callers' addresses come from payments.yookassa.webhook.client_address and
            # TRUSTED_PROXIES alone: uvicorn would believe X-Forwarded-For from loopback
            # whatever they say.
            proxy_headers=False,
        )
        self._server = _Server(config)
        self.tasks.append(asyncio.create_task(self._server.serve([self._socket]), name="http"))
        log.info("http: listening on %s", self.base_url)

    def refuse(self) -> None:
        """Answer every new request 503 from now on."""
        if self._gate is not None:
            self._gate.close()
            log.info("draining: %d request(s) in flight", self._gate.in_flight)

    def exit(self) -> None:
        """Ask uvicorn to stop accepting and to finish (it cancels what is left at the grace)."""
        if self._server is not None:
            self._server.should_exit = True

    async def settle(self, seconds: float) -> None:
        """Wait (at most `seconds`) for cut-short requests to unwind through the gate."""
        if self._gate is not None and not await self._gate.wait_idle(seconds):
            log.warning("draining: %d request(s) did not unwind", self._gate.in_flight)

    def close(self) -> None:
        """Close the listening socket."""
        self._socket.close()
