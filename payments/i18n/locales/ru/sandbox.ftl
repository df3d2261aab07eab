# The sandbox checkout page (payments/yookassa/sandbox/page.py).
sbx_title = Оплата заказа — { $shop }
sbx_banner = Тестовый режим: настоящие деньги не списываются
sbx_sandbox_shop = Тестовый магазин
sbx_order = Заказ { $order }
sbx_visit = Посещение: { $day }, { $time }
sbx_plan_days = { $title } — { $days }
sbx_total = Итого
sbx_pay = Оплатить { $amount }
sbx_decline = Отказаться от оплаты
sbx_card_note = Тестовая карта •••• 4444. Кнопка «Отказаться» показывает, что будет при отказе банка.
sbx_payment_ref = Платёж { $payment }
sbx_succeeded = Оплата прошла
sbx_succeeded_note = Спасибо! Подтверждение ждёт вас в магазине.
sbx_waiting = Оплата принята
sbx_waiting_note = Магазин подтверждает заказ. Страница обновится сама.
sbx_declined = Оплата отклонена
sbx_expired = Время на оплату истекло
sbx_canceled = Платёж отменён
sbx_canceled_note = Деньги не списаны.
sbx_back = Вернуться в магазин
sbx_switch = Страница на английском
sbx_not_found = Платёж не найден
sbx_not_found_note = Тестовые платежи хранятся только в памяти: после перезапуска сервиса их нет.
sbx_days =
    { $count ->
        [one] { $count } день
        [few] { $count } дня
       *[many] { $count } дней
    }
