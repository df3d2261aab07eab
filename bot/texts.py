"""Every user-facing string, in Russian and English, plus money and date formatting."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from payments.money import human

RU = "ru"
EN = "en"

_TEXTS: dict[str, tuple[str, str]] = {
    # --- shell -------------------------------------------------------------------------------
    "start": (
        "Здравствуйте, {name}! Это {shop}: билеты в зоопарк и подписки.\n"
        "Выберите, что вас интересует.",
        "Hello, {name}! This is {shop}: zoo tickets and subscriptions.\nWhat would you like?",
    ),
    "menu": ("Главное меню. Выберите, что вас интересует.", "Main menu. What would you like?"),
    "btn_tickets": ("🎟 Билеты", "🎟 Tickets"),
    "btn_subscribe": ("⭐ Подписка", "⭐ Subscription"),
    "btn_my": ("🧾 Мои покупки", "🧾 My purchases"),
    "btn_help": ("❓ Помощь", "❓ Help"),
    "btn_menu": ("⬅️ В меню", "⬅️ Menu"),
    "help": (
        "Что умеет бот:\n"
        "/tickets — купить билеты в зоопарк: дата, время, количество\n"
        "/subscribe — оформить или продлить подписку\n"
        "/my — ваши билеты и подписка\n"
        "/cancel — отменить текущую покупку\n"
        "/help — эта справка\n\n"
        "Оплата картой через ЮKassa. Билеты приходят сюда QR-кодами и на e-mail.",
        "What the bot does:\n"
        "/tickets — buy zoo tickets: date, time, quantity\n"
        "/subscribe — start or renew a subscription\n"
        "/my — your tickets and subscription\n"
        "/cancel — cancel the current purchase\n"
        "/help — this help\n\n"
        "Pay by card through YooKassa. Tickets arrive here as QR codes and by e-mail.",
    ),
    "cmd_start": ("Главное меню", "Main menu"),
    "cmd_tickets": ("Купить билеты", "Buy tickets"),
    "cmd_subscribe": ("Подписка", "Subscription"),
    "cmd_my": ("Мои билеты и подписка", "My tickets and subscription"),
    "cmd_help": ("Помощь", "Help"),
    "cmd_cancel": ("Отменить покупку", "Cancel the purchase"),
    "error": (
        "Что-то пошло не так. Мы уже разбираемся; попробуйте ещё раз чуть позже.",
        "Something went wrong. We are looking into it; please try again a bit later.",
    ),
    "unknown": (
        "Не понимаю это сообщение. Нажмите /help, чтобы увидеть, что умеет бот.",
        "I don't understand that message. Send /help to see what the bot can do.",
    ),
    "stale_button": (
        "Эта кнопка устарела. Откройте меню заново: /start",
        "This button is out of date. Open the menu again: /start",
    ),
    "nothing_to_cancel": ("Отменять нечего.", "There is nothing to cancel."),
    "sandbox_note": (
        "🧪 Песочница: настоящие деньги не списываются.",
        "🧪 Sandbox: no real money is charged.",
    ),
    "my_empty": (
        "У вас пока нет билетов и подписки. Загляните в /tickets или /subscribe.",
        "You have no tickets or subscription yet. Have a look at /tickets or /subscribe.",
    ),
    # --- subscription ------------------------------------------------------------------------
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
    # --- tickets -----------------------------------------------------------------------------
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


def lang_of(language_code: str | None) -> str:
    """Return the interface language for a Telegram language code."""
    return EN if language_code and language_code.lower().startswith("en") else RU


def t(lang: str, key: str, **kwargs: object) -> str:
    """Return the text for a key in a language, formatted with keyword arguments."""
    ru, en = _TEXTS[key]
    template = en if lang == EN else ru
    return template.format(**kwargs) if kwargs else template


def money(amount: Decimal) -> str:
    """Format an amount in roubles for people: `2 999 ₽`."""
    return f"{human(amount)} ₽"


_MONTHS_RU = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS_RU = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def day(lang: str, value: date) -> str:
    """Format a date for people: `25 ноября 2026` or `25 November 2026`."""
    if lang == EN:
        return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"
    return f"{value.day} {_MONTHS_RU[value.month - 1]} {value.year}"


def short_day(lang: str, value: date) -> str:
    """Format a date for a button: `пт 27.11` or `Fri 27.11`."""
    names = _WEEKDAYS_EN if lang == EN else _WEEKDAYS_RU
    return f"{names[value.weekday()]} {value:%d.%m}"


def moment(lang: str, value: datetime, tz: ZoneInfo) -> str:
    """Format an instant in the shop time zone: `25 ноября 2026, 14:05`."""
    local = value.astimezone(tz)
    return f"{day(lang, local.date())}, {local:%H:%M}"
