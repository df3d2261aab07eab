"""Customers' API requests count in the crowd while they are answered (payments/loop_turns.py).

The REST API's routes (`/v1/…` and `/api/v2/…`: web clients, the Mini App, the staff scanner)
are customers waiting for an answer, as the bot's updates are (bot/middlewares.py
`UpdateMetrics`): while more than a few are in hand, YooKassa's notifications not yet started
wait. YooKassa's own notifications and the health checks do not count. A Telegram webhook path
set under these prefixes counts for the moment its request takes (the update itself counts in
the bot).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from payments.loop_turns import Crowd

CUSTOMER_PREFIXES = ("/v1/", "/api/v2/")


class CustomersServed:
    """ASGI middleware: count the customers' API requests in `crowd` while they are handled."""

    def __init__(self, app: ASGIApp, *, crowd: Crowd, skip: frozenset[str]) -> None:
        """Wrap `app`; requests to the paths in `skip` are not customers."""
        self.app = app
        self._crowd = crowd
        self._skip = skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle the request, counted when it is a customer's."""
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or not path.startswith(CUSTOMER_PREFIXES)
            or path.rstrip("/") in self._skip
        ):
            await self.app(scope, receive, send)
            return
        with self._crowd.serving():
            await self.app(scope, receive, send)
