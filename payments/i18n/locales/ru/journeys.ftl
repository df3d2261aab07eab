journey_interrupted = ✖️ Покупка билетов прервана.
typed_date_hint = Выберите дату кнопкой ниже — или напишите её, например «завтра» или «25.12».
typed_date_closed = На { $date } билетов нет. Выберите дату кнопкой ниже.
typed_slot_hint = Выберите время кнопкой ниже — или напишите его, например «12:00».
typed_slot_gone = На это время мест нет или его нет в расписании. Выберите время кнопкой ниже.
typed_qty_hint = Укажите количество кнопками + и − ниже — или напишите, например, «2 взрослых».
typed_summary_hint = Проверьте заказ и нажмите кнопку ниже.
step_moved_down = ⬇️ Продолжим ниже.
chosen_date = 📅 { $date }
chosen_slot = 📅 { $date }, { $time }
chosen_email = ✉️ e-mail: { $email }
btn_today = Сегодня, { $date }
btn_tomorrow = Завтра, { $date }
cal_weekdays = Пн Вт Ср Чт Пт Сб Вс
cal_month = { $month } { $year }
cal_months = Январь Февраль Март Апрель Май Июнь Июль Август Сентябрь Октябрь Ноябрь Декабрь
cal_closed = В этот день зоопарк закрыт.
cal_unavailable = На эту дату билеты не продаются.
cal_hint = ✖ — выходной, · — дата недоступна.
btn_my_tickets = 🎟 Мои билеты
btn_buy_more = 🛒 Купить ещё
btn_retry = 🔁 Попробовать снова
retry_sold_out = Повторить не получится: места на это время уже заняты. Выберите другое: /tickets
retry_date_gone = Повторить не получится: на эту дату билеты уже не продаются. Выберите другую: /tickets
retry_paid = Этот заказ уже оплачен.
retry_unknown = Этот платёж не найден.
retry_busy = Новый платёж уже создаётся — подождите пару секунд.
retry_open = Этот платёж ещё ждёт оплаты: нажмите «Оплатить» в его сообщении или откройте /my.
my_unpaid_title = ⏳ Ждут оплаты:
my_unpaid_tickets =
    { $n }. Заказ { $order_id }: { $date }, { $time } · { $price } · { $minutes ->
        [one] осталась { $minutes } минута
        [few] осталось { $minutes } минуты
       *[many] осталось { $minutes } минут
    }
my_unpaid_plan =
    { $n }. { $plan } · { $price } · { $minutes ->
        [one] осталась { $minutes } минута
        [few] осталось { $minutes } минуты
       *[many] осталось { $minutes } минут
    }
btn_my_pay = 💳 Оплатить { $n }: { $price }
btn_my_cancel = ✖️ Отменить { $n }
my_unpaid_canceled = Заказ отменён, места освобождены.
shop_address = 📍 Адрес: { $address }
shop_hours = 🕘 Часы работы: { $hours }
