adm_not_available = Эта команда недоступна.
adm_menu =
    🛠 Управление магазином. Кнопки ниже или команды:
    /stats — продажи и график
    /payment <id> — платёж
    /refund <id> [сумма] — возврат
    /grant <user_id> <дней> — подарить дни подписки
    /prices, /setprice <когорта> <тариф> <цена> — цены
    /capacity <дата> <время> <мест> — вместимость сеанса
    /checkin <код> — пропустить по билету
    /broadcast <текст> — рассылка
    /export [дней] — выгрузка CSV
    /subscription <id или @username> — подписка покупателя, автопродление
adm_btn_stats = 📊 Продажи
adm_btn_prices = 💰 Цены
adm_btn_export = 📄 Выгрузка за 30 дней
adm_btn_help = ❓ Команды
adm_help =
    Команды с параметрами:
    /payment <id> — наш номер ZT_…, id ЮKassa или номер заказа ZT-…
    /refund <id> [сумма] — id заказа, платежа или ЮKassa; без суммы возвращается весь остаток; покажет, что будет, и спросит подтверждение; частичный возврат билетов оставляет их в силе, подписка сокращается пропорционально
    /grant <user_id> <дней> — например /grant 123456789 30
    /setprice <когорта> <тариф> <цена> — когорты new (новые клиенты), returning (вернувшиеся подписчики), active (действующие подписчики), regular (постоянные покупатели); цена вида 249, 249.5 или 249,50
    /capacity <дата> <время> <мест> — дата 2026-07-01 или 01.07.2026, время 10:00
    /checkin <код> — код с билета, например ZT-7K3M-9QXD-2FAB: регистр, пробелы и дефисы не важны; только в день визита
    /broadcast <текст> — спросит подтверждение и покажет, скольким уйдёт
    /export [дней] — платежи и журнал действий за период, по умолчанию 30 дней
    /subscription <id или @username> — подписка покупателя: периоды, продления и их попытки, кнопка «Отключить автопродление»
adm_usage_payment = Использование: /payment <id> — номер ZT_…, id ЮKassa или номер заказа ZT-…
adm_usage_refund = Использование: /refund <id> [сумма], например /refund ZT-20260701-001 500 или /refund ZT_1234567890 249,50 (id заказа, платежа или ЮKassa; без суммы — весь остаток)
adm_usage_grant = Использование: /grant <user_id> <дней>, например /grant 123456789 30
adm_usage_setprice = Использование: /setprice <когорта> <тариф> <цена>, например /setprice new monthly 249.00
adm_usage_capacity = Использование: /capacity <дата> <время> <мест>, например /capacity 2026-07-01 10:00 150 или /capacity 01.07.2026 10:00 150
adm_usage_checkin = Использование: /checkin <код с билета или содержимое его QR-кода>
adm_usage_broadcast = Использование: /broadcast <текст сообщения>
adm_usage_export = Использование: /export [дней], по умолчанию 30
adm_stats_title = 📊 Продажи без тестовых платежей, на { $at }
adm_stats_line = { $period }: выручка { $revenue }, возвраты { $refunds }, заказов { $orders }, билетов { $tickets }, новых подписчиков { $subscribers }
adm_period_today = Сегодня
adm_period_week = 7 дней
adm_period_month = 30 дней
adm_stats_active = Активных подписок сейчас: { $count }
adm_chart_title = Выручка за 30 дней, ₽
adm_chart_tickets = Билеты
adm_chart_subscriptions = Подписки
adm_pay_title = 💳 Платёж { $id }
adm_pay_test = 🧪 тестовый платёж
adm_pay_provider = ЮKassa: { $id }
adm_pay_tickets_order = Билеты, заказ { $order_id }
adm_pay_plan = Подписка «{ $plan }», когорта { $cohort }
adm_pay_customer = Покупатель: { $name } ({ $user_id })
adm_pay_email = E-mail: { $email }
adm_pay_amount = Сумма: { $amount } · возвращено: { $refunded }
adm_pay_status = Статус: { $status }
adm_pay_created = Создан: { $at }
adm_pay_captured = Оплачен: { $at }
adm_pay_description = Описание: { $text }
adm_pay_events = События ({ $shown } из { $total }):
adm_pay_tickets = Билеты ({ $count }):
adm_pay_checked_in = вход { $at }
adm_pay_period =
    Период подписки: { $days ->
        [one] { $days } день
        [few] { $days } дня
       *[many] { $days } дней
    }, { $start } — { $end }
    Подписка сейчас: { $status }, до { $expires }
adm_pay_refunds = Возвраты:
adm_pay_audit = Действия админов:
adm_refund_done =
    💸 Возврат #{ $refund_id } на { $amount } по { $payment_id }: { $state }.
    Возвращено { $refunded } из { $total }.
adm_refund_retried = Это повтор возврата, на который ЮKassa не ответила (тот же ключ идемпотентности).
adm_refund_state_succeeded = выполнен
adm_refund_state_pending = принят ЮKassa, ждём подтверждения
adm_refund_state_canceled = отменён ЮKassa
adm_refund_state_unanswered = ЮKassa не ответила; возврат сохранён — отправьте ту же команду ещё раз, чтобы повторить
adm_refund_tickets = Билеты: аннулировано { $refunded } из { $total }.
adm_refund_subscription = Подписка теперь до { $date }.
adm_refund_subscription_ended = Подписка завершена.
adm_grant_done =
    🎁 Пользователю { $user_id } { $days ->
        [one] добавлен { $days } день
        [few] добавлено { $days } дня
       *[many] добавлено { $days } дней
    }; подписка до { $date }.
adm_prices_title = 💰 Цены тарифов по когортам:
adm_prices_plan =
    { $title } ({ $code }, { $days ->
        [one] { $days } день
        [few] { $days } дня
       *[many] { $days } дней
    }), базовая { $base }:
adm_price_src_override = изменена
adm_price_src_catalog = из каталога
adm_price_src_base = базовая
adm_prices_test = Тестовые пользователи платят { $price }.
adm_setprice_done = ✅ Тариф { $plan }, когорта { $cohort }: { $old } → { $new }. Действует со следующей оплаты.
adm_capacity_done = ✅ { $date }, { $time }: мест { $capacity }; занято { $taken } (продано { $sold }, в брони { $on_hold }); свободно { $free }.
adm_checkin_done =
    ✅ Проходите! { $title } · { $date }, { $time }
    { $name } ({ $user_id })
    { $ids }
    Отмечен: { $at }
adm_export_payments =
    📄 Платежи за { $days ->
        [one] { $days } день
        [few] { $days } дня
       *[many] { $days } дней
    }: { $count }
adm_export_audit =
    📄 Журнал действий админов за { $days ->
        [one] { $days } день
        [few] { $days } дня
       *[many] { $days } дней
    }: { $count }
adm_bc_confirm =
    📣 Отправить это сообщение { $count ->
        [one] { $count } получателю
        [few] { $count } получателям
       *[many] { $count } получателям
    }?

    { $text }
adm_bc_nobody = Некому отправлять: получателей нет.
adm_bc_too_long =
    Слишком длинный текст: не больше { $max ->
        [one] { $max } символа
        [few] { $max } символов
       *[many] { $max } символов
    }.
adm_bc_btn_send = ✅ Отправить
adm_bc_btn_cancel = ✖️ Отмена
adm_bc_btn_stop = ⏹ Остановить
adm_bc_canceled = Рассылка отменена.
adm_bc_stale = Эта рассылка уже отправлена, отменена или закончилась.
adm_bc_stopping = Останавливаю после текущего сообщения…
adm_bc_progress =
    📣 Рассылка #{ $id }: { $done }/{ $total }
    Доставлено: { $sent } · заблокировали бота: { $blocked } · ошибок: { $failed }
adm_bc_finished =
    ✅ Рассылка #{ $id } завершена: { $done }/{ $total }
    Доставлено: { $sent } · заблокировали бота: { $blocked } · ошибок: { $failed }
adm_bc_stopped =
    ⏹ Рассылка #{ $id } остановлена: { $done }/{ $total }
    Доставлено: { $sent } · заблокировали бота: { $blocked } · ошибок: { $failed }
adm_no_payment_not_found = Платёж «{ $query }» не найден. Укажите номер ZT_…, id ЮKassa или номер заказа ZT-….
adm_no_refund_not_paid = Вернуть можно только оплаченный платёж; { $payment_id } сейчас в статусе { $status }.
adm_no_refund_bad_amount = Сумма возврата должна быть больше нуля.
adm_no_refund_unanswered = По { $payment_id } уже есть возврат на { $amount }, на который ЮKassa не ответила. Отправьте /refund { $payment_id } без суммы, чтобы повторить его.
adm_no_refund_in_progress = По { $payment_id } прямо сейчас оформляется возврат на { $amount }. Дождитесь ответа ЮKassa и проверьте /payment { $payment_id }.
adm_no_refund_nothing_left = Возврат невозможен: по { $payment_id } уже возвращено { $refunded } из { $total }.
adm_no_refund_too_much = Возврат невозможен: запрошено { $requested }, а вернуть можно только { $left } из { $total }.
adm_no_refund_rejected = ЮKassa отказала в возврате: { $error }
adm_no_grant_days = Дней — от 1 до { $max }.
adm_no_user_not_found = Пользователь { $user_id } не найден: он ещё не писал боту.
adm_no_unknown_cohort = Нет когорты «{ $cohort }». Когорты: { $cohorts }.
adm_no_unknown_plan = Нет тарифа «{ $plan }». Тарифы: { $plans }.
adm_no_bad_price = Цена — положительная сумма не больше { $max }, до копеек: 249, 249.5 или 249,50.
adm_no_unknown_slot = Нет сеанса { $time }. Сеансы: { $slots }.
adm_no_date_past = Дата { $date } уже прошла.
adm_no_bad_seats = Мест — от 0 до { $max }.
adm_no_capacity_below =
    Нельзя поставить { $seats ->
        [one] { $seats } место
        [few] { $seats } места
       *[many] { $seats } мест
    }: уже занято { $taken } (продано { $sold }, в брони неоплаченных заказов { $on_hold }).
adm_no_ticket_not_found = ⛔ Билет с кодом «{ $code }» не найден.
adm_no_ticket_used = ⛔ Билет уже прошёл контроль: { $at }, пропустил { $by }, устройство «{ $device }».
adm_no_ticket_refunded = ⛔ Билет возвращён и недействителен.
adm_no_ticket_other_day = ⛔ Билет на другой день: { $date }, { $time }.
adm_no_ticket_test = ⛔ Это тестовый билет: его купил тестовый пользователь, по нему не пропускают.
adm_no_ticket_forged = ⛔ Подпись QR-кода не сходится: билет подделан или повреждён. Не пропускайте; сверьте код, напечатанный под QR-кодом.
adm_no_export_days = Период — от 1 до { $max } дней.
adm_export_part = Часть { $part } из { $parts } (файл больше 50 МБ разделён)
