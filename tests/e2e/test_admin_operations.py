"""/prices, /setprice, /capacity, /grant and /export end to end, in one admin session.

The real Bot and SDK against the local Telegram and YooKassa.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from db.models import SlotInventory
from db.models_subscriptions import Subscription
from tests.e2e.admin_chat import (
    ask,
    shop_day,
)
from tests.e2e.conftest import ADMIN_ID, ShopFactory
from tests.e2e.dates import pick_day


async def test_prices_capacity_grant_and_export(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    admin = shop.telegram.user(ADMIN_ID)
    prices = await ask(admin, "/prices")
    assert (
        "monthly" in prices
        and "новые клиенты (new): 299 ₽" in prices
        and "Тестовые пользователи" in prices
    )

    assert "Использование: /setprice" in await ask(admin, "/setprice new monthly 249.555")
    assert "Нет когорты «vip»" in await ask(admin, "/setprice vip monthly 249.00")
    assert "Нет тарифа «weekly»" in await ask(admin, "/setprice new weekly 249.00")
    done = await ask(admin, "/setprice new monthly 249.00")
    assert "299 ₽ → 249 ₽" in done, done
    assert "новые клиенты (new): 249 ₽ (изменена)" in await ask(admin, "/prices")
    newcomer = shop.telegram.user(5701)
    await newcomer.send("/subscribe")
    plans = await newcomer.wait_reply()
    assert any("249 ₽" in b for b in plans.button_texts()), plans.button_texts()

    # Two seats held by an unpaid order.
    holder = shop.telegram.user(5702)
    await holder.send("/tickets")
    await holder.wait_reply()
    visit = shop_day(shop, 3)
    await pick_day(holder, visit)
    await holder.wait_reply()
    await holder.press("10:00", contains=True)
    await holder.wait_reply()
    for _ in range(2):
        await holder.press_in_row("Взрослый", "+")
        await holder.wait_reply()
    await holder.press("Далее ➡️")
    await holder.wait_reply()
    await holder.press("Пропустить")
    await holder.wait_for(lambda m: "Проверьте заказ" in (m.text or ""))
    await holder.press("💳 Перейти к оплате")
    await holder.wait_for(lambda m: any("💳 Оплатить" in b for b in m.button_texts()), 10)
    below = await ask(admin, f"/capacity {visit:%Y-%m-%d} 10:00 1")
    assert "уже занято 2 (продано 0, в брони неоплаченных заказов 2)" in below, below
    ok = await ask(admin, f"/capacity {visit:%d.%m.%Y} 10:00 5")
    assert "мест 5; занято 2" in ok and "свободно 3" in ok, ok
    async with shop.service.sessionmaker() as session:
        slot = (
            await session.execute(select(SlotInventory).where(SlotInventory.visit_date == visit))
        ).scalar_one()
    assert (slot.capacity, slot.held) == (5, 2)
    assert "Нет сеанса 11:00" in await ask(admin, f"/capacity {visit:%Y-%m-%d} 11:00 5")
    assert "уже прошла" in await ask(admin, f"/capacity {shop_day(shop, -2):%Y-%m-%d} 10:00 5")
    assert "Использование: /capacity" in await ask(admin, "/capacity 31.02.2026 10:00 5")
    assert "Использование: /capacity" in await ask(admin, "/capacity tomorrow 10:00 5")

    assert "Использование: /grant" in await ask(admin, "/grant 5701 many")
    assert "не найден" in await ask(admin, "/grant 999999 10")
    granted = await ask(admin, "/grant 5701 10")
    assert "добавлено 10 дней" in granted, granted
    await newcomer.wait_for(lambda m: "🎁 Вам добавлено 10 дней" in (m.text or ""))
    async with shop.service.sessionmaker() as session:
        sub = (await session.execute(select(Subscription))).scalar_one()
    assert sub.user_id == "5701" and sub.expires_at - sub.starts_at == timedelta(days=10)

    assert "Использование: /export" in await ask(admin, "/export week")
    assert "Использование: /export" in await ask(admin, "/export 7 30")
    for days in ("0", "3661"):
        assert "Период — от 1 до 3660 дней." in await ask(admin, f"/export {days}")
    await admin.send("/export 7")
    await admin.wait_for(lambda m: "Журнал действий" in (m.caption or ""), timeout=10)
    documents = [m for m in admin.messages if m.documents]
    assert len(documents) == 2
    name, data = documents[0].documents[0]
    assert name.startswith("payments-") and name.endswith("-7d.csv")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 1
    assert rows[0]["amount"] == "2000.00" and rows[0]["status"] == "pending"
    assert rows[0]["refunded_amount"] == "0.00"
    log_rows = list(csv.DictReader(io.StringIO(documents[1].documents[0][1].decode("utf-8-sig"))))
    actions = [r["action"] for r in log_rows]
    assert {"prices", "setprice", "capacity", "grant"} <= set(actions)
    assert all(r["admin_id"] == str(ADMIN_ID) for r in log_rows)
    assert any(r["result"].startswith("refused:") for r in log_rows)
