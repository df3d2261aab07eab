"""The gateway with the real SDK against the local YooKassa: retries, timeouts, errors."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from typing import cast

import pytest
import requests

from payments.types import PaymentRequest, PaymentStatus, Receipt, ReceiptLine
from payments.yookassa.gateway import (
    GatewayNotFound,
    GatewayRejected,
    GatewayUnavailable,
    YooKassaGateway,
)
from payments.yookassa.sdk import load_sdk
from tests.fakes.yookassa_api import FakeYooKassa


@pytest.fixture
async def yookassa() -> AsyncIterator[FakeYooKassa]:
    async with FakeYooKassa(shop_id="123456", secret_key="test_secret") as fake:
        yield fake


def _gateway(
    fake: FakeYooKassa, *, timeout: float = 5.0, secret: str = "test_secret", workers: int = 8
) -> YooKassaGateway:
    return YooKassaGateway(
        shop_id=fake.shop_id,
        secret_key=secret,
        api_url=fake.api_url,
        timeout=timeout,
        backoff=(0.05, 0.1, 0.2),
        max_workers=workers,
    )


def _request(key: str = "ZT_0000000001", amount: str = "299.00") -> PaymentRequest:
    return PaymentRequest(
        idempotence_key=key,
        amount=Decimal(amount),
        description="ZooTicket - месячная подписка (30 дней) • 299 ₽",
        return_url="https://t.me/zoo_bot",
        capture=True,
        metadata={"payment_id": key},
        receipt_lines=[ReceiptLine("Подписка", 1, Decimal(amount), 1, "service", "full_payment")],
        receipt_email="anna@example.com",
    )


async def test_create_and_fetch(yookassa: FakeYooKassa) -> None:
    gateway = _gateway(yookassa)
    try:
        created = await gateway.create_payment(_request())
        assert created.status is PaymentStatus.PENDING
        assert created.amount == Decimal("299.00")
        assert created.confirmation_url
        assert created.metadata["payment_id"] == "ZT_0000000001"
        fetched = await gateway.get_payment(created.id)
        assert fetched.id == created.id
        sent = yookassa.requests[0].body
        assert sent["receipt"]["customer"] == {"email": "anna@example.com"}
        assert sent["capture"] is True
    finally:
        await gateway.close()


async def test_calls_reuse_the_connection_to_yookassa(yookassa: FakeYooKassa) -> None:
    # The SDK alone opens (and against the real API, TLS-handshakes) a connection per call.
    gateway = _gateway(yookassa, workers=2)
    try:
        created = await gateway.create_payment(_request())
        for _ in range(5):
            assert (await gateway.get_payment(created.id)).id == created.id
    finally:
        await gateway.close()
    assert len(yookassa.requests) == 6
    assert len({r.peer for r in yookassa.requests}) == 1  # calls one at a time share one


async def test_answers_are_not_charset_sniffed_for_a_log_nobody_keeps(
    yookassa: FakeYooKassa, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The SDK gathers an answer's details for its log whether or not it keeps one, among them
    # `apparent_encoding`: charset detection over the whole body, 3-6 % of a re-fetch's CPU.
    configuration = load_sdk().configuration
    sniffed: list[int] = []
    detect = requests.models.Response.apparent_encoding

    def counted(response: requests.Response) -> str:
        sniffed.append(1)
        return cast(str, detect.fget(response))  # type: ignore[attr-defined]

    monkeypatch.setattr(requests.models.Response, "apparent_encoding", property(counted))
    gateway = _gateway(yookassa)
    try:
        created = await gateway.create_payment(_request())
        await gateway.get_payment(created.id)
        assert sniffed == []
        # With the SDK's logger configured, its log gets every detail, as the SDK gives them.
        monkeypatch.setattr(configuration, "logger", None)  # put back afterwards
        configuration.configure_logger(logging.getLogger("tests.yookassa_sdk"))
        await gateway.get_payment(created.id)
        assert sniffed == [1]
    finally:
        await gateway.close()


async def test_500_then_200_creates_one_payment_with_the_same_key(yookassa: FakeYooKassa) -> None:
    gateway = _gateway(yookassa)
    yookassa.fail_next(n=1, status=500)
    try:
        created = await gateway.create_payment(_request())
    finally:
        await gateway.close()
    assert yookassa.create_count == 1
    keys = [r.idempotence_key for r in yookassa.requests if r.method == "POST"]
    assert keys == ["ZT_0000000001", "ZT_0000000001"]
    assert created.id in yookassa.payments


async def test_429_is_retried(yookassa: FakeYooKassa) -> None:
    gateway = _gateway(yookassa)
    yookassa.fail_next(n=2, status=429)
    try:
        await gateway.create_payment(_request())
    finally:
        await gateway.close()
    assert yookassa.create_count == 1


async def test_result_unknown_500_is_replayed_not_duplicated(yookassa: FakeYooKassa) -> None:
    gateway = _gateway(yookassa)
    yookassa.fail_next(n=1, status=500, after_processing=True)
    try:
        created = await gateway.create_payment(_request())
    finally:
        await gateway.close()
    assert yookassa.create_count == 1
    assert list(yookassa.payments) == [created.id]


async def test_hanging_yookassa_fails_within_the_timeout(yookassa: FakeYooKassa) -> None:
    gateway = _gateway(yookassa, timeout=1.0)
    yookassa.slow(5.0)
    started = time.monotonic()
    try:
        with pytest.raises(GatewayUnavailable):
            await gateway.create_payment(_request())
    finally:
        yookassa.slow(0)
        await gateway.close()
    assert time.monotonic() - started < 2.5


async def test_rejections_are_not_retried(yookassa: FakeYooKassa) -> None:
    gateway = _gateway(yookassa)
    mismatched = replace(_request("ZT_0000000002"), amount=Decimal("300.00"))
    try:
        with pytest.raises(GatewayRejected) as caught:
            await gateway.create_payment(mismatched)
        assert caught.value.status == 400
        assert caught.value.parameter == "receipt"
        with pytest.raises(GatewayNotFound):
            await gateway.get_payment("2fdf54e4-000f-5000-8000-1c6e3a9b7d21")
    finally:
        await gateway.close()
    assert len([r for r in yookassa.requests if r.method == "POST"]) == 1


async def test_wrong_credentials_are_a_rejection(yookassa: FakeYooKassa) -> None:
    gateway = _gateway(yookassa, secret="wrong")
    try:
        with pytest.raises(GatewayRejected) as caught:
            await gateway.create_payment(_request())
    finally:
        await gateway.close()
    assert caught.value.status == 401


async def test_two_stage_capture_cancel_and_refund(yookassa: FakeYooKassa) -> None:
    gateway = _gateway(yookassa)
    try:
        two_stage = replace(_request(), capture=False)
        created = await gateway.create_payment(two_stage)
        await yookassa.pay(created.id)
        authorised = await gateway.get_payment(created.id)
        assert authorised.status is PaymentStatus.WAITING_FOR_CAPTURE
        assert authorised.paid
        captured = await gateway.capture_payment(created.id, Decimal("299.00"), "cap-1")
        assert captured.status is PaymentStatus.SUCCEEDED
        line = ReceiptLine("Подписка", 1, Decimal("100.00"), 1, "service", "full_payment")
        receipt = Receipt((line,), phone="+79991111111")
        refund = await gateway.create_refund(
            created.id, Decimal("100.00"), "ref-1", receipt=receipt
        )
        assert refund.amount == Decimal("100.00")
        sent = yookassa.refund_receipts[refund.id]
        assert sent["customer"] == {"phone": "79991111111"}
        items = [(Decimal(str(i["quantity"])), i["amount"]["value"]) for i in sent["items"]]
        assert items == [(Decimal(1), "100.00")]
        assert (await gateway.get_payment(created.id)).refunded_amount == Decimal("100.00")
        other = await gateway.create_payment(replace(two_stage, idempotence_key="ZT_0000000009"))
        await yookassa.pay(other.id)
        canceled = await gateway.cancel_payment(other.id, "can-1")
        assert canceled.status is PaymentStatus.CANCELED
        assert canceled.cancellation_reason == "canceled_by_merchant"
    finally:
        await gateway.close()
