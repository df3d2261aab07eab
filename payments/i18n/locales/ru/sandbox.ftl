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
# A payment that saves its card (save_payment_method), and the sandbox's switches for later charges.
sbx_save_card = Карта будет сохранена для автопродления: следующие списания пройдут без подтверждения. Отключить автопродление можно в магазине в любой момент.
sbx_card_saved = Карта •••• { $last4 } сохранена для автопродления.
sbx_card_ok = Тест: следующие списания с этой карты пройдут успешно.
sbx_card_failing = Тест: списания с этой карты отклоняются ({ $reason }).
sbx_card_revoked = Тест: разрешение на списания отозвано (permission_revoked).
sbx_card_fail = Отклонять списания
sbx_card_revoke = Отозвать разрешение на списания
sbx_card_clear = Списывать успешно
