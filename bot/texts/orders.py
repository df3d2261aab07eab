"""Order integrity: pay messages retired with what happened, expiry told, book again, retry.

Each key maps to (Russian, English); `bot.texts.t()` picks one.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "btn_book_again": ("🔁 Забронировать снова", "🔁 Book again"),
    "pay_message_moved": (
        "Ссылка на оплату — в сообщении ниже.",
        "The payment link is in the message below.",
    ),
    "pay_message_expired": (
        "⌛ Время на оплату истекло, платёж отменён.",
        "⌛ The time to pay ran out; the payment is canceled.",
    ),
    "pay_message_declined": (
        "❌ Платёж не прошёл, деньги не списаны.",
        "❌ The payment did not go through; nothing was charged.",
    ),
    "pay_message_user_canceled": (
        "✖️ Заказ {order_id} отменён, места освобождены.",
        "✖️ Order {order_id} is canceled and its seats are released.",
    ),
    "pay_message_sold_out": (
        "✖️ Места закончились, платёж отменён.",
        "✖️ The seats ran out; the payment is canceled.",
    ),
    "tickets_hold_expired": (
        "⌛ Бронь заказа {order_id} истекла: оплата не пришла вовремя, места освобождены. "
        "Нажмите «Забронировать снова», чтобы оформить то же самое ещё раз.",
        "⌛ The hold of order {order_id} ran out: no payment came in time, so the seats are "
        "released. Press “Book again” to order the same once more.",
    ),
    "plan_payment_expired": (
        "⌛ Время на оплату подписки истекло, платёж отменён. Можно начать заново.",
        "⌛ The time to pay for the subscription ran out; the payment is canceled. You can "
        "start again.",
    ),
    "late_payment_reheld": (
        "Оплата пришла уже после того, как бронь была снята, но места ещё были свободны: мы "
        "забронировали их снова.",
        "Your payment arrived after the hold had ended, but the seats were still free, so we "
        "booked them again.",
    ),
    "late_payment_plan": (
        "Оплата пришла уже после того, как платёж был отменён; мы всё равно её зачислили.",
        "Your payment arrived after the payment had been canceled; we credited it anyway.",
    ),
    "again_gone": (
        "Этот заказ уже не повторить. Начните покупку заново.",
        "This order cannot be repeated any more. Please start a new purchase.",
    ),
    "again_no_seats": (
        "На {date}, {time} свободных мест меньше, чем нужно ({left}). Выберите другое время.",
        "{date}, {time} has fewer free seats than you need ({left}). Please choose another time.",
    ),
}
