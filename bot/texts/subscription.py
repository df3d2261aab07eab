"""The subscription journey: plans, payment, activation, reminders.

Each key maps to (Russian, English); `bot.texts.t()` picks one.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "plans_title": (
        "Подписка {shop}. Выберите тариф:",
        "{shop} subscription. Choose a plan:",
    ),
    "plans_active": (
        "Ваша подписка действует до {date}. Продление добавит дни к этой дате.",
        "Your subscription runs until {date}. Renewing adds the days to that date.",
    ),
    "plans_test": (
        "🧪 Вы тестовый пользователь: любой тариф стоит {price}.",
        "🧪 You are a test user: every plan costs {price}.",
    ),
    "plan_button": ("{title} — {price}", "{title} — {price}"),
    "pay_summary": (
        "{description}\nК оплате: {price}\n\nНажмите «Оплатить», чтобы перейти на страницу ЮKassa. "
        "Ссылка действует {minutes} мин.",
        "{description}\nTo pay: {price}\n\nPress “Pay” to go to the YooKassa page. "
        "The link is valid for {minutes} min.",
    ),
    "btn_pay": ("💳 Оплатить {price}", "💳 Pay {price}"),
    "btn_cancel": ("✖️ Отменить", "✖️ Cancel"),
    "payment_canceled_by_user": (
        "Платёж отменён. Если вы уже оплатили, мы всё равно всё зачислим.",
        "The payment is canceled. If you had already paid, we will still credit it.",
    ),
    "payment_already_final": (
        "Этот платёж уже завершён.",
        "This payment is already finished.",
    ),
    "too_many_pending": (
        "У вас слишком много неоплаченных платежей. Оплатите или отмените один из них, "
        "или попробуйте через {minutes} мин.",
        "You have too many unpaid payments. Pay or cancel one of them, or try again in "
        "{minutes} min.",
    ),
    "too_many_unpaid_seats": (
        "Ваши неоплаченные заказы уже держат {held} мест, а вместе можно держать не больше "
        "{max}. Оплатите прежний заказ или отмените его кнопкой «Отменить» — места освободятся.",
        "Your unpaid orders already hold {held} seats, and at most {max} can be held at once. "
        "Pay an earlier order or cancel it with its “Cancel” button to free the seats.",
    ),
    "provider_down": (
        "Платёжный сервис сейчас не отвечает. Деньги не списаны; попробуйте ещё раз через минуту.",
        "The payment service is not answering right now. Nothing was charged; please try again "
        "in a minute.",
    ),
    "subscription_paid": (
        "✅ Оплата получена. Подписка «{plan}» активна до {date}.",
        "✅ Payment received. Your “{plan}” subscription is active until {date}.",
    ),
    "subscription_granted": (
        "🎁 Вам добавлено {days} дн. подписки. Она активна до {date}.",
        "🎁 You were given {days} days of subscription. It is active until {date}.",
    ),
    "pay_message_paid": ("✅ Оплачено: {description}", "✅ Paid: {description}"),
    "pay_message_canceled": ("✖️ Платёж отменён.", "✖️ The payment is canceled."),
    "payment_canceled": (
        "Платёж не прошёл, деньги не списаны. Попробуйте ещё раз или выберите другую карту.",
        "The payment did not go through and nothing was charged. Try again or use another card.",
    ),
    "payment_expired": (
        "Время на оплату истекло, платёж отменён.",
        "The time to pay ran out; the payment is canceled.",
    ),
    "reminder": (
        "⏰ Ваша подписка заканчивается {date}. Продлить: /subscribe",
        "⏰ Your subscription ends on {date}. Renew: /subscribe",
    ),
    "subscription_ended": (
        "Ваша подписка закончилась. Возобновить её можно в /subscribe.",
        "Your subscription has ended. You can renew it with /subscribe.",
    ),
    "my_subscription_active": (
        "⭐ Подписка «{plan}» активна до {date}.",
        "⭐ Your “{plan}” subscription is active until {date}.",
    ),
    "my_subscription_expired": (
        "Подписка закончилась {date}. Продлить: /subscribe",
        "Your subscription ended on {date}. Renew: /subscribe",
    ),
    "unknown_plan": ("Такого тарифа нет. Откройте /subscribe.", "No such plan. Open /subscribe."),
}
