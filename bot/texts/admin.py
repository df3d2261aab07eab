"""The admin console: menus, figures, look-ups, refunds, grants, prices, broadcasts.

Each key maps to (Russian, English); `bot.texts.t()` picks one.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
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
        "/refund <id> [сумма] — id заказа, платежа или ЮKassa; без суммы возвращается весь "
        "остаток; покажет, что будет, и спросит подтверждение; частичный возврат билетов "
        "оставляет их в силе, подписка сокращается пропорционально\n"
        "/grant <user_id> <дней> — например /grant 123456789 30\n"
        "/setprice <когорта> <тариф> <цена> — когорты new (новые клиенты), returning "
        "(вернувшиеся подписчики), active (действующие подписчики), regular (постоянные "
        "покупатели); цена вида 249, 249.5 или 249,50\n"
        "/capacity <дата> <время> <мест> — дата 2026-07-01 или 01.07.2026, время 10:00\n"
        "/checkin <код> — код с билета, например ZT-7K3M-9QXD-2FAB: регистр, пробелы и дефисы "
        "не важны; только в день визита\n"
        "/broadcast <текст> — спросит подтверждение и покажет, скольким уйдёт\n"
        "/export [дней] — платежи и журнал действий за период, по умолчанию 30 дней",
        "Commands with arguments:\n"
        "/payment <id> — our ZT_… id, YooKassa's id or the order number ZT-…\n"
        "/refund <id> [amount] — the order's, payment's or YooKassa's id; without an amount all "
        "that is left is refunded; says what will happen and asks to confirm; a partial "
        "ticket refund keeps the tickets valid, a subscription is shortened pro rata\n"
        "/grant <user_id> <days> — e.g. /grant 123456789 30\n"
        "/setprice <cohort> <plan> <price> — cohorts new (new customers), returning "
        "(returning subscribers), active (current subscribers), regular (regular customers); "
        "a price like 249, 249.5 or 249,50\n"
        "/capacity <date> <time> <seats> — date 2026-07-01 or 01.07.2026, time 10:00\n"
        "/checkin <code> — the ticket's code, e.g. ZT-7K3M-9QXD-2FAB: case, spaces and dashes "
        "do not matter; on the visit day only\n"
        "/broadcast <text> — asks to confirm and says how many will get it\n"
        "/export [days] — payments and the admin log of a period, 30 days by default",
    ),
    "adm_usage_payment": (
        "Использование: /payment <id> — номер ZT_…, id ЮKassa или номер заказа ZT-…",
        "Usage: /payment <id> — a ZT_… id, YooKassa's id or an order number ZT-…",
    ),
    "adm_usage_refund": (
        "Использование: /refund <id> [сумма], например /refund ZT-20260701-001 500 или "
        "/refund ZT_1234567890 249,50 (id заказа, платежа или ЮKassa; без суммы — весь остаток)",
        "Usage: /refund <id> [amount], e.g. /refund ZT-20260701-001 500 or "
        "/refund ZT_1234567890 249.50 (the order's, payment's or YooKassa's id; no amount: all "
        "that is left)",
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
        "✅ Проходите! {title} · {date}, {time}\n{name} ({user_id})\n{ids}\nОтмечен: {at}",
        "✅ Come in! {title} · {date}, {time}\n{name} ({user_id})\n{ids}\nChecked in: {at}",
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
        "Цена — положительная сумма не больше {max}, до копеек: 249, 249.5 или 249,50.",
        "A price is a positive amount of at most {max}, to the kopeck: 249, 249.5 or 249,50.",
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
