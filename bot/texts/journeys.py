"""No dead ends: interruptions, typed answers, next steps, the calendar, unpaid orders, the shop.

Each key maps to (Russian, English); `bot.texts.t()` picks one.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    # A menu command in the middle of the ticket journey ends it.
    "journey_interrupted": ("✖️ Покупка билетов прервана.", "✖️ Ticket purchase stopped."),
    # Free text where a button is expected: a pointer, then the step again below.
    "typed_date_hint": (
        "Выберите дату кнопкой ниже — или напишите её, например «завтра» или «25.12».",
        "Choose a date with the buttons below, or type it, e.g. “tomorrow” or “25.12”.",
    ),
    "typed_date_closed": (
        "На {date} билетов нет. Выберите дату кнопкой ниже.",
        "There are no tickets for {date}. Choose a date with the buttons below.",
    ),
    "typed_slot_hint": (
        "Выберите время кнопкой ниже — или напишите его, например «12:00».",
        "Choose a time with the buttons below, or type it, e.g. “12:00”.",
    ),
    "typed_slot_gone": (
        "На это время мест нет или его нет в расписании. Выберите время кнопкой ниже.",
        "That time is not on the schedule or has no seats. Choose a time with the buttons below.",
    ),
    "typed_qty_hint": (
        "Укажите количество кнопками + и − ниже — или напишите, например, «2 взрослых».",
        "Set the number with the + and − buttons below, or type it, e.g. “2 adults”.",
    ),
    "typed_summary_hint": (
        "Проверьте заказ и нажмите кнопку ниже.",
        "Check your order and press a button below.",
    ),
    "step_moved_down": ("⬇️ Продолжим ниже.", "⬇️ Continued below."),
    "chosen_date": ("📅 {date}", "📅 {date}"),
    "chosen_slot": ("📅 {date}, {time}", "📅 {date}, {time}"),
    "chosen_email": ("✉️ e-mail: {email}", "✉️ e-mail: {email}"),
    # The date step: today, tomorrow, and a month calendar.
    "btn_today": ("Сегодня, {date}", "Today, {date}"),
    "btn_tomorrow": ("Завтра, {date}", "Tomorrow, {date}"),
    "cal_weekdays": ("Пн Вт Ср Чт Пт Сб Вс", "Mo Tu We Th Fr Sa Su"),
    "cal_month": ("{month} {year}", "{month} {year}"),
    "cal_months": (
        "Январь Февраль Март Апрель Май Июнь Июль Август Сентябрь Октябрь Ноябрь Декабрь",
        "January February March April May June July August September October November December",
    ),
    "cal_closed": ("В этот день зоопарк закрыт.", "The zoo is closed on that day."),
    "cal_unavailable": (
        "На эту дату билеты не продаются.",
        "Tickets are not sold for that date.",
    ),
    "cal_hint": (
        "✖ — выходной, · — дата недоступна.",
        "✖ — closed, · — not available.",
    ),
    # Next steps under every final message.
    "btn_my_tickets": ("🎟 Мои билеты", "🎟 My tickets"),
    "btn_buy_more": ("🛒 Купить ещё", "🛒 Buy more"),
    "btn_retry": ("🔁 Попробовать снова", "🔁 Try again"),
    "retry_sold_out": (
        "Повторить не получится: места на это время уже заняты. Выберите другое: /tickets",
        "Cannot try again: the seats for that time are taken. Choose another time: /tickets",
    ),
    "retry_date_gone": (
        "Повторить не получится: на эту дату билеты уже не продаются. Выберите другую: /tickets",
        "Cannot try again: that date can no longer be booked. Choose another: /tickets",
    ),
    "retry_paid": ("Этот заказ уже оплачен.", "This order is already paid."),
    "retry_unknown": ("Этот платёж не найден.", "This payment was not found."),
    "retry_busy": (
        "Новый платёж уже создаётся — подождите пару секунд.",
        "A new payment is being created; please wait a few seconds.",
    ),
    "retry_open": (
        "Этот платёж ещё ждёт оплаты: нажмите «Оплатить» в его сообщении или откройте /my.",
        "This payment is still waiting: press “Pay” on its message or open /my.",
    ),
    # /my: unpaid orders.
    "my_unpaid_title": ("⏳ Ждут оплаты:", "⏳ Awaiting payment:"),
    "my_unpaid_tickets": (
        "{n}. Заказ {order_id}: {date}, {time} · {price} · осталось {minutes} мин",
        "{n}. Order {order_id}: {date}, {time} · {price} · {minutes} min left",
    ),
    "my_unpaid_plan": (
        "{n}. {plan} · {price} · осталось {minutes} мин",
        "{n}. {plan} · {price} · {minutes} min left",
    ),
    "btn_my_pay": ("💳 Оплатить {n}: {price}", "💳 Pay {n}: {price}"),
    "btn_my_cancel": ("✖️ Отменить {n}", "✖️ Cancel {n}"),
    "my_unpaid_canceled": (
        "Заказ отменён, места освобождены.",
        "The order is canceled and its seats released.",
    ),
    # Where and when.
    "shop_address": ("📍 Адрес: {address}", "📍 Address: {address}"),
    "shop_hours": ("🕘 Часы работы: {hours}", "🕘 Opening hours: {hours}"),
}
