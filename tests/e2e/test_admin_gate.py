"""Only admins reach the console end to end; everyone else is refused and sees nothing.

The real Bot and SDK against the local Telegram and YooKassa.
"""

from __future__ import annotations

from sqlalchemy import select

from db.models import AuditLog, Refund, SlotInventory
from db.models_subscriptions import CohortPrice, Subscription
from tests.e2e.admin_chat import (
    REFUSAL,
    ask,
    buy_plan,
    plain_text,
    shop_day,
)
from tests.e2e.conftest import ShopFactory


async def test_everyone_else_is_refused_and_sees_nothing(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    payment_id = await buy_plan(shop, 5001)
    visit = shop_day(shop, 1)
    async with shop.service.sessionmaker() as session:
        expiry = (await session.execute(select(Subscription))).scalar_one().expires_at
    stranger = shop.telegram.user(5002)
    for command in (
        "/admin",
        "/stats",
        f"/payment {payment_id}",
        f"/refund {payment_id}",
        f"/refund {payment_id} 1.00",
        "/grant 5001 30",
        "/prices",
        "/setprice new monthly 1.00",
        f"/capacity {visit:%Y-%m-%d} 10:00 0",
        "/checkin anything",
        "/broadcast Free money!",
        "/export 30",
        "/export",
    ):
        assert await ask(stranger, command) == REFUSAL, command
    for data in ("adm:stats", "adm:export", "adm:prices", "bc:send:1", "bc:stop:1", "arf:ok:1"):
        await stranger.press_data(data)
        answer = await stranger.wait_callback_answer()
        assert answer.text == REFUSAL
        assert answer.show_alert
    chat = shop.telegram.chat(5002)
    assert all(plain_text(m) == REFUSAL for m in chat.bot_messages)
    assert not any(m.photos or m.documents for m in chat.bot_messages)
    assert payment_id not in " ".join(plain_text(m) for m in chat.bot_messages)
    assert not any(r.path.endswith("/refunds") for r in shop.yookassa.requests)
    assert shop.telegram.chat(5001).bot_messages[-1].text is not None
    assert not any("Free money" in plain_text(m) for m in shop.telegram.chat(5001).bot_messages)
    async with shop.service.sessionmaker() as session:
        assert (await session.execute(select(AuditLog))).scalars().all() == []
        assert (await session.execute(select(CohortPrice))).scalars().all() == []
        assert (await session.execute(select(Refund))).scalars().all() == []
        assert (await session.execute(select(SlotInventory))).scalars().all() == []
        sub = (await session.execute(select(Subscription))).scalar_one()
    assert sub.expires_at == expiry
