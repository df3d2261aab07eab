"""/refund and /payment end to end.

The real Bot and SDK against the local Telegram and YooKassa.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from db.models import Payment, PaymentEvent, Refund
from db.models_subscriptions import Subscription
from tests.e2e.admin_chat import (
    ask,
    audit_rows,
    buy_plan,
    buy_tickets,
    refund,
    seats_held,
    shop_day,
    tickets_of,
)
from tests.e2e.conftest import ADMIN_ID, ShopFactory


async def test_partial_then_full_refund_returns_seats_and_a_third_is_refused(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    payment_id = await buy_tickets(shop, 5201, adults=3)
    visit = shop_day(shop, 1)
    assert await seats_held(shop, visit) == 3
    customer = shop.telegram.user(5201)
    admin = shop.telegram.user(ADMIN_ID)

    assert "Использование: /refund" in await refund(admin, f"/refund {payment_id} 12.345")
    assert "Использование: /refund" in await refund(admin, "/refund")
    partial = await refund(admin, f"/refund {payment_id} 1000.00")
    assert "Возврат #1 на 1 000 ₽" in partial and "выполнен" in partial, partial
    assert "Возвращено 1 000 ₽ из 3 000 ₽" in partial
    await customer.wait_for(lambda m: "Билеты остаются в силе" in (m.text or ""))
    assert {t.status for t in await tickets_of(shop, payment_id)} == {"valid"}
    assert await seats_held(shop, visit) == 3

    too_much = await refund(admin, f"/refund {payment_id} 2500")
    assert "запрошено 2 500 ₽, а вернуть можно только 2 000 ₽ из 3 000 ₽" in too_much

    full = await refund(admin, f"/refund {payment_id}")
    assert "Возврат #2 на 2 000 ₽" in full and "выполнен" in full, full
    assert "Возвращено 3 000 ₽ из 3 000 ₽" in full
    assert "Билеты: аннулировано 3 из 3" in full
    await customer.wait_for(lambda m: "Билеты аннулированы" in (m.text or ""))
    assert {t.status for t in await tickets_of(shop, payment_id)} == {"refunded"}
    assert await seats_held(shop, visit) == 0

    refund_posts = [r for r in shop.yookassa.requests if r.path.endswith("/refunds")]
    third = await refund(admin, f"/refund {payment_id}")
    assert "Возврат невозможен" in third and "уже возвращено 3 000 ₽ из 3 000 ₽" in third, third
    assert [r for r in shop.yookassa.requests if r.path.endswith("/refunds")] == refund_posts

    await shop.yookassa.wait_notifications()
    remote = [r for r in shop.yookassa.refunds.values() if r["status"] == "succeeded"]
    assert len(remote) == 2
    assert sum(Decimal(r["amount"]["value"]) for r in remote) == Decimal("3000.00")
    assert len({r.idempotence_key for r in refund_posts}) == 2
    async with shop.service.sessionmaker() as session:
        payment = await session.get(Payment, payment_id)
        refunds = (await session.execute(select(Refund).order_by(Refund.id))).scalars().all()
        applied = (
            await session.execute(
                select(func.count(PaymentEvent.id)).where(
                    PaymentEvent.payment_id == payment_id,
                    PaymentEvent.event == "refund_succeeded",
                )
            )
        ).scalar_one()
    assert payment is not None and payment.refunded_amount == Decimal("3000.00")
    assert [(r.amount, r.status) for r in refunds] == [
        (Decimal("1000.00"), "succeeded"),
        (Decimal("2000.00"), "succeeded"),
    ]
    assert all(r.applied_at is not None and r.requested_by == ADMIN_ID for r in refunds)
    assert applied == 2  # the admin flow and refund.succeeded both saw each: applied once
    notes = [m for m in customer.messages if "💸" in (m.text or "")]
    assert len(notes) == 2
    results = [a.result for a in await audit_rows(shop) if a.action == "refund"]
    assert len(results) == 4 and results[1].startswith("refused:")
    assert results[-1].startswith("refused:")

    view = await ask(admin, f"/payment {payment_id}")
    assert f"💳 Платёж {payment_id}" in view
    assert "возвращено: 3 000 ₽" in view
    assert "#1 1 000 ₽ — выполнен" in view and "#2 2 000 ₽ — выполнен" in view
    assert view.count("возвращён") == 3
    assert "Действия админов:" in view and "refused:" in view
    order_view = await ask(admin, f"/payment {payment.order_id}")
    assert f"💳 Платёж {payment_id}" in order_view
    assert "не найден" in await ask(admin, "/payment ZT_0000000000")


async def test_subscription_refund_shortens_it_pro_rata(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    payment_id = await buy_plan(shop, 5301)
    async with shop.service.sessionmaker() as session:
        before = (await session.execute(select(Subscription))).scalar_one().expires_at
    admin = shop.telegram.user(ADMIN_ID)
    reply = await refund(admin, f"/refund {payment_id} 149.50")
    assert "выполнен" in reply and "Подписка теперь до" in reply
    async with shop.service.sessionmaker() as session:
        sub = (await session.execute(select(Subscription))).scalar_one()
    assert sub.expires_at == before - timedelta(days=15)  # round(30 × 149.50 / 299) = 15
    customer = shop.telegram.user(5301)
    await customer.wait_for(lambda m: "Теперь она действует до" in (m.text or ""))
    reply = await refund(admin, f"/refund {payment_id}")
    assert "Возвращено 299 ₽ из 299 ₽" in reply
    async with shop.service.sessionmaker() as session:
        sub = (await session.execute(select(Subscription))).scalar_one()
    assert sub.status == "expired"
    assert sub.expires_at <= datetime.now(UTC)
    await customer.wait_for(lambda m: "Подписка завершена" in (m.text or ""))


async def test_refund_pending_at_yookassa_is_finished_by_the_notification(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    payment_id = await buy_tickets(shop, 5401, adults=2)
    shop.yookassa.refunds_pending = True
    admin = shop.telegram.user(ADMIN_ID)
    reply = await refund(admin, f"/refund {payment_id}")
    assert "ждём подтверждения" in reply, reply
    assert {t.status for t in await tickets_of(shop, payment_id)} == {"valid"}
    first = next(iter(shop.yookassa.refunds))
    await shop.yookassa.complete_refund(first, succeed=False)
    assert await shop.yookassa.send_notification("refund.canceled", first) == 200
    async with shop.service.sessionmaker() as session:
        payment = await session.get(Payment, payment_id)
    assert payment is not None and payment.refunded_amount == Decimal("0.00")

    reply = await refund(admin, f"/refund {payment_id}")
    assert "ждём подтверждения" in reply
    second = next(r for r in shop.yookassa.refunds if r != first)
    await shop.yookassa.complete_refund(second)
    customer = shop.telegram.user(5401)
    await customer.wait_for(lambda m: "Билеты аннулированы" in (m.text or ""), timeout=10)
    assert {t.status for t in await tickets_of(shop, payment_id)} == {"refunded"}
    assert await seats_held(shop, shop_day(shop, 1)) == 0
    # YooKassa redelivers: nothing happens twice.
    assert await shop.yookassa.send_notification("refund.succeeded", second) == 200
    # Our webhook answers once it has acted; the first delivery has been answered too.
    await shop.yookassa.wait_notifications()
    answered = [n.http_status for n in shop.yookassa.notifications if n.object_id == second]
    assert answered == [200, 200]
    assert len([m for m in customer.messages if "💸" in (m.text or "")]) == 1
    async with shop.service.sessionmaker() as session:
        statuses = (await session.execute(select(Refund.status).order_by(Refund.id))).all()
    assert [s for (s,) in statuses] == ["canceled", "succeeded"]


async def test_unanswered_refund_is_retried_with_the_same_key(make_shop: ShopFactory) -> None:
    shop = await make_shop(YOOKASSA_TIMEOUT_SECONDS=1)
    payment_id = await buy_plan(shop, 5501)
    admin = shop.telegram.user(ADMIN_ID)
    # YooKassa makes the refund but answers too late; its notification is lost too.
    shop.yookassa.lose_notifications(1)
    shop.yookassa.slow(3.0, n=1)
    reply = await refund(admin, f"/refund {payment_id}", timeout=15)
    assert "ЮKassa не ответила" in reply, reply
    async with shop.service.sessionmaker() as session:
        payment = await session.get(Payment, payment_id)
        row = (await session.execute(select(Refund))).scalar_one()
    assert payment is not None and payment.refunded_amount == Decimal("299.00")  # reserved
    assert (row.status, row.provider_id, row.applied_at) == ("pending", None, None)
    different = await refund(admin, f"/refund {payment_id} 100.00")
    assert "повторить его" in different
    retried = await refund(admin, f"/refund {payment_id}")
    assert "выполнен" in retried and "повтор" in retried, retried
    assert "Подписка завершена" in retried
    keys = {r.idempotence_key for r in shop.yookassa.requests if r.path.endswith("/refunds")}
    assert len(keys) == 1
    assert len(shop.yookassa.refunds) == 1
