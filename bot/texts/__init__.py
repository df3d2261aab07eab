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
    # --- admin ---
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
    "adm_not_available": (
        "Эта команда недоступна.",
        "This command is not available.",
    ),
    "adm_menu": (
        "🛠 Управление магазином. Кнопки ниже или команды:\n"
        "/stats — продажи и график\n"
        "/payment <id> — платёж\n"
        "/refund <id> [сумма] — возврат\n"
        "/grant <user_id> <дней> — подарить дни подписки\n"
        "/prices, /setprice <когорта> <тариф> <цена> — цены\n"
        "/capacity <дата> <время> <мест> — вместимость сеанса\n"
        "/checkin <код> — пропустить по билету\n"
        "/broadcast <текст> — рассылка\n"
        "/export [дней] — выгрузка CSV",
        "🛠 Shop console. Use the buttons below or the commands:\n"
        "/stats — sales and chart\n"
        "/payment <id> — a payment\n"
        "/refund <id> [amount] — refund\n"
        "/grant <user_id> <days> — give subscription days\n"
        "/prices, /setprice <cohort> <plan> <price> — prices\n"
        "/capacity <date> <time> <seats> — slot capacity\n"
        "/checkin <code> — let a ticket in\n"
        "/broadcast <text> — message everyone\n"
        "/export [days] — CSV export",
    ),
    "adm_btn_stats": ("📊 Продажи", "📊 Sales"),
    "adm_btn_prices": ("💰 Цены", "💰 Prices"),
    "adm_btn_export": ("📄 Выгрузка за 30 дней", "📄 Export 30 days"),
    "adm_btn_help": ("❓ Команды", "❓ Commands"),
    "adm_help": (
        "Команды с параметрами:\n"
        "/payment <id> — наш номер ZT_…, id ЮKassa или номер заказа ZT-…\n"
        "/refund <id> [сумма] — без суммы возвращается весь остаток; частичный возврат "
        "билетов оставляет их в силе, подписка сокращается пропорционально\n"
        "/grant <user_id> <дней> — например /grant 123456789 30\n"
        "/setprice <когорта> <тариф> <цена> — когорты new, returning, active, regular; цена "
        "вида 249.00\n"
        "/capacity <дата> <время> <мест> — дата 2026-07-01 или 01.07.2026, время 10:00\n"
        "/checkin <код> — код с QR-кода билета; только в день визита\n"
        "/broadcast <текст> — спросит подтверждение и покажет, скольким уйдёт\n"
        "/export [дней] — платежи и журнал действий за период, по умолчанию 30 дней",
        "Commands with arguments:\n"
        "/payment <id> — our ZT_… id, YooKassa's id or the order number ZT-…\n"
        "/refund <id> [amount] — without an amount all that is left is refunded; a partial "
        "ticket refund keeps the tickets valid, a subscription is shortened pro rata\n"
        "/grant <user_id> <days> — e.g. /grant 123456789 30\n"
        "/setprice <cohort> <plan> <price> — cohorts new, returning, active, regular; a price "
        "like 249.00\n"
        "/capacity <date> <time> <seats> — date 2026-07-01 or 01.07.2026, time 10:00\n"
        "/checkin <code> — the code in the ticket's QR; on the visit day only\n"
        "/broadcast <text> — asks to confirm and says how many will get it\n"
        "/export [days] — payments and the admin log of a period, 30 days by default",
    ),
    "adm_usage_payment": (
        "Использование: /payment <id> — номер ZT_…, id ЮKassa или номер заказа ZT-…",
        "Usage: /payment <id> — a ZT_… id, YooKassa's id or an order number ZT-…",
    ),
    "adm_usage_refund": (
        "Использование: /refund <id> [сумма], например /refund ZT_1234567890 500.00 "
        "(без суммы — весь остаток)",
        "Usage: /refund <id> [amount], e.g. /refund ZT_1234567890 500.00 "
        "(no amount: all that is left)",
    ),
    "adm_usage_grant": (
        "Использование: /grant <user_id> <дней>, например /grant 123456789 30",
        "Usage: /grant <user_id> <days>, e.g. /grant 123456789 30",
    ),
    "adm_usage_setprice": (
        "Использование: /setprice <когорта> <тариф> <цена>, например /setprice new monthly 249.00",
        "Usage: /setprice <cohort> <plan> <price>, e.g. /setprice new monthly 249.00",
    ),
    "adm_usage_capacity": (
        "Использование: /capacity <дата> <время> <мест>, например /capacity 2026-07-01 10:00 150 "
        "или /capacity 01.07.2026 10:00 150",
        "Usage: /capacity <date> <time> <seats>, e.g. /capacity 2026-07-01 10:00 150 "
        "or /capacity 01.07.2026 10:00 150",
    ),
    "adm_usage_checkin": (
        "Использование: /checkin <код с билета>",
        "Usage: /checkin <code from the ticket>",
    ),
    "adm_usage_broadcast": (
        "Использование: /broadcast <текст сообщения>",
        "Usage: /broadcast <message text>",
    ),
    "adm_usage_export": (
        "Использование: /export [дней], по умолчанию 30",
        "Usage: /export [days], 30 by default",
    ),
    "adm_stats_title": (
        "📊 Продажи без тестовых платежей, на {at}",
        "📊 Sales without test payments, as of {at}",
    ),
    "adm_stats_line": (
        "{period}: выручка {revenue}, возвраты {refunds}, заказов {orders}, билетов {tickets}, "
        "новых подписчиков {subscribers}",
        "{period}: revenue {revenue}, refunds {refunds}, orders {orders}, tickets {tickets}, "
        "new subscribers {subscribers}",
    ),
    "adm_period_today": ("Сегодня", "Today"),
    "adm_period_week": ("7 дней", "7 days"),
    "adm_period_month": ("30 дней", "30 days"),
    "adm_stats_active": ("Активных подписок сейчас: {count}", "Active subscriptions now: {count}"),
    "adm_chart_title": ("Выручка за 30 дней, ₽", "Revenue over 30 days, RUB"),
    "adm_chart_tickets": ("Билеты", "Tickets"),
    "adm_chart_subscriptions": ("Подписки", "Subscriptions"),
    "adm_pay_title": ("💳 Платёж {id}", "💳 Payment {id}"),
    "adm_pay_test": ("🧪 тестовый платёж", "🧪 test payment"),
    "adm_pay_provider": ("ЮKassa: {id}", "YooKassa: {id}"),
    "adm_pay_tickets_order": ("Билеты, заказ {order_id}", "Tickets, order {order_id}"),
    "adm_pay_plan": (
        "Подписка «{plan}», когорта {cohort}",
        "Subscription “{plan}”, cohort {cohort}",
    ),
    "adm_pay_customer": ("Покупатель: {name} ({user_id})", "Customer: {name} ({user_id})"),
    "adm_pay_email": ("E-mail: {email}", "E-mail: {email}"),
    "adm_pay_amount": (
        "Сумма: {amount} · возвращено: {refunded}",
        "Amount: {amount} · refunded: {refunded}",
    ),
    "adm_pay_status": ("Статус: {status}", "Status: {status}"),
    "adm_pay_created": ("Создан: {at}", "Created: {at}"),
    "adm_pay_captured": ("Оплачен: {at}", "Paid: {at}"),
    "adm_pay_description": ("Описание: {text}", "Description: {text}"),
    "adm_pay_events": ("События ({shown} из {total}):", "Events ({shown} of {total}):"),
    "adm_pay_tickets": ("Билеты ({count}):", "Tickets ({count}):"),
    "adm_pay_checked_in": ("вход {at}", "entered {at}"),
    "adm_pay_period": (
        "Период подписки: {days} дн., {start} — {end}\nПодписка сейчас: {status}, до {expires}",
        "Subscription period: {days} days, {start} — {end}\nSubscription now: {status}, until "
        "{expires}",
    ),
    "adm_pay_refunds": ("Возвраты:", "Refunds:"),
    "adm_pay_audit": ("Действия админов:", "Admin actions:"),
    "adm_refund_done": (
        "💸 Возврат #{refund_id} на {amount} по {payment_id}: {state}.\n"
        "Возвращено {refunded} из {total}.",
        "💸 Refund #{refund_id} of {amount} on {payment_id}: {state}.\n"
        "Refunded {refunded} of {total}.",
    ),
    "adm_refund_retried": (
        "Это повтор возврата, на который ЮKassa не ответила (тот же ключ идемпотентности).",
        "This retried a refund YooKassa had not answered (same idempotence key).",
    ),
    "adm_refund_state_succeeded": ("выполнен", "done"),
    "adm_refund_state_pending": (
        "принят ЮKassa, ждём подтверждения",
        "accepted by YooKassa, waiting for it to finish",
    ),
    "adm_refund_state_canceled": ("отменён ЮKassa", "canceled by YooKassa"),
    "adm_refund_state_unanswered": (
        "ЮKassa не ответила; возврат сохранён — отправьте ту же команду ещё раз, чтобы повторить",
        "YooKassa did not answer; the refund is kept — send the same command again to retry",
    ),
    "adm_refund_tickets": (
        "Билеты: аннулировано {refunded} из {total}.",
        "Tickets: {refunded} of {total} canceled.",
    ),
    "adm_refund_subscription": (
        "Подписка теперь до {date}.",
        "The subscription now runs until {date}.",
    ),
    "adm_refund_subscription_ended": ("Подписка завершена.", "The subscription has ended."),
    "adm_grant_done": (
        "🎁 Пользователю {user_id} добавлено {days} дн.; подписка до {date}.",
        "🎁 {user_id} was given {days} days; the subscription runs until {date}.",
    ),
    "adm_prices_title": ("💰 Цены тарифов по когортам:", "💰 Plan prices per cohort:"),
    "adm_prices_plan": (
        "{title} ({code}, {days} дн.), базовая {base}:",
        "{title} ({code}, {days} days), base {base}:",
    ),
    "adm_price_src_override": ("изменена", "changed"),
    "adm_price_src_catalog": ("из каталога", "from the catalog"),
    "adm_price_src_base": ("базовая", "base"),
    "adm_prices_test": ("Тестовые пользователи платят {price}.", "Test users pay {price}."),
    "adm_setprice_done": (
        "✅ Тариф {plan}, когорта {cohort}: {old} → {new}. Действует со следующей оплаты.",
        "✅ Plan {plan}, cohort {cohort}: {old} → {new}. It applies from the next checkout.",
    ),
    "adm_capacity_done": (
        "✅ {date}, {time}: мест {capacity}; занято {taken} (продано {sold}, в брони {on_hold}); "
        "свободно {free}.",
        "✅ {date}, {time}: {capacity} seats; {taken} taken ({sold} sold, {on_hold} on hold); "
        "{free} free.",
    ),
    "adm_checkin_done": (
        "✅ Проходите! {title} · {date}, {time}\nЗаказ {order_id} · {name} ({user_id})\n"
        "Отмечен: {at}",
        "✅ Come in! {title} · {date}, {time}\nOrder {order_id} · {name} ({user_id})\n"
        "Checked in: {at}",
    ),
    "adm_export_payments": (
        "📄 Платежи за {days} дн.: {count}",
        "📄 Payments of {days} days: {count}",
    ),
    "adm_export_audit": (
        "📄 Журнал действий админов за {days} дн.: {count}",
        "📄 Admin log of {days} days: {count}",
    ),
    "adm_bc_confirm": (
        "📣 Отправить это сообщение {count} получателям?\n\n{text}",
        "📣 Send this message to {count} recipients?\n\n{text}",
    ),
    "adm_bc_nobody": ("Некому отправлять: получателей нет.", "There is nobody to send it to."),
    "adm_bc_too_long": (
        "Слишком длинный текст: не больше {max} символов.",
        "The text is too long: at most {max} characters.",
    ),
    "adm_bc_btn_send": ("✅ Отправить", "✅ Send"),
    "adm_bc_btn_cancel": ("✖️ Отмена", "✖️ Cancel"),
    "adm_bc_btn_stop": ("⏹ Остановить", "⏹ Stop"),
    "adm_bc_canceled": ("Рассылка отменена.", "The broadcast is canceled."),
    "adm_bc_stale": (
        "Эта рассылка уже отправлена, отменена или закончилась.",
        "This broadcast was already sent, canceled or has finished.",
    ),
    "adm_bc_stopping": (
        "Останавливаю после текущего сообщения…",
        "Stopping after the current message…",
    ),
    "adm_bc_progress": (
        "📣 Рассылка #{id}: {done}/{total}\nДоставлено: {sent} · заблокировали бота: {blocked} · "
        "ошибок: {failed}",
        "📣 Broadcast #{id}: {done}/{total}\nDelivered: {sent} · blocked the bot: {blocked} · "
        "failed: {failed}",
    ),
    "adm_bc_finished": (
        "✅ Рассылка #{id} завершена: {done}/{total}\nДоставлено: {sent} · заблокировали бота: "
        "{blocked} · ошибок: {failed}",
        "✅ Broadcast #{id} finished: {done}/{total}\nDelivered: {sent} · blocked the bot: "
        "{blocked} · failed: {failed}",
    ),
    "adm_bc_stopped": (
        "⏹ Рассылка #{id} остановлена: {done}/{total}\nДоставлено: {sent} · заблокировали бота: "
        "{blocked} · ошибок: {failed}",
        "⏹ Broadcast #{id} stopped: {done}/{total}\nDelivered: {sent} · blocked the bot: "
        "{blocked} · failed: {failed}",
    ),
    "adm_no_payment_not_found": (
        "Платёж «{query}» не найден. Укажите номер ZT_…, id ЮKassa или номер заказа ZT-….",
        "Payment “{query}” not found. Give a ZT_… id, YooKassa's id or an order number ZT-….",
    ),
    "adm_no_refund_not_paid": (
        "Вернуть можно только оплаченный платёж; {payment_id} сейчас в статусе {status}.",
        "Only a paid payment can be refunded; {payment_id} is {status}.",
    ),
    "adm_no_refund_bad_amount": (
        "Сумма возврата должна быть больше нуля.",
        "The refund amount must be above zero.",
    ),
    "adm_no_refund_unanswered": (
        "По {payment_id} уже есть возврат на {amount}, на который ЮKassa не ответила. Отправьте "
        "/refund {payment_id} без суммы, чтобы повторить его.",
        "{payment_id} has a refund of {amount} that YooKassa has not answered. Send "
        "/refund {payment_id} without an amount to retry it.",
    ),
    "adm_no_refund_in_progress": (
        "По {payment_id} прямо сейчас оформляется возврат на {amount}. Дождитесь ответа ЮKassa "
        "и проверьте /payment {payment_id}.",
        "A refund of {amount} on {payment_id} is being made right now. Wait for YooKassa's "
        "answer and check /payment {payment_id}.",
    ),
    "adm_no_refund_nothing_left": (
        "Возврат невозможен: по {payment_id} уже возвращено {refunded} из {total}.",
        "No refund possible: {refunded} of {total} on {payment_id} is already refunded.",
    ),
    "adm_no_refund_too_much": (
        "Возврат невозможен: запрошено {requested}, а вернуть можно только {left} из {total}.",
        "No refund possible: {requested} asked, but only {left} of {total} is left to refund.",
    ),
    "adm_no_refund_rejected": (
        "ЮKassa отказала в возврате: {error}",
        "YooKassa refused the refund: {error}",
    ),
    "adm_no_grant_days": ("Дней — от 1 до {max}.", "Days must be 1 to {max}."),
    "adm_no_user_not_found": (
        "Пользователь {user_id} не найден: он ещё не писал боту.",
        "User {user_id} not found: they have not written to the bot yet.",
    ),
    "adm_no_unknown_cohort": (
        "Нет когорты «{cohort}». Когорты: {cohorts}.",
        "No cohort “{cohort}”. Cohorts: {cohorts}.",
    ),
    "adm_no_unknown_plan": (
        "Нет тарифа «{plan}». Тарифы: {plans}.",
        "No plan “{plan}”. Plans: {plans}.",
    ),
    "adm_no_bad_price": (
        "Цена — положительная сумма с двумя знаками после точки, не больше {max}, например 249.00.",
        "A price is a positive amount with two decimals, at most {max}, e.g. 249.00.",
    ),
    "adm_no_unknown_slot": (
        "Нет сеанса {time}. Сеансы: {slots}.",
        "No slot {time}. Slots: {slots}.",
    ),
    "adm_no_date_past": ("Дата {date} уже прошла.", "{date} is in the past."),
    "adm_no_bad_seats": ("Мест — от 0 до {max}.", "Seats must be 0 to {max}."),
    "adm_no_capacity_below": (
        "Нельзя поставить {seats} мест: уже занято {taken} (продано {sold}, в брони неоплаченных "
        "заказов {on_hold}).",
        "Cannot set {seats} seats: {taken} are already taken ({sold} sold, {on_hold} held by "
        "unpaid orders).",
    ),
    "adm_no_ticket_not_found": (
        "⛔ Билет с кодом «{code}» не найден.",
        "⛔ No ticket with code “{code}”.",
    ),
    "adm_no_ticket_used": (
        "⛔ Билет уже прошёл контроль: {at} (админ {by}).",
        "⛔ The ticket was already checked in: {at} (admin {by}).",
    ),
    "adm_no_ticket_refunded": (
        "⛔ Билет возвращён и недействителен.",
        "⛔ The ticket was refunded and is not valid.",
    ),
    "adm_no_ticket_other_day": (
        "⛔ Билет на другой день: {date}, {time}.",
        "⛔ The ticket is for another day: {date}, {time}.",
    ),
    "adm_no_ticket_test": (
        "⛔ Это тестовый билет: его купил тестовый пользователь, по нему не пропускают.",
        "⛔ This is a test ticket, bought by a test user: it does not let anyone in.",
    ),
    "adm_no_export_days": ("Период — от 1 до {max} дней.", "The period is 1 to {max} days."),
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
