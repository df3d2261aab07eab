"""Customers' API requests count in the crowd while they are answered (payments/api/served.py);
YooKassa's notifications, health checks and other paths do not."""

from __future__ import annotations

import pytest
from starlette.types import Message, Receive, Scope, Send

from payments.api.served import CustomersServed
from payments.loop_turns import Crowd
from payments.yookassa.webhook import WEBHOOK_PATH

SKIP = frozenset({WEBHOOK_PATH, "/v1/health"})


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(_message: Message) -> None:
    return None


async def test_customers_requests_count_while_answered_and_the_rest_do_not() -> None:
    crowd = Crowd()
    seen: dict[str, int] = {}

    async def app(scope: Scope, _receive: Receive, send: Send) -> None:
        seen[scope["path"]] = crowd.in_flight
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    served = CustomersServed(app, crowd=crowd, skip=SKIP)
    paths = [
        "/v1/payments/sessions",
        "/api/v2/auth/verify",
        "/api/v2/miniapp/catalog",
        WEBHOOK_PATH,
        f"{WEBHOOK_PATH}/",
        "/v1/health",
        "/health",
        "/app/index.html",
        "/metrics",
    ]
    for path in paths:
        await served({"type": "http", "path": path, "method": "GET"}, _receive, _send)

    counted = {path for path, count in seen.items() if count == 1}
    assert counted == {"/v1/payments/sessions", "/api/v2/auth/verify", "/api/v2/miniapp/catalog"}
    assert crowd.in_flight == 0


async def test_a_request_that_fails_leaves_the_crowd_too() -> None:
    crowd = Crowd()

    async def app(_scope: Scope, _receive: Receive, _send: Send) -> None:
        raise RuntimeError("boom")

    served = CustomersServed(app, crowd=crowd, skip=SKIP)
    with pytest.raises(RuntimeError):
        await served({"type": "http", "path": "/v1/payments/x", "method": "GET"}, _receive, _send)
    assert crowd.in_flight == 0
