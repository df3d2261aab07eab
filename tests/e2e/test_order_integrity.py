"""One order per journey: a pay button pressed twice reuses the pending payment and its link."""

from __future__ import annotations

from sqlalchemy import func, select

from db.models import Order, Payment
from tests.e2e.conftest import Shop, ShopFactory
from tests.e2e.test_tickets import _choose
from tests.fakes.telegram_api import FakeUser


def _created_at_yookassa(shop: Shop) -> int:
    return sum(
        1 for r in shop.yookassa.requests if r.method == "POST" and r.path.endswith("/payments")
    )


async def _count(shop: Shop, model: type[Order] | type[Payment]) -> int:
    async with shop.service.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


def _pay_buttons(user: FakeUser) -> list[str]:
    return [b for m in user.chat.bot_messages for b in m.button_texts() if b.startswith("💳 Опл")]


async def test_double_tap_on_the_pay_step_makes_one_order(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    user = shop.telegram.user(13001)
    await _choose(user, shop, adults=2)
    await user.press("Пропустить")
    summary = await user.wait_for(lambda m: "Проверьте заказ" in (m.text or ""))
    await user.press("💳 Перейти к оплате", summary)
    await user.press("💳 Перейти к оплате", summary)
    await user.wait_for(lambda m: any("💳 Оплатить" in b for b in m.button_texts()), timeout=10)
    await user.wait_callback_answer()
    assert await _count(shop, Order) == 1
    assert await _count(shop, Payment) == 1
    assert _created_at_yookassa(shop) == 1
    assert len(_pay_buttons(user)) == 1
