adm_status_pending = ожидает оплаты
adm_status_waiting_for_capture = деньги заблокированы, ждут списания
adm_status_succeeded = оплачен
adm_status_canceled = отменён
adm_status_with_reason = { $status }: { $reason }
adm_reason_expired = бронь истекла
adm_reason_user = отменил покупатель
adm_reason_superseded = заменён новым платежом
adm_reason_sold_out = места закончились
adm_reason_interrupted = оформление прервалось
adm_reason_provider = отменила ЮKassa ({ $reason })
adm_provider_reason_unavailable = ЮKassa не ответила
adm_provider_reason_error = ошибка ЮKassa
adm_provider_reason_insufficient_funds = недостаточно средств
adm_provider_reason_general_decline = банк отказал
adm_provider_reason_expired_on_confirmation = не оплачен вовремя
adm_provider_reason_expired_on_capture = не списан вовремя
adm_provider_reason_canceled_by_merchant = отменён магазином
adm_provider_reason_3d_secure_failed = не пройден 3-D Secure
adm_provider_reason_card_expired = срок карты истёк
adm_provider_reason_fraud_suspected = подозрение на мошенничество
adm_provider_reason_unknown = причина неизвестна
adm_sub_status_active = активна
adm_sub_status_expired = закончилась
adm_cohort_new = новые клиенты
adm_cohort_returning = вернувшиеся подписчики
adm_cohort_active = действующие подписчики
adm_cohort_regular = постоянные покупатели
adm_cohort_test = тестовые пользователи
adm_stats_cohorts = Подписки за 30 дней по когортам: { $counts }
adm_source_bot = бот
adm_source_api = API
adm_source_checkout = оформление
adm_source_user = покупатель
adm_source_webhook = уведомление ЮKassa
adm_source_reconciler = сверка с ЮKassa
adm_source_recheck = перепроверка
adm_source_expiry = истечение брони
adm_source_status = запрос статуса
adm_source_admin = админ
adm_event_created = платёж создан
adm_event_provider_created = создан в ЮKassa
adm_event_provider_failed = ЮKassa не создала платёж
adm_event_interrupted = оформление прервалось
adm_event_sold_out = места закончились до брони
adm_event_canceled_by_user = покупатель отменил
adm_event_waiting_for_capture = деньги заблокированы
adm_event_succeeded = оплачен
adm_event_canceled = отменён
adm_event_updated = данные изменены
adm_event_amount_replaced = сумма изменена
adm_event_refund_requested = запрошен возврат
adm_event_refund_unanswered = ЮKassa не ответила на возврат
adm_event_refund_rejected = ЮKassa отказала в возврате
adm_event_refund_succeeded = возврат выполнен
adm_event_refund_canceled = возврат отменён
adm_event_repeat = { $event } (повторно)
adm_event_late = { $event } (уже после оплаты)
adm_event_superseded = { $event } (заменён новым платежом)
adm_event_mismatch = не совпадает с ЮKassa (там: { $event })
adm_event_change = { $before } → { $after }
adm_event_now = теперь: { $after }
adm_action_refund = возврат
adm_action_refund_draft = предпросмотр возврата
adm_action_refund_confirm = подтверждение возврата
adm_action_refund_cancel = отмена возврата
adm_result_awaiting_confirmation = ждёт подтверждения
adm_result_confirmed = подтверждён
adm_result_canceled = отменён
adm_result_done = выполнено
adm_ids_order = Заказ { $order_id } · платёж { $payment_id } · ЮKassa { $provider_id }
adm_ids_payment = Платёж { $payment_id } · ЮKassa { $provider_id }
adm_rf_confirm =
    💸 Вернуть { $amount } из { $total }?
    { $ids }
    Покупатель: { $name } ({ $user_id })
adm_rf_already = Уже возвращено: { $refunded }.
adm_rf_after = После возврата останется { $left }.
adm_rf_retry = Это повтор возврата, на который ЮKassa не ответила (тот же ключ).
adm_rf_tickets_void =
    Будет аннулировано: { $count ->
        [one] { $count } билет
        [few] { $count } билета
       *[many] { $count } билетов
    } из { $total }.
adm_rf_tickets_used =
    Уже { $count ->
        [one] прошёл контроль и останется { $count } билет
        [few] прошли контроль и останутся { $count } билета
       *[many] прошли контроль и останутся { $count } билетов
    }.
adm_rf_seats =
    { $count ->
        [one] { $count } место вернётся
        [few] { $count } места вернутся
       *[many] { $count } мест вернутся
    } в продажу ({ $date }, { $time }).
adm_rf_seats_past = Места не вернутся в продажу: сеанс { $date }, { $time } уже начался.
adm_rf_tickets_stay =
    Частичный возврат: { $total ->
        [one] { $total } билет остаётся в силе, место занято
        [few] { $total } билета остаются в силе, места заняты
       *[many] { $total } билетов остаются в силе, места заняты
    }.
adm_rf_sub_shorter =
    Подписка станет короче на { $days ->
        [one] { $days } день
        [few] { $days } дня
       *[many] { $days } дней
    }: до { $date }.
adm_rf_sub_ends = Подписка закончится сразу.
adm_rf_sub_same = Срок подписки не изменится.
adm_rf_customer_told = Покупатель получит сообщение о возврате.
adm_rf_btn_confirm = ✅ Вернуть { $amount }
adm_rf_btn_cancel = ✖️ Отмена
adm_rf_working = ⏳ Возвращаю { $amount }…
adm_rf_canceled = Возврат { $amount } по { $payment_id } отменён: деньги не двигались.
adm_rf_used = Это подтверждение уже использовано или отменено.
adm_no_refund_changed = Возврат не выполнен: пока вы подтверждали, по { $payment_id } изменились возвраты (возвращено { $refunded } из { $total }, было { $expected }). Проверьте /payment { $payment_id } и отправьте /refund заново.
adm_no_refund_draft_gone = Это подтверждение уже использовано или отменено.
