plans_title = Подписка { $shop }. Выберите тариф:
plans_active = Ваша подписка действует до { $date }. Продление добавит дни к этой дате.
plans_test = 🧪 Вы тестовый пользователь: любой тариф стоит { $price }.
plan_button = { $title } — { $price }
pay_summary =
    { $description }
    К оплате: { $price }

    Нажмите «Оплатить», чтобы перейти на страницу ЮKassa. Ссылка действует { $minutes ->
        [one] { $minutes } минуту
        [few] { $minutes } минуты
       *[many] { $minutes } минут
    }.
btn_pay = 💳 Оплатить { $price }
btn_cancel = ✖️ Отменить
payment_canceled_by_user = Платёж отменён. Если вы уже оплатили, мы всё равно всё зачислим.
payment_already_final = Этот платёж уже завершён.
too_many_pending =
    У вас слишком много неоплаченных платежей. Оплатите или отмените один из них, или попробуйте через { $minutes ->
        [one] { $minutes } минуту
        [few] { $minutes } минуты
       *[many] { $minutes } минут
    }.
too_many_unpaid_seats =
    Ваши неоплаченные заказы уже держат { $held ->
        [one] { $held } место
        [few] { $held } места
       *[many] { $held } мест
    }, а вместе можно держать не больше { $max }. Оплатите прежний заказ или отмените его кнопкой «Отменить» — места освободятся.
provider_down = Платёжный сервис сейчас не отвечает. Деньги не списаны; попробуйте ещё раз через минуту.
subscription_paid = ✅ Оплата получена. Подписка «{ $plan }» активна до { $date }.
subscription_granted =
    🎁 Вам { $days ->
        [one] добавлен { $days } день
        [few] добавлено { $days } дня
       *[many] добавлено { $days } дней
    } подписки. Она активна до { $date }.
pay_message_paid = ✅ Оплачено: { $description }
pay_message_canceled = ✖️ Платёж отменён.
payment_canceled = Платёж не прошёл, деньги не списаны. Попробуйте ещё раз или выберите другую карту.
payment_expired = Время на оплату истекло, платёж отменён.
reminder = ⏰ Ваша подписка заканчивается { $date }. Продлить: /subscribe
subscription_ended = Ваша подписка закончилась. Возобновить её можно в /subscribe.
my_subscription_active = ⭐ Подписка «{ $plan }» активна до { $date }.
my_subscription_expired = Подписка закончилась { $date }. Продлить: /subscribe
unknown_plan = Такого тарифа нет. Откройте /subscribe.
pay_plan_description =
    { $shop } - { $plan } ({ $days ->
        [one] { $days } день
        [few] { $days } дня
       *[many] { $days } дней
    }) • { $price }
pay_test_mark = [ТЕСТ]
