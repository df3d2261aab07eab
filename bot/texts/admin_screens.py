"""The admin console in words: statuses, cohorts, events, the ids of a payment, and /refund's
confirmation.

Each key maps to (Russian, English); `bot.texts.t()` picks one. Words for values the code
stores (`adm_status_<status>`, `adm_cohort_<cohort>`, ...) are looked up by
handlers/admin/words.py, which falls back to the stored value for one it does not know.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    # A payment's status and why it was canceled.
    "adm_status_pending": ("ожидает оплаты", "awaiting payment"),
    "adm_status_waiting_for_capture": (
        "деньги заблокированы, ждут списания",
        "money authorised, awaiting capture",
    ),
    "adm_status_succeeded": ("оплачен", "paid"),
    "adm_status_canceled": ("отменён", "canceled"),
    "adm_status_with_reason": ("{status}: {reason}", "{status}: {reason}"),
    "adm_reason_expired": ("бронь истекла", "the hold expired"),
    "adm_reason_user": ("отменил покупатель", "the customer canceled it"),
    "adm_reason_superseded": ("заменён новым платежом", "replaced by a newer payment"),
    "adm_reason_sold_out": ("места закончились", "the seats ran out"),
    "adm_reason_interrupted": ("оформление прервалось", "the checkout was cut short"),
    "adm_reason_provider": ("отменила ЮKassa ({reason})", "canceled by YooKassa ({reason})"),
    "adm_provider_reason_unavailable": ("ЮKassa не ответила", "YooKassa did not answer"),
    "adm_provider_reason_error": ("ошибка ЮKassa", "a YooKassa error"),
    "adm_provider_reason_insufficient_funds": ("недостаточно средств", "insufficient funds"),
    "adm_provider_reason_general_decline": ("банк отказал", "declined by the bank"),
    "adm_provider_reason_expired_on_confirmation": (
        "не оплачен вовремя",
        "not paid in time",
    ),
    "adm_provider_reason_expired_on_capture": (
        "не списан вовремя",
        "not captured in time",
    ),
    "adm_provider_reason_canceled_by_merchant": ("отменён магазином", "canceled by the shop"),
    "adm_provider_reason_3d_secure_failed": ("не пройден 3-D Secure", "3-D Secure failed"),
    "adm_provider_reason_card_expired": ("срок карты истёк", "the card has expired"),
    "adm_provider_reason_fraud_suspected": (
        "подозрение на мошенничество",
        "suspected fraud",
    ),
    "adm_provider_reason_unknown": ("причина неизвестна", "reason unknown"),
    # A subscription's status.
    "adm_sub_status_active": ("активна", "active"),
    "adm_sub_status_expired": ("закончилась", "ended"),
    # Cohorts: who pays which price.
    "adm_cohort_new": ("новые клиенты", "new customers"),
    "adm_cohort_returning": ("вернувшиеся подписчики", "returning subscribers"),
    "adm_cohort_active": ("действующие подписчики", "current subscribers"),
    "adm_cohort_regular": ("постоянные покупатели", "regular customers"),
    "adm_cohort_test": ("тестовые пользователи", "test users"),
    "adm_stats_cohorts": (
        "Подписки за 30 дней по когортам: {counts}",
        "Subscriptions of 30 days per cohort: {counts}",
    ),
    # Who recorded a payment's event.
    "adm_source_bot": ("бот", "bot"),
    "adm_source_api": ("API", "API"),
    "adm_source_checkout": ("оформление", "checkout"),
    "adm_source_user": ("покупатель", "customer"),
    "adm_source_webhook": ("уведомление ЮKassa", "YooKassa notification"),
    "adm_source_reconciler": ("сверка с ЮKassa", "reconciliation"),
    "adm_source_recheck": ("перепроверка", "recheck"),
    "adm_source_expiry": ("истечение брони", "hold expiry"),
    "adm_source_status": ("запрос статуса", "status request"),
    "adm_source_admin": ("админ", "admin"),
    # What happened to a payment.
    "adm_event_created": ("платёж создан", "payment created"),
    "adm_event_provider_created": ("создан в ЮKassa", "created at YooKassa"),
    "adm_event_provider_failed": (
        "ЮKassa не создала платёж",
        "YooKassa did not create the payment",
    ),
    "adm_event_interrupted": ("оформление прервалось", "checkout cut short"),
    "adm_event_canceled_by_user": ("покупатель отменил", "the customer canceled"),
    "adm_event_waiting_for_capture": ("деньги заблокированы", "money authorised"),
    "adm_event_succeeded": ("оплачен", "paid"),
    "adm_event_canceled": ("отменён", "canceled"),
    "adm_event_updated": ("данные изменены", "details changed"),
    "adm_event_amount_replaced": ("сумма изменена", "amount changed"),
    "adm_event_refund_requested": ("запрошен возврат", "refund requested"),
    "adm_event_refund_unanswered": (
        "ЮKassa не ответила на возврат",
        "YooKassa did not answer the refund",
    ),
    "adm_event_refund_rejected": ("ЮKassa отказала в возврате", "YooKassa refused the refund"),
    "adm_event_refund_succeeded": ("возврат выполнен", "refund done"),
    "adm_event_refund_canceled": ("возврат отменён", "refund canceled"),
    "adm_event_repeat": ("{event} (повторно)", "{event} (again)"),
    "adm_event_late": ("{event} (уже после оплаты)", "{event} (after it was paid)"),
    "adm_event_superseded": ("{event} (заменён новым платежом)", "{event} (superseded)"),
    "adm_event_mismatch": (
        "не совпадает с ЮKassa (там: {event})",
        "does not match YooKassa (there: {event})",
    ),
    "adm_event_change": ("{before} → {after}", "{before} → {after}"),
    "adm_event_now": ("теперь: {after}", "now: {after}"),
    # Admin actions on a payment, and the states of a /refund confirmation.
    "adm_action_refund": ("возврат", "refund"),
    "adm_action_refund_draft": ("предпросмотр возврата", "refund preview"),
    "adm_action_refund_confirm": ("подтверждение возврата", "refund confirmed"),
    "adm_action_refund_cancel": ("отмена возврата", "refund canceled"),
    "adm_result_awaiting_confirmation": ("ждёт подтверждения", "awaiting confirmation"),
    "adm_result_confirmed": ("подтверждён", "confirmed"),
    "adm_result_canceled": ("отменён", "canceled"),
    "adm_result_done": ("выполнено", "done"),
    # One payment's ids, side by side: any of them finds it.
    "adm_ids_order": (
        "Заказ {order_id} · платёж {payment_id} · ЮKassa {provider_id}",
        "Order {order_id} · payment {payment_id} · YooKassa {provider_id}",
    ),
    "adm_ids_payment": (
        "Платёж {payment_id} · ЮKassa {provider_id}",
        "Payment {payment_id} · YooKassa {provider_id}",
    ),
    # /refund asks first.
    "adm_rf_confirm": (
        "💸 Вернуть {amount} из {total}?\n{ids}\nПокупатель: {name} ({user_id})",
        "💸 Refund {amount} of {total}?\n{ids}\nCustomer: {name} ({user_id})",
    ),
    "adm_rf_already": ("Уже возвращено: {refunded}.", "Already refunded: {refunded}."),
    "adm_rf_after": (
        "После возврата останется {left}.",
        "{left} will be left after this refund.",
    ),
    "adm_rf_retry": (
        "Это повтор возврата, на который ЮKassa не ответила (тот же ключ).",
        "This retries a refund YooKassa has not answered (same key).",
    ),
    "adm_rf_tickets_void": (
        "Билеты: будут аннулированы {count} из {total}.",
        "Tickets: {count} of {total} will be voided.",
    ),
    "adm_rf_tickets_used": (
        "Уже прошли контроль и останутся: {count}.",
        "Already checked in, they stay as they are: {count}.",
    ),
    "adm_rf_seats": (
        "Мест вернётся в продажу: {count} ({date}, {time}).",
        "Seats back on sale: {count} ({date}, {time}).",
    ),
    "adm_rf_seats_past": (
        "Места не вернутся в продажу: сеанс {date}, {time} уже начался.",
        "No seats go back on sale: the {date}, {time} slot has already started.",
    ),
    "adm_rf_tickets_stay": (
        "Частичный возврат: билеты ({total}) остаются в силе, места заняты.",
        "A partial refund: the tickets ({total}) stay valid, the seats stay taken.",
    ),
    "adm_rf_sub_shorter": (
        "Подписка станет короче на {days} дн.: до {date}.",
        "The subscription gets {days} days shorter: until {date}.",
    ),
    "adm_rf_sub_ends": ("Подписка закончится сразу.", "The subscription ends at once."),
    "adm_rf_sub_same": ("Срок подписки не изменится.", "The subscription's end stays the same."),
    "adm_rf_customer_told": (
        "Покупатель получит сообщение о возврате.",
        "The customer will be told about the refund.",
    ),
    "adm_rf_btn_confirm": ("✅ Вернуть {amount}", "✅ Refund {amount}"),
    "adm_rf_btn_cancel": ("✖️ Отмена", "✖️ Cancel"),
    "adm_rf_working": ("⏳ Возвращаю {amount}…", "⏳ Refunding {amount}…"),
    "adm_rf_canceled": (
        "Возврат {amount} по {payment_id} отменён: деньги не двигались.",
        "The refund of {amount} on {payment_id} is canceled: no money moved.",
    ),
    "adm_rf_used": (
        "Это подтверждение уже использовано или отменено.",
        "This confirmation was already used or canceled.",
    ),
    "adm_no_refund_changed": (
        "Возврат не выполнен: пока вы подтверждали, по {payment_id} изменились возвраты "
        "(возвращено {refunded} из {total}, было {expected}). Проверьте /payment {payment_id} и "
        "отправьте /refund заново.",
        "No refund made: the refunds of {payment_id} changed while you were confirming "
        "({refunded} of {total} refunded, {expected} before). Check /payment {payment_id} and "
        "send /refund again.",
    ),
    "adm_no_refund_draft_gone": (
        "Это подтверждение уже использовано или отменено.",
        "This confirmation was already used or canceled.",
    ),
}
