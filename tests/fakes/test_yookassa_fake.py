"""Self-tests of the fake YooKassa API, driven through the real ``yookassa`` SDK from threads."""

from __future__ import annotations

import asyncio
import base64
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yookassa import Configuration, Payment, Refund  # noqa: TID251
from yookassa.domain.exceptions import (  # noqa: TID251
    BadRequestError,
    InternalServerError,
    NotFoundError,
    TooManyRequestsError,
    UnauthorizedError,
)
from yookassa.domain.notification import WebhookNotificationFactory  # noqa: TID251

from .yookassa_api import FakeStateError, FakeYooKassa, NotificationRecord

SHOP_ID = "123456"
SECRET = "test_secret"
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
PAYMENT_ID_RE = re.compile(r"^[0-9a-f]{8}-000f-5000-8000-[0-9a-f]{12}$")
REFUND_ID_RE = re.compile(r"^[0-9a-f]{8}-0015-5000-8000-[0-9a-f]{12}$")


def _params(value: str = "100.00", *, capture: bool = True, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "amount": {"value": value, "currency": "RUB"},
        "capture": capture,
        "confirmation": {"type": "redirect", "return_url": "https://t.me/zoo_bot"},
        "description": "Zoo: 2 adult tickets",
        "metadata": {"order_id": "ORD-1"},
    }
    params.update(extra)
    return params


def _receipt(*items: tuple[str, str]) -> dict[str, Any]:
    return {
        "customer": {"email": "buyer@example.com"},
        "items": [
            {
                "description": "Adult ticket",
                "quantity": qty,
                "amount": {"value": price, "currency": "RUB"},
                "vat_code": 1,
                "payment_mode": "full_prepayment",
                "payment_subject": "service",
            }
            for price, qty in items
        ],
    }


async def _call(func: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.to_thread(func, *args)


def _has_none(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_has_none(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_none(v) for v in value)
    return False


class Receiver:
    """Tiny webhook endpoint that answers with queued statuses (then 200)."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.bodies: list[dict[str, Any]] = []
        self.peers: list[str | None] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        """Record the notification and answer."""
        self.bodies.append(await request.json())
        self.peers.append(request.remote)
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
async def fake() -> AsyncIterator[FakeYooKassa]:
    async with FakeYooKassa(shop_id=SHOP_ID, secret_key=SECRET) as server:
        server.redelivery_delays = [0.05, 0.05]
        Configuration.configure(account_id=SHOP_ID, secret_key=SECRET, api_url=server.api_url)
        try:
            yield server
        finally:
            Configuration.configure(None, None)


@pytest.fixture
async def receiver(fake: FakeYooKassa) -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/yookassa/webhook", rec.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rec.url = f"http://127.0.0.1:{runner.addresses[0][1]}/yookassa/webhook"
    fake.notification_url = rec.url
    try:
        yield rec
    finally:
        await runner.cleanup()


async def test_one_stage_create_and_pay(fake: FakeYooKassa) -> None:
    created = await _call(Payment.create, _params(), str(uuid.uuid4()))
    assert PAYMENT_ID_RE.match(created.id)
    assert created.status == "pending"
    assert created.paid is False
    assert created.test is True
    assert created.amount.value == Decimal("100.00")
    assert created.confirmation.confirmation_url == (
        f"{fake.checkout_base}/checkout/payments/v2/contract?orderId={created.id}"
    )
    raw = fake.payments[created.id]
    assert raw["metadata"] == {"order_id": "ORD-1", "cms_name": "yookassa_sdk_python"}
    assert ISO_RE.match(raw["created_at"])
    seconds = int(created.id[:8], 16)
    assert abs(
        datetime.now(UTC) - (datetime(2000, 1, 1, 12, tzinfo=UTC) + timedelta(seconds=seconds))
    ) < timedelta(minutes=1)
    assert "captured_at" not in raw
    assert not _has_none(raw)

    await fake.pay(created.id)
    found = await _call(Payment.find_one, created.id)
    assert found.status == "succeeded"
    assert found.paid is True
    assert found.refundable is True
    assert found.payment_method.card.expiry_month == "12"
    assert found.payment_method.card.last4 == "4444"
    assert found.income_amount.value == Decimal("96.50")
    assert found.authorization_details.three_d_secure.applied is False
    assert found.recipient.account_id == SHOP_ID
    assert ISO_RE.match(fake.payments[created.id]["captured_at"])
    assert "confirmation" not in fake.payments[created.id]
    assert not _has_none(fake.payments[created.id])
    with pytest.raises(FakeStateError):
        await fake.pay(created.id)


async def test_two_stage_capture_and_cancel(fake: FakeYooKassa) -> None:
    created = await _call(Payment.create, _params(capture=False), None)
    with pytest.raises(BadRequestError):
        await _call(Payment.capture, created.id, None, None)
    with pytest.raises(BadRequestError) as not_cancelable:
        await _call(Payment.cancel, created.id, None)
    assert not_cancelable.value.content["description"] == (
        "Payment can not be canceled in current status"
    )
    await fake.pay(created.id)
    waiting = await _call(Payment.find_one, created.id)
    assert waiting.status == "waiting_for_capture"
    assert waiting.paid is True
    expires = datetime.fromisoformat(waiting.expires_at)
    assert timedelta(days=6) < expires - datetime.now(UTC) <= timedelta(days=7)
    with pytest.raises(BadRequestError):
        await _call(
            Payment.capture, created.id, {"amount": {"value": "150", "currency": "RUB"}}, None
        )
    captured = await _call(
        Payment.capture, created.id, {"amount": {"value": "60", "currency": "RUB"}}, None
    )
    assert captured.status == "succeeded"
    assert captured.amount.value == Decimal("60.00")
    assert "expires_at" not in fake.payments[created.id]

    late = await _call(Payment.create, _params(capture=False), None)
    await fake.pay(late.id)
    fake.clock = lambda: datetime.now(UTC) + timedelta(days=8)
    expired = await _call(Payment.find_one, late.id)
    assert expired.status == "canceled"
    assert expired.cancellation_details.reason == "expired_on_capture"
    fake.clock = lambda: datetime.now(UTC)

    second = await _call(Payment.create, _params(capture=False), None)
    await fake.pay(second.id)
    canceled = await _call(Payment.cancel, second.id, None)
    assert canceled.status == "canceled"
    assert canceled.paid is False
    assert canceled.cancellation_details.party == "merchant"
    assert canceled.cancellation_details.reason == "canceled_by_merchant"


async def test_capture_with_receipt_accepted(fake: FakeYooKassa) -> None:
    created = await _call(Payment.create, _params("500.00", capture=False), None)
    await fake.pay(created.id)
    params = {
        "amount": {"value": "500.00", "currency": "RUB"},
        "receipt": _receipt(("250.00", "2")),
    }
    captured = await _call(Payment.capture, created.id, params, None)
    assert captured.status == "succeeded"
    assert fake.payments[created.id]["receipt_registration"] == "succeeded"


async def test_idempotent_replay_and_conflict(fake: FakeYooKassa) -> None:
    key = str(uuid.uuid4())
    first = await _call(Payment.create, _params(), key)
    again = await _call(Payment.create, _params(), key)
    assert again.id == first.id
    assert fake.create_count == 1
    with pytest.raises(BadRequestError) as conflict:
        await _call(Payment.create, _params("200.00"), key)
    assert conflict.value.content["description"] == "Idempotence key duplicated"
    assert conflict.value.content["parameter"] == "Idempotence-Key"
    assert fake.create_count == 1
    fake.clock = lambda: datetime.now(UTC) + timedelta(hours=25)
    expired_key = await _call(Payment.create, _params(), key)
    assert expired_key.id != first.id
    assert fake.create_count == 2


async def test_wrong_credentials(fake: FakeYooKassa) -> None:
    Configuration.configure(account_id=SHOP_ID, secret_key="wrong", api_url=fake.api_url)
    with pytest.raises(UnauthorizedError) as err:
        await _call(Payment.create, _params(), None)
    assert err.value.content["code"] == "invalid_credentials"
    assert fake.create_count == 0


async def test_refunds_partial_full_and_exceeding(fake: FakeYooKassa) -> None:
    pending = await _call(Payment.create, _params(), None)
    with pytest.raises(BadRequestError):
        await _call(
            Refund.create,
            {"payment_id": pending.id, "amount": {"value": "1", "currency": "RUB"}},
            None,
        )
    await fake.pay(pending.id)
    part = await _call(
        Refund.create,
        {"payment_id": pending.id, "amount": {"value": "30", "currency": "RUB"}},
        None,
    )
    assert REFUND_ID_RE.match(part.id)
    assert part.status == "succeeded"
    assert fake.payments[pending.id]["refunded_amount"] == {"value": "30.00", "currency": "RUB"}
    with pytest.raises(BadRequestError) as exceeded:
        await _call(
            Refund.create,
            {"payment_id": pending.id, "amount": {"value": "70.01", "currency": "RUB"}},
            None,
        )
    assert exceeded.value.content["description"] == "Refund sum exceeded"
    await _call(
        Refund.create,
        {"payment_id": pending.id, "amount": {"value": "70", "currency": "RUB"}},
        None,
    )
    with pytest.raises(BadRequestError) as full:
        await _call(
            Refund.create,
            {"payment_id": pending.id, "amount": {"value": "1", "currency": "RUB"}},
            None,
        )
    assert full.value.content["description"] == "Payment is already completely refunded"
    payment = await _call(Payment.find_one, pending.id)
    assert payment.refunded_amount.value == Decimal("100.00")
    listed = await _call(Refund.list, {"payment_id": pending.id})
    assert len(listed.items) == 2
    fetched = await _call(Refund.find_one, part.id)
    assert fetched.amount.value == Decimal("30.00")


async def test_pending_refund_completed_later(fake: FakeYooKassa) -> None:
    created = await _call(Payment.create, _params(), None)
    await fake.pay(created.id)
    fake.refunds_pending = True
    refund = await _call(
        Refund.create,
        {"payment_id": created.id, "amount": {"value": "100", "currency": "RUB"}},
        None,
    )
    assert refund.status == "pending"
    assert "refunded_amount" not in fake.payments[created.id]
    done = await fake.complete_refund(refund.id)
    assert done["status"] == "succeeded"
    assert fake.payments[created.id]["refunded_amount"]["value"] == "100.00"


async def test_receipt_validation(fake: FakeYooKassa) -> None:
    with pytest.raises(BadRequestError) as mismatch:
        await _call(Payment.create, _params("300.00", receipt=_receipt(("100.00", "2"))), None)
    assert mismatch.value.content["parameter"] == "receipt"
    ok = await _call(Payment.create, _params("300.00", receipt=_receipt(("150.00", "2"))), None)
    assert fake.payments[ok.id]["receipt_registration"] == "pending"
    fake.require_receipt = True
    with pytest.raises(BadRequestError) as missing:
        await _call(Payment.create, _params(), None)
    assert missing.value.content["parameter"] == "receipt"


async def test_refund_of_a_payment_sold_with_a_receipt_needs_a_matching_receipt(
    fake: FakeYooKassa,
) -> None:
    sold = await _call(Payment.create, _params("300.00", receipt=_receipt(("150.00", "2"))), None)
    await fake.pay(sold.id)

    def refund(value: str, **extra: Any) -> dict[str, Any]:
        return {"payment_id": sold.id, "amount": {"value": value, "currency": "RUB"}, **extra}

    with pytest.raises(BadRequestError) as missing:
        await _call(Refund.create, refund("100.00"), str(uuid.uuid4()))
    assert missing.value.content["code"] == "invalid_request"
    assert missing.value.content["parameter"] == "receipt"
    with pytest.raises(BadRequestError) as wrong_sum:
        await _call(
            Refund.create, refund("100.00", receipt=_receipt(("150.00", "1"))), str(uuid.uuid4())
        )
    assert wrong_sum.value.content["code"] == "invalid_request"
    assert wrong_sum.value.content["parameter"] == "receipt"
    assert fake.refunds == {}
    assert "refunded_amount" not in fake.payments[sold.id]

    made = await _call(
        Refund.create, refund("100.00", receipt=_receipt(("100.00", "1"))), str(uuid.uuid4())
    )
    assert made.status == "succeeded"
    assert fake.refund_receipts[made.id]["items"][0]["amount"]["value"] == "100.00"

    # A payment sold without a receipt (a shop that does not send them) is refunded without one.
    plain = await _call(Payment.create, _params("50.00"), None)
    await fake.pay(plain.id)
    bare = await _call(Refund.create, refund("50.00", payment_id=plain.id), str(uuid.uuid4()))
    assert bare.status == "succeeded"
    assert bare.id not in fake.refund_receipts


async def test_metadata_limit_counts_cms_name(fake: FakeYooKassa) -> None:
    sixteen = {f"k{i}": "v" for i in range(16)}
    with pytest.raises(BadRequestError) as err:
        await _call(Payment.create, _params(metadata=sixteen), None)
    assert err.value.content["parameter"] == "metadata"
    fifteen = {f"k{i}": "v" for i in range(15)}
    created = await _call(Payment.create, _params(metadata=fifteen), None)
    assert len(fake.payments[created.id]["metadata"]) == 16


async def test_fail_next_500_then_retry_same_key(fake: FakeYooKassa) -> None:
    key = str(uuid.uuid4())
    fake.fail_next(status=500, path_contains="/payments", method="POST")
    with pytest.raises(InternalServerError) as err:
        await _call(Payment.create, _params(), key)
    assert err.value.content["code"] == "internal_server_error"
    assert fake.create_count == 0
    created = await _call(Payment.create, _params(), key)
    again = await _call(Payment.create, _params(), key)
    assert created.id == again.id
    assert fake.create_count == 1
    assert [r.idempotence_key for r in fake.requests] == [key, key, key]


async def test_fail_after_processing_and_429(fake: FakeYooKassa) -> None:
    key = str(uuid.uuid4())
    fake.fail_next(status=500, after_processing=True)
    with pytest.raises(InternalServerError):
        await _call(Payment.create, _params(), key)
    assert fake.create_count == 1
    replay = await _call(Payment.create, _params(), key)
    assert replay.id in fake.payments
    fake.fail_next(status=429, method="GET")
    with pytest.raises(TooManyRequestsError):
        await _call(Payment.find_one, replay.id)
    assert (await _call(Payment.find_one, replay.id)).id == replay.id
    with pytest.raises(NotFoundError):
        await _call(Payment.find_one, "2fdf54e4-000f-5000-8000-1c6e3a9b7d21")


async def test_slow_responses(fake: FakeYooKassa) -> None:
    fake.slow(0.3, n=1)
    started = time.monotonic()
    await _call(Payment.create, _params(), None)
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    await _call(Payment.create, _params(), None)
    assert time.monotonic() - started < 0.3


async def test_notifications_with_redelivery(fake: FakeYooKassa, receiver: Receiver) -> None:
    receiver.statuses = [500]
    created = await _call(Payment.create, _params(), None)
    await fake.pay(created.id)
    await fake.wait_notifications()
    assert fake.notifications == [
        NotificationRecord("payment.succeeded", created.id, 500),
        NotificationRecord("payment.succeeded", created.id, 200),
    ]
    assert receiver.bodies[0] == receiver.bodies[1]
    assert receiver.peers[0] == fake.notification_source_ip
    parsed = WebhookNotificationFactory().create(receiver.bodies[1])
    assert parsed.event == "payment.succeeded"
    assert parsed.object.id == created.id
    assert parsed.object.status == "succeeded"


async def test_decline_expire_lost_and_forged(fake: FakeYooKassa, receiver: Receiver) -> None:
    declined = await _call(Payment.create, _params(), None)
    await fake.decline(declined.id)
    two_stage = await _call(Payment.create, _params(capture=False), None)
    fake.lose_notifications(1)
    await fake.pay(two_stage.id)
    await fake.expire(two_stage.id)
    pending = await _call(Payment.create, _params(), None)
    await fake.expire(pending.id)
    await fake.wait_notifications()
    assert fake.dropped_notifications == [("payment.waiting_for_capture", two_stage.id)]
    reasons = [(b["event"], b["object"]["cancellation_details"]["reason"]) for b in receiver.bodies]
    assert sorted(reasons) == sorted(
        [
            ("payment.canceled", "insufficient_funds"),
            ("payment.canceled", "expired_on_capture"),
            ("payment.canceled", "expired_on_confirmation"),
        ]
    )
    forged = dict(fake.payments[pending.id], status="succeeded")
    assert await fake.send_notification("payment.succeeded", forged) == 200
    assert receiver.bodies[-1]["object"]["status"] == "succeeded"
    assert fake.payments[pending.id]["status"] == "canceled"


async def test_refund_notification_and_recurring(fake: FakeYooKassa, receiver: Receiver) -> None:
    first = await _call(Payment.create, _params(save_payment_method=True), None)
    await fake.pay(first.id)
    method_id = fake.payments[first.id]["payment_method"]["id"]
    assert fake.payments[first.id]["payment_method"]["saved"] is True
    params = {
        "amount": {"value": "99.00", "currency": "RUB"},
        "capture": True,
        "payment_method_id": method_id,
        "description": "Subscription",
    }
    charge = await _call(Payment.create, params, None)
    assert charge.status == "succeeded"
    fake.revoke_method(method_id)
    refused = await _call(Payment.create, params, None)
    assert refused.status == "canceled"
    assert refused.cancellation_details.reason == "permission_revoked"
    await _call(
        Refund.create, {"payment_id": charge.id, "amount": {"value": "99", "currency": "RUB"}}, None
    )
    await fake.wait_notifications()
    events = [b["event"] for b in receiver.bodies]
    assert events.count("refund.succeeded") == 1
    assert events.count("payment.succeeded") == 2


async def test_list_payments(fake: FakeYooKassa) -> None:
    ids = [(await _call(Payment.create, _params(), None)).id for _ in range(3)]
    await fake.pay(ids[0])
    page = await _call(Payment.list, {"limit": 2})
    assert [p.id for p in page.items] == [ids[2], ids[1]]
    rest = await _call(Payment.list, {"limit": 2, "cursor": page.next_cursor})
    assert [p.id for p in rest.items] == [ids[0]]
    assert rest.next_cursor is None
    succeeded = await _call(Payment.list, {"status": "succeeded"})
    assert [p.id for p in succeeded.items] == [ids[0]]


async def test_raw_protocol_errors(fake: FakeYooKassa) -> None:
    token = base64.b64encode(f"{SHOP_ID}:{SECRET}".encode()).decode()
    body = {"amount": {"value": "10.00", "currency": "RUB"}}
    async with aiohttp.ClientSession(headers={"Authorization": f"Basic {token}"}) as session:
        async with session.post(f"{fake.api_url}/payments", json=body) as resp:
            assert resp.status == 400
            assert (await resp.json())["parameter"] == "Idempotence-Key"
        headers = {"Idempotence-Key": "k" * 65}
        async with session.post(f"{fake.api_url}/payments", json=body, headers=headers) as resp:
            assert resp.status == 400
        async with session.get(f"{fake.api_url}/nothing") as resp:
            assert resp.status == 404
            error = await resp.json()
            assert error["type"] == "error"
            assert len(error["id"]) == 36
        bad = {"amount": {"value": "10.00", "currency": "USD"}}
        headers = {"Idempotence-Key": "usd"}
        async with session.post(f"{fake.api_url}/payments", json=bad, headers=headers) as resp:
            assert resp.status == 400
            assert (await resp.json())["parameter"] == "amount.currency"
    assert fake.create_count == 0
