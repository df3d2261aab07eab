"""The HTTP gate on shutdown: new requests are turned away, requests in flight finish."""

from __future__ import annotations

import asyncio

import httpx
from starlette.types import Receive, Scope, Send

from payments.shutdown import HttpGate


class SlowApp:
    """Answers 200 once released; says when a request has arrived."""

    def __init__(self) -> None:
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        self.arrived.set()
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})


def _client(gate: HttpGate) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=gate), base_url="http://shop")


def _assert_restarting(response: httpx.Response) -> None:
    assert response.status_code == 503
    assert response.headers["connection"] == "close"
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["success"] is False
    assert "restarting" in body["message"]


async def test_a_request_in_flight_finishes_and_a_new_one_is_turned_away() -> None:
    app = SlowApp()
    gate = HttpGate(app)
    async with _client(gate) as client:
        first = asyncio.create_task(client.post("/v1/payments/sessions"))
        await app.arrived.wait()
        gate.close()
        assert gate.in_flight == 1
        _assert_restarting(await asyncio.wait_for(client.post("/v1/payments/sessions"), 5))
        assert app.calls == 1  # the new request never reached the app
        assert not await gate.wait_idle(0.05)
        app.release.set()
        response = await first
        assert (response.status_code, response.text) == (200, "done")
        assert await gate.wait_idle(1)


async def test_a_request_cancelled_before_answering_gets_a_503_not_a_500() -> None:
    app = SlowApp()
    gate = HttpGate(app)
    async with _client(gate) as client:
        request = asyncio.create_task(client.get("/v1/payments/ZT_1"))
        await app.arrived.wait()
        request.cancel()  # what uvicorn does at the end of the grace
        _assert_restarting(await request)
        assert await gate.wait_idle(1)
