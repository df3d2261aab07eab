journey_interrupted = ✖️ Ticket purchase stopped.
typed_date_hint = Choose a date with the buttons below, or type it, e.g. “tomorrow” or “25.12”.
typed_date_closed = There are no tickets for { $date }. Choose a date with the buttons below.
typed_slot_hint = Choose a time with the buttons below, or type it, e.g. “12:00”.
typed_slot_gone = That time is not on the schedule or has no seats. Choose a time with the buttons below.
typed_qty_hint = Set the number with the + and − buttons below, or type it, e.g. “2 adults”.
typed_summary_hint = Check your order and press a button below.
step_moved_down = ⬇️ Continued below.
chosen_date = 📅 { $date }
chosen_slot = 📅 { $date }, { $time }
chosen_email = ✉️ e-mail: { $email }
btn_today = Today, { $date }
btn_tomorrow = Tomorrow, { $date }
cal_weekdays = Mo Tu We Th Fr Sa Su
cal_month = { $month } { $year }
cal_months = January February March April May June July August September October November December
cal_closed = The zoo is closed on that day.
cal_unavailable = Tickets are not sold for that date.
cal_hint = ✖ — closed, · — not available.
btn_my_tickets = 🎟 My tickets
btn_buy_more = 🛒 Buy more
btn_retry = 🔁 Try again
retry_sold_out = Cannot try again: the seats for that time are taken. Choose another time: /tickets
retry_date_gone = Cannot try again: that date can no longer be booked. Choose another: /tickets
retry_paid = This order is already paid.
retry_unknown = This payment was not found.
retry_busy = A new payment is being created; please wait a few seconds.
retry_open = This payment is still waiting: press “Pay” on its message or open /my.
my_unpaid_title = ⏳ Awaiting payment:
my_unpaid_tickets =
    { $n }. Order { $order_id }: { $date }, { $time } · { $price } · { $minutes ->
        [one] { $minutes } minute left
       *[other] { $minutes } minutes left
    }
my_unpaid_plan =
    { $n }. { $plan } · { $price } · { $minutes ->
        [one] { $minutes } minute left
       *[other] { $minutes } minutes left
    }
btn_my_pay = 💳 Pay { $n }: { $price }
btn_my_cancel = ✖️ Cancel { $n }
my_unpaid_canceled = The order is canceled and its seats released.
shop_address = 📍 Address: { $address }
shop_hours = 🕘 Opening hours: { $hours }
