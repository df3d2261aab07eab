# Магазин в Mini App (payments/miniapp/static/js). Ключи начинаются с app-; ключи сканера
# контролёров — в miniapp-gate.ftl (gate-…).

## Оболочка
app-loading = Загрузка…
app-sandbox = Тестовый режим: настоящие деньги не списываются
app-nav-label = Разделы
app-nav-shop = Билеты
app-nav-plans = Подписка
app-nav-tickets = Мои билеты
app-nav-scan = Проверка билетов
app-try-again = Попробовать снова
app-outside-title = Откройте магазин в Telegram
app-outside-text = Эта страница работает внутри Telegram. Вернитесь в чат с ботом и нажмите «Открыть магазин», чтобы увидеть билеты.

## Ошибки: что случилось и что делать
app-error-offline = Нет связи с магазином. Проверьте интернет и попробуйте снова.
app-error-signed-out = Сеанс закончился. Закройте магазин и откройте его снова из бота.
app-error-sign-in = Telegram не подтвердил, кто вы. Закройте магазин и откройте его снова из бота.
app-error-forbidden = Это вам недоступно. Вернитесь в магазин.
app-error-not-found = Этого больше нет. Вернитесь и откройте список заново.
app-error-conflict = Это уже невозможно: пока вы выбирали, что-то изменилось. Вернитесь и попробуйте снова.
app-error-invalid = Магазин не принял эти данные. Проверьте их и попробуйте снова.
app-error-too-many = Слишком много незавершённых оплат. Оплатите или отмените их в «Моих билетах» и попробуйте снова.
app-error-unavailable = Платёжный сервис не ответил, деньги не списаны. Попробуйте через минуту.
app-error-unexpected = У нас что-то пошло не так. Попробуйте снова; если не получится, напишите боту.
app-error-seats = Этих мест уже нет, или ваши неоплаченные заказы уже держат столько билетов, сколько можно в одном заказе. Выберите другое время или оплатите либо отмените неоплаченные заказы в «Моих билетах».

## Магазин: календарь
app-shop-title = Выберите день
app-month-prev = Предыдущий месяц
app-month-next = Следующий месяц
app-legend-open = свободные места
app-legend-sold-out = мест нет
app-legend-closed = закрыто
app-day-mark-sold-out = нет мест
app-day-mark-closed = закрыто
app-day-label = { $day }: { $state }
app-day-state-open = { $free ->
    [one] свободно { $free } место
    [few] свободно { $free } места
   *[other] свободно { $free } мест
}
app-day-state-sold-out = мест нет
app-day-state-closed = зоопарк закрыт
app-day-state-past = день прошёл
app-day-state-beyond = продажа ещё не открыта
app-pick-day-hint = Выберите день, чтобы увидеть время.
app-no-days = В этом месяце нет дней в продаже. Посмотрите следующий месяц.
app-slots-title = Время на { $day }
app-slot-free = { $free ->
    [one] { $free } место
    [few] { $free } места
   *[other] { $free } мест
}
app-slot-started = уже началось
app-slot-sold-out = мест нет
app-slot-closed = закрыто
app-no-slots = На этот день времени не осталось. Выберите другой день.

## Магазин: билеты и оплата
app-tickets-title = Билеты
app-visit = { $day }, { $time }
app-change-visit = Изменить день или время
app-price-each = { $price } за билет
app-fewer = Меньше: { $type }
app-more = Больше: { $type }
app-total = Итого
app-tickets-count = { $count ->
    [one] { $count } билет
    [few] { $count } билета
   *[other] { $count } билетов
}
app-max-tickets = В одном заказе не больше { $max } билетов.
app-email = E-mail для чека и билетов
app-email-bad = Введите адрес вида name@example.com.
app-pick-tickets = Добавьте хотя бы один билет.
app-pay = Оплатить { $amount }
app-paying = Создаём платёж…
app-wait-title = Завершите оплату
app-wait-text = Открылась страница оплаты. Оплатите там и вернитесь сюда: этот экран обновится сам.
app-open-payment = Открыть страницу оплаты снова
app-check-now = Проверить сейчас
app-paid-title = Оплата прошла
app-paid-tickets = Билеты — в «Моих билетах», в чате и на почте.
app-paid-plan = Подписка активна.
app-paid-confirming = Оплата принята. Магазин подтверждает заказ…
app-canceled-title = Оплата не прошла
app-canceled-text = Деньги не списаны. Можно попробовать снова.
app-show-tickets = Показать мои билеты
app-buy-more = Купить ещё билеты

## Подписка
app-plans-title = Подписка
app-plan-days = { $days ->
    [one] { $days } день
    [few] { $days } дня
   *[other] { $days } дней
}
app-sub-active = Активна: { $title } до { $date }
app-sub-days-left = { $days ->
    [one] остался { $days } день
    [few] осталось { $days } дня
   *[other] осталось { $days } дней
}
app-sub-none = Подписки пока нет.
app-plan-pick = Выберите тариф и оплатите кнопкой внизу.
app-plans-none = Сейчас подписка не продаётся.

## Мои билеты
app-tickets-upcoming = Ближайшие посещения
app-tickets-none = Билетов пока нет. Купите их в разделе «Билеты».
app-tickets-past = Прошедшие и использованные
app-ticket-used = Использован { $at }
app-ticket-past = Не использован
app-ticket-refunded = Возвращён
app-ticket-qr-alt = QR-код билета { $code }
app-ticket-show = Покажите этот код на входе.
app-qr-failed = QR-код не загрузился. Проверьте интернет; код билета ниже тоже действует на входе.
app-orders-unpaid = Ждут оплаты
app-order-title = Заказ { $order }
app-order-line = { $title } × { $quantity }
app-order-until = Оплатить до { $time }
app-order-pay = Оплатить
app-order-cancel = Отменить заказ
app-order-cancel-confirm = Отменить заказ и освободить места?
app-order-canceled = Заказ отменён, места снова свободны.
