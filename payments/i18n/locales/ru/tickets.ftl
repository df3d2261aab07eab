tickets_pick_date = 🎟 Билеты в { $shop }. Выберите дату визита:
tickets_no_dates = Сейчас нет дат, на которые можно купить билеты.
tickets_pick_slot = 📅 { $date }. Выберите время входа:
slot_button = { $time } · свободно { $left }
slot_sold_out = { $time } · мест нет
slot_gone = На это время мест больше нет.
date_gone = Эта дата уже недоступна. Выберите другую.
tickets_pick_qty =
    📅 { $date }, { $time }
    Выберите билеты (+ / −):
qty_line = { $title }: { $qty } × { $price }
qty_total = Итого: { $total }
qty_below_zero = Меньше нуля нельзя.
qty_too_many =
    Не больше { $max ->
        [one] { $max } билета
        [few] { $max } билетов
       *[many] { $max } билетов
    } в одном заказе.
qty_empty = Выберите хотя бы один билет.
btn_next = Далее ➡️
btn_back = ⬅️ Назад
btn_more_dates = Ещё даты ➡️
btn_skip_email = Пропустить
ask_email = Отправьте e-mail, на который прислать билеты, или нажмите «Пропустить» — тогда билеты придут только сюда.
bad_email = Это не похоже на e-mail. Попробуйте ещё раз, например anna@example.com.
order_summary =
    Проверьте заказ:
    📅 { $date }, { $time }
    { $lines }
    Итого: { $total }
    E-mail: { $email }
no_email = не указан (билеты придут только сюда)
pay_preparing = ⏳ Бронируем места и готовим оплату…
btn_to_payment = 💳 Перейти к оплате
sold_out_now = Пока вы выбирали, места закончились: свободно { $left }. Выберите другое время.
tickets_pay_summary =
    Заказ { $order_id }
    { $description }
    К оплате: { $price }

    Места забронированы на { $minutes ->
        [one] { $minutes } минуту
        [few] { $minutes } минуты
       *[many] { $minutes } минут
    }. Нажмите «Оплатить», чтобы перейти на страницу ЮKassa.
journey_canceled = Покупка отменена, места освобождены.
tickets_paid =
    ✅ Оплата получена. Заказ { $order_id }: { $count ->
        [one] { $count } билет
        [few] { $count } билета
       *[many] { $count } билетов
    } на { $date }, { $time }. Покажите QR-код на входе.
ticket_caption =
    { $title } · { $date } { $time }
    Код: { $code }
tickets_sold_out_refund = К сожалению, пока шла оплата, места на это время закончились. Оплата отменена, деньги не списаны и вернутся на карту.
my_tickets_title = 🎟 Ваши билеты:
my_ticket_line = { $date } { $time } — { $title } ({ $status })
ticket_status_valid = действует
ticket_status_used = использован
ticket_status_refunded = возвращён
btn_show_qr = 🔳 QR { $n }: { $title } { $date } { $time }
ticket_not_found = Билет не найден.
pay_tickets_description = Билеты в зоопарк на { $date }
