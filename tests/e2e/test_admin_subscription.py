"""/subscription end to end: the view, its stop button once (a stale tap says it is already
off), the refusal for everyone else, and the auto-renewal lines of /stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from db.models import User
from db.models_subscriptions import RenewalConsent, Subscription
from tests.e2e.admin_chat import REFUSAL, ask, audit_rows, plain_text
from tests.e2e.conftest import ADMIN_ID, Shop, ShopFactory

CUSTOMER = 5901


async def seed_auto_renewing(shop: Shop, user_id: int) -> None:
    """A customer with an auto-renewing monthly subscription ending in 5 days."""
    now = datetime.now(UTC)
    async with shop.service.sessionmaker.begin() as session:
        session.add(User(id=str(user_id), first_name="Ира", username="ira_zoo", language="ru"))
        await session.flush()
        sub = Subscription(
            user_id=str(user_id),
            plan_code="monthly",
            status="active",
            starts_at=now - timedelta(days=25),
            expires_at=now + timedelta(days=5),
            auto_renew=True,
            renew_method_id="pm-e2e",
            renew_method_title="Карта *4444",
        )
        session.add(sub)
        await session.flush()
        session.add(
            RenewalConsent(
                user_id=str(user_id),
                subscription_id=sub.id,
                text_version="terms-v1",
                channel="bot",
                plan_code="monthly",
                amount=Decimal("299.00"),
                days=30,
                given_at=now - timedelta(days=25),
            )
        )


async def test_subscription_view_stop_once_and_refused_to_others(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    await seed_auto_renewing(shop, CUSTOMER)
    admin = shop.telegram.user(ADMIN_ID)

    stats = await ask(admin, "/stats")
    assert "Подписок с автопродлением: 1" in stats, stats
    assert "Продлений в ближайшие 7 дней: 1 на 299 ₽" in stats, stats

    assert "Использование: /subscription" in await ask(admin, "/subscription")
    assert "не найден" in await ask(admin, "/subscription @nobody")
    await admin.send("/subscription @Ira_Zoo")
    first = await admin.wait_reply()
    text = plain_text(first)
    assert "Ира @ira_zoo (5901)" in text and "Автопродление: включено, Карта *4444" in text, text
    await admin.send(f"/subscription {CUSTOMER}")
    second = await admin.wait_reply()

    await admin.press("Отключить автопродление", first, contains=True)
    assert (await admin.wait_callback_answer()).text == "Автопродление отключено."
    redrawn = await admin.wait_for(
        lambda m: m.message_id == first.message_id and "выключено" in (m.text or "")
    )
    assert not redrawn.buttons
    await admin.press("Отключить автопродление", second, contains=True)
    assert (await admin.wait_callback_answer()).text == "Автопродление уже выключено."
    async with shop.service.sessionmaker() as session:
        sub = (
            await session.execute(select(Subscription).where(Subscription.user_id == str(CUSTOMER)))
        ).scalar_one()
    assert sub.auto_renew is False
    stops = [(r.action, r.result) for r in await audit_rows(shop) if r.action == "stop_renewal"]
    assert stops == [("stop_renewal", "stopped"), ("stop_renewal", "already_off")]

    stranger = shop.telegram.user(CUSTOMER)
    assert await ask(stranger, f"/subscription {CUSTOMER}") == REFUSAL
