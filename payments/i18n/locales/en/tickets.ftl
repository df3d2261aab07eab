tickets_pick_date = 🎟 Tickets to { $shop }. Choose the day of your visit:
tickets_no_dates = There are no dates to book right now.
tickets_pick_slot = 📅 { $date }. Choose your entry time:
slot_button = { $time } · { $left } free
slot_sold_out = { $time } · sold out
slot_gone = This time slot is sold out.
date_gone = That date is no longer available. Please choose another.
tickets_pick_qty =
    📅 { $date }, { $time }
    Choose your tickets (+ / −):
qty_line = { $title }: { $qty } × { $price }
qty_total = Total: { $total }
qty_below_zero = It cannot go below zero.
qty_too_many =
    At most { $max ->
        [one] { $max } ticket
       *[other] { $max } tickets
    } per order.
qty_empty = Choose at least one ticket.
btn_next = Next ➡️
btn_back = ⬅️ Back
btn_more_dates = More dates ➡️
btn_skip_email = Skip
ask_email = Send the e-mail address for your tickets, or press “Skip” to get them only here.
bad_email = That does not look like an e-mail address. Try again, e.g. anna@example.com.
order_summary =
    Check your order:
    📅 { $date }, { $time }
    { $lines }
    Total: { $total }
    E-mail: { $email }
no_email = none (tickets arrive here only)
pay_preparing = ⏳ Holding your seats and preparing the payment…
btn_to_payment = 💳 Proceed to payment
sold_out_now = Seats ran out while you were choosing: { $left } left. Please choose another time.
tickets_pay_summary =
    Order { $order_id }
    { $description }
    To pay: { $price }

    Your seats are held for { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    }. Press “Pay” to go to the YooKassa page.
journey_canceled = The purchase is canceled and the seats are released.
tickets_paid =
    ✅ Payment received. Order { $order_id }: { $count ->
        [one] { $count } ticket
       *[other] { $count } tickets
    } for { $date }, { $time }. Show the QR code at the gate.
ticket_caption =
    { $title } · { $date } { $time }
    Code: { $code }
tickets_sold_out_refund = Sorry, the seats for this time ran out while you were paying. The payment is canceled; nothing was charged and the money is released back to your card.
my_tickets_title = 🎟 Your tickets:
my_ticket_line = { $date } { $time } — { $title } ({ $status })
ticket_status_valid = valid
ticket_status_used = used
ticket_status_refunded = refunded
btn_show_qr = 🔳 QR { $n }: { $title } { $date } { $time }
ticket_not_found = Ticket not found.
pay_tickets_description = Zoo tickets for { $date }
