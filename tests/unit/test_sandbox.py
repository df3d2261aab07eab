"""The YooKassa sandbox, driven over real HTTP by the real ``yookassa`` SDK (from threads)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from yookassa import Configuration, Payment, Refund  # noqa: TID251
from yookassa.domain.exceptions import (  # noqa: TID251
    BadRequestError,
    NotFoundError,
    UnauthorizedError,
)
from yookassa.domain.notification import WebhookNotificationFactory  # noqa: TID251

from payments.yookassa.sandbox.api import SandboxYooKassa, setup
from payments.yookassa.sandbox.wire import SANDBOX_SECRET_KEY, SANDBOX_SHOP_ID

PAYMENT_ID_RE = re.compile(r"^[0-9a-f]{8}-000f-5000-8000-[0-9a-f]{12}$")
REFUND_ID_RE = re.compile(r"^[0-9a-f]{8}-0015-5000-8000-[0-9a-f]{12}$")
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
RETURN_URL = "https://t.me/zoo_tickets_bot"
AUTH = (SANDBOX_SHOP_ID, SANDBOX_SECRET_KEY)


async def eventually(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Poll ``condition`` until it holds; fail after ``seconds``."""
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail("condition not met in time")


@dataclass
class Receiver:
    """A webhook endpoint that records notifications and can fail the first attempts."""

    fail_first: int = 0
    attempts: int = 0
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> FastAPI:
        """Build the receiving app."""
        app = FastAPI()

        async def hook(request: Request) -> Response:
            self.attempts += 1
            if self.attempts <= self.fail_first:
                return Response(status_code=500)
            self.bodies.append(await request.json())
            return Response(status_code=200)

        app.add_api_route("/hook", hook, methods=["POST"])
        return app

    async def wait_for(self, count: int) -> list[dict[str, Any]]:
        """Wait until ``count`` notifications arrived; return them."""
        await eventually(lambda: len(self.bodies) >= count)
        return self.bodies


@dataclass
class Env:
    """A running sandbox, its webhook receiver and a browser-like HTTP client."""

    sandbox: SandboxYooKassa
    receiver: Receiver
    client: httpx.AsyncClient


def _bind() -> tuple[socket.socket, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextlib.asynccontextmanager
async def serving(app: FastAPI, sock: socket.socket) -> AsyncIterator[None]:
    """Serve ``app`` with uvicorn on a pre-bound socket for the duration of the block."""
    config = uvicorn.Config(
        app, lifespan="off", log_config=None, access_log=False, timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(5):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture(autouse=True)
def _sdk_config(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Keep loopback traffic off any proxy; reset the SDK's global configuration afterwards."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    yield
    Configuration.configure(account_id=None, secret_key=None)


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Receiver:
    """Provide a webhook receiver; an indirect parameter makes its first attempts fail."""
    return Receiver(fail_first=getattr(request, "param", 0))


@pytest.fixture
async def env(receiver: Receiver) -> AsyncIterator[Env]:
    """Run the sandbox and the receiver over HTTP and point the SDK at the sandbox."""
    hook_sock, hook_base = _bind()
    api_sock, base = _bind()
    sandbox = SandboxYooKassa(
        public_base_url=base, webhook_url=f"{hook_base}/hook", redelivery_delays=(0.05, 0.05)
    )
    app = FastAPI()
    setup(app, sandbox)
    async with (
        serving(receiver.app(), hook_sock),
        serving(app, api_sock),
        httpx.AsyncClient(base_url=base, trust_env=False) as client,
    ):
        Configuration.configure(
            account_id=SANDBOX_SHOP_ID, secret_key=SANDBOX_SECRET_KEY, api_url=sandbox.api_url()
        )
        try:
            yield Env(sandbox, receiver, client)
        finally:
            await sandbox.close()


def _params(value: str = "1500.00", *, capture: bool = True, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "amount": {"value": value, "currency": "RUB"},
        "capture": capture,
        "confirmation": {"type": "redirect", "return_url": RETURN_URL},
        "description": "Zoo: 2 tickets",
        "metadata": {"order_id": "ZT-20250614-001"},
    }
    params.update(extra)
    return params


def _receipt(*prices: str) -> dict[str, Any]:
    items = [
        {
            "description": f"Ticket {n}",
            "quantity": "1.00",
            "amount": {"value": price, "currency": "RUB"},
            "vat_code": 1,
            "payment_mode": "full_prepayment",
            "payment_subject": "service",
        }
        for n, price in enumerate(prices)
    ]
    return {"customer": {"email": "guest@example.com"}, "items": items}


async def _create(params: dict[str, Any], key: str | None = None) -> Any:
    return await asyncio.to_thread(Payment.create, params, key or str(uuid.uuid4()))


async def _find(payment_id: str) -> Any:
    return await asyncio.to_thread(Payment.find_one, payment_id)


async def _paid(env: Env, value: str = "1500.00") -> str:
    payment = await _create(_params(value))
    await env.sandbox.pay(payment.id)
    await env.receiver.wait_for(len(env.receiver.bodies) + 1)
    return str(payment.id)


async def test_one_stage_checkout_pays_and_notifies(env: Env) -> None:
    payment = await _create(_params(receipt=_receipt("1000.00", "500.00")))
    assert PAYMENT_ID_RE.match(payment.id)
    assert payment.status == "pending"
    assert payment.paid is False
    assert payment.test is True
    assert ISO_RE.match(payment.created_at)
    assert payment.description == "Zoo: 2 tickets"
    assert payment.metadata["cms_name"] == "yookassa_sdk_python"
    checkout = payment.confirmation.confirmation_url
    assert checkout == f"{env.sandbox.public_base_url}/sandbox/checkout/{payment.id}"

    page = await env.client.get(checkout, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "SANDBOX</b> Sandbox — no real money is charged" in page.text
    assert f'<form method="post" action="/sandbox/checkout/{payment.id}/pay">' in page.text
    assert f'action="/sandbox/checkout/{payment.id}/decline"' in page.text
    assert "1\u2009500\u00a0₽" in page.text
    assert "Zoo: 2 tickets" in page.text  # no shop's view of it: the payment's description

    # The payer comes back to this page, which says how it went and links back to the shop.
    pressed = await env.client.post(f"/sandbox/checkout/{payment.id}/pay")
    assert pressed.status_code == 303
    assert pressed.headers["location"] == f"/sandbox/checkout/{payment.id}"
    result = await env.client.get(checkout)
    assert "Оплата прошла" in result.text
    assert f'<a class="back" href="{RETURN_URL}">Вернуться в магазин</a>' in result.text

    found = await _find(payment.id)
    assert found.status == "succeeded"
    assert found.paid is True
    assert found.refundable is True
    assert ISO_RE.match(found.captured_at)
    assert found.payment_method.card.last4 == "4444"
    assert found.payment_method.saved is False
    assert found.income_amount.value < found.amount.value
    assert found.receipt_registration == "succeeded"

    [notification] = await env.receiver.wait_for(1)
    assert notification["type"] == "notification"
    assert notification["event"] == "payment.succeeded"
    assert notification["object"]["id"] == payment.id
    assert notification["object"]["status"] == "succeeded"
    assert notification["object"]["test"] is True
    assert WebhookNotificationFactory().create(notification).object.id == payment.id

    again = await env.client.post(f"/sandbox/checkout/{payment.id}/pay")
    assert again.status_code == 303
    assert again.headers["location"] == f"/sandbox/checkout/{payment.id}"
    status_page = await env.client.get(checkout, headers={"Accept-Language": "en"})
    assert "Payment successful" in status_page.text
    assert "/pay" not in status_page.text
    # A second press had it sent anything, would be a delivery under way by now.
    await env.sandbox.wait_deliveries()
    assert len(env.receiver.bodies) == 1
    assert env.receiver.attempts == 1


async def test_decline_cancels_and_notifies(env: Env) -> None:
    payment = await _create(_params())
    pressed = await env.client.post(f"/sandbox/checkout/{payment.id}/decline", data={"lang": "en"})
    assert pressed.status_code == 303
    assert pressed.headers["location"] == f"/sandbox/checkout/{payment.id}?lang=en"
    result = await env.client.get(pressed.headers["location"])
    assert "Payment declined" in result.text
    assert "No money was taken." in result.text
    found = await _find(payment.id)
    assert found.status == "canceled"
    assert found.paid is False
    assert found.cancellation_details.party == "payment_network"
    assert found.cancellation_details.reason == "general_decline"
    [notification] = await env.receiver.wait_for(1)
    assert notification["event"] == "payment.canceled"


async def test_two_stage_capture(env: Env) -> None:
    payment = await _create(_params(capture=False))
    authorized = await env.sandbox.pay(payment.id)
    assert authorized["status"] == "waiting_for_capture"
    found = await _find(payment.id)
    assert found.status == "waiting_for_capture"
    assert found.paid is True
    assert ISO_RE.match(found.expires_at)
    partial = {"amount": {"value": "1000.00", "currency": "RUB"}}
    key = str(uuid.uuid4())
    captured = await asyncio.to_thread(Payment.capture, payment.id, partial, key)
    assert captured.status == "succeeded"
    assert str(captured.amount.value) == "1000.00"
    replay = await asyncio.to_thread(Payment.capture, payment.id, partial, key)
    assert replay.status == "succeeded"
    with pytest.raises(BadRequestError):
        await asyncio.to_thread(Payment.capture, payment.id, None, str(uuid.uuid4()))
    events = [n["event"] for n in await env.receiver.wait_for(2)]
    assert events == ["payment.waiting_for_capture", "payment.succeeded"]


async def test_two_stage_cancel(env: Env) -> None:
    pending = await _create(_params(capture=False))
    with pytest.raises(BadRequestError):
        await asyncio.to_thread(Payment.cancel, pending.id, str(uuid.uuid4()))
    await env.sandbox.pay(pending.id)
    canceled = await asyncio.to_thread(Payment.cancel, pending.id, str(uuid.uuid4()))
    assert canceled.status == "canceled"
    assert canceled.cancellation_details.party == "merchant"
    assert canceled.cancellation_details.reason == "canceled_by_merchant"
    events = [n["event"] for n in await env.receiver.wait_for(2)]
    assert events == ["payment.waiting_for_capture", "payment.canceled"]


async def test_idempotent_replay_and_conflict(env: Env) -> None:
    first = await _create(_params(), "order-42")
    second = await _create(_params(), "order-42")
    assert second.id == first.id
    assert len(env.sandbox.payments) == 1
    with pytest.raises(BadRequestError) as caught:
        await _create(_params("10.00"), "order-42")
    assert caught.value.content["description"] == "Idempotence key duplicated"

    missing = await env.client.post("/sandbox/yookassa/v3/payments", json=_params(), auth=AUTH)
    assert missing.status_code == 400
    assert missing.json()["description"] == "Idempotence key is empty"
    too_long = await env.client.post(
        "/sandbox/yookassa/v3/payments",
        json=_params(),
        auth=AUTH,
        headers={"Idempotence-Key": "k" * 65},
    )
    assert too_long.status_code == 400
    assert too_long.json()["parameter"] == "Idempotence-Key"


async def test_wrong_credentials_are_401(env: Env) -> None:
    Configuration.configure(
        account_id=SANDBOX_SHOP_ID, secret_key="wrong", api_url=env.sandbox.api_url()
    )
    with pytest.raises(UnauthorizedError):
        await _create(_params())
    anonymous = await env.client.get(f"/sandbox/yookassa/v3/payments/{uuid.uuid4()}")
    assert anonymous.status_code == 401
    assert anonymous.json()["type"] == "error"
    assert anonymous.json()["code"] == "invalid_credentials"
    assert env.sandbox.payments == {}


async def test_refunds_partial_full_and_exceeding(env: Env) -> None:
    pending = await _create(_params())
    with pytest.raises(BadRequestError):
        await asyncio.to_thread(
            Refund.create,
            {"payment_id": pending.id, "amount": {"value": "1.00", "currency": "RUB"}},
            str(uuid.uuid4()),
        )
    payment_id = await _paid(env)

    async def refund(value: str) -> Any:
        params = {"payment_id": payment_id, "amount": {"value": value, "currency": "RUB"}}
        return await asyncio.to_thread(Refund.create, params, str(uuid.uuid4()))

    partial = await refund("400.00")
    assert REFUND_ID_RE.match(partial.id)
    assert partial.status == "succeeded"
    assert partial.payment_id == payment_id
    assert (await asyncio.to_thread(Refund.find_one, partial.id)).id == partial.id
    assert str((await _find(payment_id)).refunded_amount.value) == "400.00"

    with pytest.raises(BadRequestError) as caught:
        await refund("1100.01")
    assert caught.value.content["description"] == "Refund sum exceeded"

    await refund("1100.00")
    refunded = await _find(payment_id)
    assert str(refunded.refunded_amount.value) == "1500.00"
    assert refunded.refundable is False
    with pytest.raises(BadRequestError):
        await refund("1.00")
    bodies = await env.receiver.wait_for(3)
    assert [b["event"] for b in bodies[1:]] == ["refund.succeeded", "refund.succeeded"]
    assert bodies[2]["object"]["amount"] == {"value": "1100.00", "currency": "RUB"}
    assert WebhookNotificationFactory().create(bodies[2]).object.payment_id == payment_id


async def test_unknown_objects_are_json_404(env: Env) -> None:
    unknown = str(uuid.uuid4())
    with pytest.raises(NotFoundError):
        await _find(unknown)
    with pytest.raises(NotFoundError):
        await asyncio.to_thread(Refund.find_one, unknown)
    for path in (f"/payments/{unknown}", "/no/such/path"):
        response = await env.client.get(f"/sandbox/yookassa/v3{path}", auth=AUTH)
        assert response.status_code == 404
        assert response.json()["type"] == "error"
        assert response.json()["code"] == "not_found"
    wrong_method = await env.client.get(f"/sandbox/yookassa/v3/payments/{unknown}/cancel")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["type"] == "error"
    page = await env.client.get(f"/sandbox/checkout/{unknown}")
    assert page.status_code == 404
    assert "SANDBOX" in page.text
    assert (await env.client.post(f"/sandbox/checkout/{unknown}/pay")).status_code == 404
    with pytest.raises(KeyError):
        await env.sandbox.pay(unknown)


async def test_checkout_page_escapes_html(env: Env) -> None:
    payment = await _create(_params(description='<script>alert("x")</script> & co'))
    page = await env.client.get(f"/sandbox/checkout/{payment.id}")
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in page.text
    assert "script-src" not in page.headers["content-security-policy"]


async def test_request_validation(env: Env) -> None:
    too_many = {f"k{n}": "v" for n in range(16)}  # plus the SDK's cms_name: 17 keys
    cases: list[tuple[dict[str, Any], str]] = [
        (_params(metadata=too_many), "metadata"),
        (_params(receipt=_receipt("1000.00")), "receipt.items"),
        (_params(confirmation={"type": "redirect"}), "confirmation.return_url"),
    ]
    for params, parameter in cases:
        with pytest.raises(BadRequestError) as caught:
            await _create(params)
        assert caught.value.content["parameter"] == parameter
    headers = {"Idempotence-Key": "raw-1"}
    url = "/sandbox/yookassa/v3/payments"
    no_decimals = await env.client.post(url, json=_params("10"), auth=AUTH, headers=headers)
    assert no_decimals.status_code == 400
    assert no_decimals.json()["parameter"] == "amount.value"
    garbage = await env.client.post(
        url, content=b"not json", auth=AUTH, headers={"Idempotence-Key": "raw-2"}
    )
    assert garbage.status_code == 400
    assert garbage.json()["description"] == "Failed to parse request body"
    assert env.sandbox.payments == {}


@pytest.mark.parametrize("receiver", [1], indirect=True)
async def test_notification_redelivered_after_failure(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="payments.yookassa.sandbox.delivery")
    payment_id = await _paid(env)
    assert env.receiver.attempts == 2
    assert env.receiver.bodies[0]["object"]["id"] == payment_id
    [record] = [r for r in caplog.records if r.name == "payments.yookassa.sandbox.delivery"]
    assert record.levelno == logging.WARNING
    assert "HTTP 500" in record.getMessage()
    assert SANDBOX_SECRET_KEY not in record.getMessage()


async def test_unreachable_webhook_gives_up_and_close_cancels(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="payments.yookassa.sandbox.delivery")

    def sandbox_messages() -> list[str]:
        return [
            r.getMessage() for r in caplog.records if r.name == "payments.yookassa.sandbox.delivery"
        ]

    dead_sock, dead_url = _bind()
    dead_sock.close()  # nothing listens there: connection refused
    api_sock, base = _bind()
    sandbox = SandboxYooKassa(
        public_base_url=base, webhook_url=f"{dead_url}/hook", redelivery_delays=(0.01, 60)
    )
    app = FastAPI()
    setup(app, sandbox)
    async with serving(app, api_sock):
        Configuration.configure(
            account_id=SANDBOX_SHOP_ID, secret_key=SANDBOX_SECRET_KEY, api_url=sandbox.api_url()
        )
        payment = await _create(_params())
        await sandbox.decline(payment.id)
        await eventually(lambda: len(sandbox_messages()) >= 2)
        async with asyncio.timeout(1):
            await sandbox.close()  # the 60 s redelivery is pending and must not hold us
    messages = sandbox_messages()
    assert all("payment.canceled" in m and "attempt" in m for m in messages)
    assert len(messages) == 2


async def test_no_webhook_url_sends_nothing(env: Env) -> None:
    env.sandbox.webhook_url = None
    payment = await _create(_params())
    await env.sandbox.pay(payment.id)
    await env.sandbox.wait_deliveries()
    assert env.receiver.attempts == 0
    assert (await _find(payment.id)).status == "succeeded"


async def test_checkout_page_speaks_the_payers_language(env: Env) -> None:
    payment = await _create(_params(metadata={"lang": "en"}))
    url = f"/sandbox/checkout/{payment.id}"
    # Without the shop's view of the payment: `lang` in its metadata, over the browser's.
    page = await env.client.get(url, headers={"Accept-Language": "ru-RU,ru"})
    assert '<html lang="en">' in page.text
    assert "Pay 1\u2009500\u00a0₽" in page.text
    other = await _create(_params())
    for accept, lang in (("en-US,en;q=0.9", "en"), ("de-DE,de", "ru"), ("", "ru")):
        page = await env.client.get(
            f"/sandbox/checkout/{other.id}", headers={"Accept-Language": accept}
        )
        assert f'<html lang="{lang}">' in page.text, accept
    # The payer's own switch wins, and the result after Decline keeps it.
    page = await env.client.get(f"{url}?lang=ru")
    assert "Оплатить 1\u2009500\u00a0₽" in page.text
    assert '<input type="hidden" name="lang" value="ru">' in page.text
    pressed = await env.client.post(f"{url}/decline", data={"lang": "ru"})
    result = await env.client.get(pressed.headers["location"])
    assert "Оплата отклонена" in result.text
    missing = await env.client.get(
        "/sandbox/checkout/00000000-000f-5000-8000-000000000000",
        headers={"Accept-Language": "en"},
    )
    assert missing.status_code == 404
    assert "Payment not found" in missing.text


async def test_checkout_page_saves_the_card_and_its_switches_fail_charges(env: Env) -> None:
    one_off = await _create(_params(metadata={"lang": "en"}))
    page = await env.client.get(f"/sandbox/checkout/{one_off.id}")
    assert "saved for auto-renewal" not in page.text
    payment = await _create(_params("299.00", save_payment_method=True, metadata={"lang": "en"}))
    url = f"/sandbox/checkout/{payment.id}"
    page = await env.client.get(url)
    assert "Your card will be saved for auto-renewal" in page.text
    assert page.text.index('data-save="1"') < page.text.index('class="pay"')  # read before paying
    russian = await env.client.get(f"{url}?lang=ru")
    assert "Карта будет сохранена для автопродления" in russian.text
    await env.client.post(f"{url}/pay")
    page = await env.client.get(url)
    assert "Card •••• 4444 is saved for auto-renewal." in page.text
    assert "Test: the next charges of this card will succeed." in page.text
    method_id = (await _find(payment.id)).payment_method.id
    charge = {
        "amount": {"value": "299.00", "currency": "RUB"},
        "capture": True,
        "payment_method_id": method_id,
    }
    pressed = await env.client.post(f"{url}/method", data={"do": "fail", "reason": "card_expired"})
    assert pressed.status_code == 303
    assert "declined (card_expired)" in (await env.client.get(url)).text
    for _ in range(2):  # until the payer's switch is turned back
        declined = await _create(charge)
        assert (declined.status, declined.cancellation_details.reason) == (
            "canceled",
            "card_expired",
        )
    await env.client.post(f"{url}/method", data={"do": "revoke"})
    revoked = await _create(charge)
    assert revoked.cancellation_details.party == "yoo_money"
    assert revoked.cancellation_details.reason == "permission_revoked"
    await env.client.post(f"{url}/method", data={"do": "clear"})
    assert (await _create(charge)).status == "succeeded"
    # A made-up reason changes nothing.
    await env.client.post(f"{url}/method", data={"do": "fail", "reason": "<script>"})
    assert (await _create(charge)).status == "succeeded"
