"""The ticket journey: date, slot, quantities, e-mail, payment, tickets.

Each key maps to (Russian, English); `bot.texts.t()` picks one.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "tickets_pick_date": (
        "🎟 Билеты в {shop}. Выберите дату визита:",
        "🎟 Tickets to {shop}. Choose the day of your visit:",
    ),
    "tickets_no_dates": (
        "Сейчас нет дат, на которые можно купить билеты.",
        "There are no dates to book right now.",
    ),
    "tickets_pick_slot": ("📅 {date}. Выберите время входа:", "📅 {date}. Choose your entry time:"),
    "slot_button": ("{time} · свободно {left}", "{time} · {left} free"),
    "slot_sold_out": ("{time} · мест нет", "{time} · sold out"),
    "slot_gone": ("На это время мест больше нет.", "This time slot is sold out."),
    "date_gone": (
        "Эта дата уже недоступна. Выберите другую.",
        "That date is no longer available. Please choose another.",
    ),
    "tickets_pick_qty": (
        "📅 {date}, {time}\nВыберите билеты (+ / −):",
        "📅 {date}, {time}\nChoose your tickets (+ / −):",
    ),
    "qty_line": ("{title}: {qty} × {price}", "{title}: {qty} × {price}"),
    "qty_total": ("Итого: {total}", "Total: {total}"),
    "qty_below_zero": ("Меньше нуля нельзя.", "It cannot go below zero."),
    "qty_too_many": ("Не больше {max} билетов в одном заказе.", "At most {max} tickets per order."),
    "qty_empty": ("Выберите хотя бы один билет.", "Choose at least one ticket."),
    "btn_next": ("Далее ➡️", "Next ➡️"),
    "btn_back": ("⬅️ Назад", "⬅️ Back"),
    "btn_more_dates": ("Ещё даты ➡️", "More dates ➡️"),
    "btn_skip_email": ("Пропустить", "Skip"),
    "ask_email": (
        "Отправьте e-mail, на который прислать билеты, или нажмите «Пропустить» — тогда билеты "
        "придут только сюда.",
        "Send the e-mail address for your tickets, or press “Skip” to get them only here.",
    ),
    "bad_email": (
        "Это не похоже на e-mail. Попробуйте ещё раз, например anna@example.com.",
        "That does not look like an e-mail address. Try again, e.g. anna@example.com.",
    ),
    "order_summary": (
        "Проверьте заказ:\n📅 {date}, {time}\n{lines}\nИтого: {total}\nE-mail: {email}",
        "Check your order:\n📅 {date}, {time}\n{lines}\nTotal: {total}\nE-mail: {email}",
    ),
    "no_email": ("не указан (билеты придут только сюда)", "none (tickets arrive here only)"),
    "btn_to_payment": ("💳 Перейти к оплате", "💳 Proceed to payment"),
    "sold_out_now": (
        "Пока вы выбирали, места закончились: свободно {left}. Выберите другое время.",
        "Seats ran out while you were choosing: {left} left. Please choose another time.",
    ),
    "tickets_pay_summary": (
        "Заказ {order_id}\n{description}\nК оплате: {price}\n\nМеста забронированы на "
        "{minutes} мин. Нажмите «Оплатить», чтобы перейти на страницу ЮKassa.",
        "Order {order_id}\n{description}\nTo pay: {price}\n\nYour seats are held for "
        "{minutes} min. Press “Pay” to go to the YooKassa page.",
    ),
    "journey_canceled": (
        "Покупка отменена, места освобождены.",
        "The purchase is canceled and the seats are released.",
    ),
    "tickets_paid": (
        "✅ Оплата получена. Заказ {order_id}: {count} бил. на {date}, {time}. "
        "Покажите QR-код на входе.",
        "✅ Payment received. Order {order_id}: {count} ticket(s) for {date}, {time}. "
        "Show the QR code at the gate.",
    ),
    "ticket_caption": (
        "{title} · {date} {time}\nКод: {code}",
        "{title} · {date} {time}\nCode: {code}",
    ),
    "tickets_sold_out_refund": (
        "К сожалению, пока шла оплата, места на это время закончились. Оплата отменена, деньги "
        "не списаны и вернутся на карту.",
        "Sorry, the seats for this time ran out while you were paying. The payment is canceled; "
        "nothing was charged and the money is released back to your card.",
    ),
    "my_tickets_title": ("🎟 Ваши билеты:", "🎟 Your tickets:"),
    "my_ticket_line": ("{date} {time} — {title} ({status})", "{date} {time} — {title} ({status})"),
    "ticket_status_valid": ("действует", "valid"),
    "ticket_status_used": ("использован", "used"),
    "ticket_status_refunded": ("возвращён", "refunded"),
    "btn_show_qr": ("🔳 QR {n}: {title} {date} {time}", "🔳 QR {n}: {title} {date} {time}"),
    "ticket_not_found": ("Билет не найден.", "Ticket not found."),
}
