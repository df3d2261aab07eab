# The Mini App's storefront (payments/miniapp/static/js). Ids start with app-; the staff
# scanner's are in miniapp-gate.ftl (gate-…).

## Shell
app-loading = Loading…
app-sandbox = Sandbox: no real money is charged
app-nav-label = Sections
app-nav-shop = Tickets
app-nav-plans = Plans
app-nav-tickets = My tickets
app-nav-scan = Scan tickets
app-try-again = Try again
app-outside-title = Open the shop in Telegram
app-outside-text = This page works inside Telegram. Go back to the chat with the bot and tap “Open the shop” to see your tickets.

## Errors: what happened, and what to do
app-error-offline = No connection to the shop. Check your internet and try again.
app-error-signed-out = Your session has ended. Close the shop and open it again from the bot.
app-error-sign-in = Telegram did not confirm who you are. Close the shop and open it again from the bot.
app-error-forbidden = This is not available to you. Go back to the shop.
app-error-not-found = This is no longer here. Go back and open the list again.
app-error-conflict = This can’t be done any more: something changed in the meantime. Go back and try again.
app-error-invalid = The shop did not accept these details. Check them and try again.
app-error-too-many = You have too many unfinished payments. Pay or cancel them in My tickets, then try again.
app-error-unavailable = The payment service did not answer, and nothing was charged. Try again in a minute.
app-error-unexpected = Something went wrong on our side. Try again; if it keeps happening, write to the bot.
app-error-seats = Those seats are no longer free, or your unpaid orders already hold as many tickets as one order may. Pick another time, or pay or cancel your unpaid orders in My tickets.

## Shop: the calendar
app-shop-title = Choose a day
app-month-prev = Previous month
app-month-next = Next month
app-legend-open = free seats
app-legend-sold-out = sold out
app-legend-closed = closed
app-day-mark-sold-out = sold out
app-day-mark-closed = closed
app-day-label = { $day }: { $state }
app-day-state-open = { $free ->
    [one] { $free } seat free
   *[other] { $free } seats free
}
app-day-state-sold-out = sold out
app-day-state-closed = the zoo is closed
app-day-state-past = past
app-day-state-beyond = not on sale yet
app-pick-day-hint = Pick a day to see its times.
app-no-days = No days are on sale this month. Try the next month.
app-slots-title = Times on { $day }
app-slot-free = { $free ->
    [one] { $free } seat free
   *[other] { $free } seats free
}
app-slot-started = already started
app-slot-sold-out = sold out
app-slot-closed = closed
app-no-slots = No time is left on this day. Pick another day.

## Shop: tickets and payment
app-tickets-title = Tickets
app-visit = { $day }, { $time }
app-change-visit = Change the day or time
app-price-each = { $price } each
app-fewer = Fewer: { $type }
app-more = More: { $type }
app-total = Total
app-tickets-count = { $count ->
    [one] { $count } ticket
   *[other] { $count } tickets
}
app-max-tickets = One order holds at most { $max } tickets.
app-email = E-mail for the receipt and the tickets
app-email-bad = Enter an e-mail address like name@example.com.
app-pick-tickets = Add at least one ticket.
app-pay = Pay { $amount }
app-paying = Creating the payment…
app-wait-title = Finish the payment
app-wait-text = The payment page has opened. Pay there, then come back: this screen updates by itself.
app-open-payment = Open the payment page again
app-check-now = Check now
app-paid-title = Payment successful
app-paid-tickets = Your tickets are in My tickets, in the chat and in your e-mail.
app-paid-plan = Your subscription is active.
app-paid-confirming = Payment accepted. The shop is confirming your order…
app-canceled-title = The payment did not go through
app-canceled-text = No money was taken. You can try again.
app-show-tickets = Show my tickets
app-buy-more = Buy more tickets

## Plans
app-plans-title = Subscription plans
app-plan-days = { $days ->
    [one] { $days } day
   *[other] { $days } days
}
app-sub-active = Active: { $title } until { $date }
app-sub-days-left = { $days ->
    [one] { $days } day left
   *[other] { $days } days left
}
app-sub-none = You have no subscription yet.
app-plan-pick = Pick a plan, then pay with the button below.
app-plans-none = No plans are on sale right now.

## My tickets
app-tickets-upcoming = Coming visits
app-tickets-none = No tickets yet. Buy them under Tickets.
app-tickets-past = Past and used
app-ticket-used = Used { $at }
app-ticket-past = Not used
app-ticket-refunded = Refunded
app-ticket-qr-alt = QR code of ticket { $code }
app-ticket-show = Show this code at the entrance.
app-qr-failed = The QR code did not load. Check your connection; the ticket code below also works at the entrance.
app-orders-unpaid = Waiting for payment
app-order-title = Order { $order }
app-order-line = { $title } × { $quantity }
app-order-until = Pay by { $time }
app-order-pay = Pay
app-order-cancel = Cancel the order
app-order-cancel-confirm = Cancel this order and free its seats?
app-order-canceled = The order is canceled and its seats are free again.
