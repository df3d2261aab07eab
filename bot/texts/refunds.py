"""What customers are told about a refund.

Each key maps to (Russian, English); `bot.texts.t()` picks one.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "refund_tickets_full": (
        "💸 Заказ {order_id}: оформлен возврат {amount}. Билеты аннулированы. Деньги вернутся на "
        "карту, обычно в течение нескольких дней.",
        "💸 Order {order_id}: a refund of {amount} is on its way. The tickets are canceled. The "
        "money returns to your card, usually within a few days.",
    ),
    "refund_tickets_partial": (
        "💸 Заказ {order_id}: оформлен возврат {amount}. Билеты остаются в силе. Деньги вернутся "
        "на карту, обычно в течение нескольких дней.",
        "💸 Order {order_id}: a refund of {amount} is on its way. Your tickets stay valid. The "
        "money returns to your card, usually within a few days.",
    ),
    "refund_subscription": (
        "💸 Оформлен возврат {amount} за подписку. Теперь она действует до {date}.",
        "💸 A refund of {amount} for your subscription is on its way. It now runs until {date}.",
    ),
    "refund_subscription_ended": (
        "💸 Оформлен возврат {amount} за подписку. Подписка завершена.",
        "💸 A refund of {amount} for your subscription is on its way. The subscription has ended.",
    ),
    "refund_plain": (
        "💸 Оформлен возврат {amount}. Деньги вернутся на карту, обычно в течение нескольких дней.",
        "💸 A refund of {amount} is on its way. The money returns to your card, usually within a "
        "few days.",
    ),
}
