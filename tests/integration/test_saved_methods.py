"""Saved payment methods through our gateway and the real SDK, against the fake and the sandbox.

The same journeys on both: a payment that asks to save its method yields `saved: true` with a
title; a charge of the saved method succeeds at once with no confirmation and its receipt;
each failure switch cancels the charge with YooKassa's reason and party; refusals are 400s.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from yookassa import Payment  # noqa: TID251
from yookassa.domain.exceptions import BadRequestError  # noqa: TID251

from payments.types import PaymentRequest, PaymentStatus, ProviderPayment, ReceiptLine
from payments.yookassa.gateway import GatewayRejected, YooKassaGateway
from payments.yookassa.sandbox.api import SandboxYooKassa, setup
from payments.yookassa.sandbox.wire import SANDBOX_SECRET_KEY, SANDBOX_SHOP_ID
from tests.fakes.yookassa_api import FakeYooKassa
from tests.unit.test_sandbox import serving

# Each of YooKassa's reasons a charge of a saved card may be declined with (yookassa.md §1, §6).
DECLINES = [
    "insufficient_funds",
    "card_expired",
    "general_decline",
    "call_issuer",
    "issuer_unavailable",
    "payment_method_limit_exceeded",
    "payment_method_restricted",
    "fraud_suspected",
    "invalid_card_number",
    "internal_timeout",
    "country_forbidden",
]


@dataclass
class Provider:
    """One YooKassa (the fake or the sandbox) behind our gateway, with its test switches."""

    name: str
    gateway: YooKassaGateway
    pay: Callable[[str], Awaitable[Any]]
    fail: Callable[..., None]
    revoke: Callable[[str], None]
    clear: Callable[[str], None]
    remote: Callable[[str], dict[str, Any]]
    count: Callable[[], int]
    api_url: str
    auth: tuple[str, str]


@pytest.fixture(params=["fake", "sandbox"])
async def provider(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Provider]:
    """Run the fake or the sandbox over HTTP and a gateway pointed at it."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    if request.param == "fake":
        async with FakeYooKassa(shop_id="123456", secret_key="test_secret") as fake:
            gateway = YooKassaGateway(
                shop_id="123456", secret_key="test_secret", api_url=fake.api_url, timeout=5.0
            )
            try:
                yield Provider(
                    "fake",
                    gateway,
                    fake.pay,
                    fake.fail_method,
                    fake.revoke_method,
                    fake.clear_method,
                    fake.payments.__getitem__,
                    lambda: len(fake.payments),
                    fake.api_url,
                    ("123456", "test_secret"),
                )
            finally:
                await gateway.close()
        return
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sandbox = SandboxYooKassa(
        public_base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", webhook_url=None
    )
    app = FastAPI()
    setup(app, sandbox)
    async with serving(app, sock):
        gateway = YooKassaGateway(
            shop_id=SANDBOX_SHOP_ID,
            secret_key=SANDBOX_SECRET_KEY,
            api_url=sandbox.api_url(),
            timeout=5.0,
        )
        try:
            yield Provider(
                "sandbox",
                gateway,
                sandbox.pay,
                sandbox.methods.fail,
                sandbox.methods.revoke,
                sandbox.methods.clear,
                sandbox.payments.__getitem__,
                lambda: len(sandbox.payments),
                sandbox.api_url(),
                (SANDBOX_SHOP_ID, SANDBOX_SECRET_KEY),
            )
        finally:
            await gateway.close()
            await sandbox.close()


def _request(key: str, *, save: bool = False, method_id: str | None = None) -> PaymentRequest:
    return PaymentRequest(
        idempotence_key=key,
        amount=Decimal("299.00"),
        description="ZooTicket - месячная подписка (30 дней)",
        return_url="" if method_id else "https://t.me/zoo_bot",
        capture=True,
        metadata={"payment_id": key},
        receipt_lines=[ReceiptLine("Подписка", 1, Decimal("299.00"), 1, "service", "full_payment")],
        receipt_email="anna@example.com",
        save_payment_method=save,
        payment_method_id=method_id,
    )


async def _saved(provider: Provider) -> ProviderPayment:
    """Buy with `save_payment_method`, pay at the checkout; return the payment read back."""
    created = await provider.gateway.create_payment(_request(f"first-{uuid.uuid4()}", save=True))
    assert created.confirmation_url  # the first payment is confirmed by the payer, as usual
    assert created.saved_method is None
    await provider.pay(created.id)
    return await provider.gateway.get_payment(created.id)


async def _charge(provider: Provider, method_id: str, key: str | None = None) -> ProviderPayment:
    return await provider.gateway.create_payment(
        _request(key or f"renew-{uuid.uuid4()}", method_id=method_id)
    )


async def test_a_saved_card_is_reported_saved_with_its_title(provider: Provider) -> None:
    paid = await _saved(provider)
    assert paid.status is PaymentStatus.SUCCEEDED
    method = paid.saved_method
    assert method is not None
    assert method.saved is True
    assert method.id
    assert method.type == "bank_card"
    assert method.title == "Bank card *4444"
    assert method.card_last4 == "4444"


async def test_a_one_off_payment_never_yields_a_saved_method(provider: Provider) -> None:
    created = await provider.gateway.create_payment(_request(f"once-{uuid.uuid4()}"))
    await provider.pay(created.id)
    paid = await provider.gateway.get_payment(created.id)
    assert paid.status is PaymentStatus.SUCCEEDED
    assert paid.method is not None
    assert paid.method.saved is False
    assert paid.saved_method is None
    with pytest.raises(GatewayRejected) as caught:
        await _charge(provider, paid.method.id)
    assert caught.value.description == "Payment method is not saved"


async def test_a_saved_method_is_charged_at_once_with_its_receipt(provider: Provider) -> None:
    method = (await _saved(provider)).saved_method
    assert method is not None
    charge = await _charge(provider, method.id, key="renewal-sub1-2025-07-14")
    assert charge.status is PaymentStatus.SUCCEEDED
    assert charge.paid
    assert charge.confirmation_url is None
    assert charge.amount == Decimal("299.00")
    assert charge.method is not None
    assert charge.method.id == method.id
    remote = provider.remote(charge.id)
    assert "confirmation" not in remote
    assert remote["receipt_registration"] == "succeeded"
    # The renewal key is the idempotence key: the same charge asked again is the same payment.
    before = provider.count()
    again = await _charge(provider, method.id, key="renewal-sub1-2025-07-14")
    assert again.id == charge.id
    assert provider.count() == before


@pytest.mark.parametrize("reason", DECLINES)
async def test_each_decline_switch_cancels_one_charge(provider: Provider, reason: str) -> None:
    method = (await _saved(provider)).saved_method
    assert method is not None
    provider.fail(method.id, reason)
    declined = await _charge(provider, method.id)
    assert declined.status is PaymentStatus.CANCELED
    assert not declined.paid
    assert (declined.cancellation_party, declined.cancellation_reason) == (
        "payment_network",
        reason,
    )
    assert (await _charge(provider, method.id)).status is PaymentStatus.SUCCEEDED  # once only


async def test_a_failure_until_cleared_and_a_revoked_permission(provider: Provider) -> None:
    method = (await _saved(provider)).saved_method
    assert method is not None
    provider.fail(method.id, "card_expired", n=None)
    for _ in range(2):
        assert (await _charge(provider, method.id)).cancellation_reason == "card_expired"
    provider.clear(method.id)
    assert (await _charge(provider, method.id)).status is PaymentStatus.SUCCEEDED
    provider.revoke(method.id)
    for _ in range(2):
        revoked = await _charge(provider, method.id)
        assert revoked.status is PaymentStatus.CANCELED
        assert (revoked.cancellation_party, revoked.cancellation_reason) == (
            "yoo_money",
            "permission_revoked",
        )
        assert revoked.method is not None
        assert revoked.method.saved is False


async def test_an_unknown_method_is_the_providers_400_not_retried(provider: Provider) -> None:
    before = provider.count()
    with pytest.raises(GatewayRejected) as caught:
        await _charge(provider, "2fdf54e4-000f-5000-8000-1c6e3a9b7d21")
    assert caught.value.status == 400
    assert caught.value.description == "Payment method is not saved"
    assert caught.value.parameter == "payment_method_id"
    assert provider.count() == before


async def test_requests_yookassa_refuses_are_400s(provider: Provider) -> None:
    method = (await _saved(provider)).saved_method
    assert method is not None
    base: dict[str, Any] = {
        "amount": {"value": "299.00", "currency": "RUB"},
        "capture": True,
        "payment_method_id": method.id,
    }
    confirmation = {"type": "redirect", "return_url": "https://t.me/zoo_bot"}
    cases = [
        ({**base, "confirmation": confirmation}, "confirmation", "Confirmation must be null"),
        ({**base, "payment_token": "tok"}, "payment_token", "Request should contain only one of"),
    ]
    # Raw HTTP: the SDK itself refuses a request with two sources before sending it.
    async with httpx.AsyncClient(trust_env=False, auth=provider.auth) as client:
        for params, parameter, words in cases:
            answer = await client.post(
                f"{provider.api_url}/payments",
                json=params,
                headers={"Idempotence-Key": str(uuid.uuid4())},
            )
            assert answer.status_code == 400
            assert answer.json()["parameter"] == parameter
            assert answer.json()["description"].startswith(words)
    with pytest.raises(BadRequestError) as caught:
        await asyncio.to_thread(Payment.create, cases[0][0], str(uuid.uuid4()))
    assert caught.value.content["parameter"] == "confirmation"
    with pytest.raises(ValueError, match="cannot save"):
        replace(_request("x", method_id=method.id), save_payment_method=True)
