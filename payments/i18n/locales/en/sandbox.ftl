# The sandbox checkout page (payments/yookassa/sandbox/page.py).
sbx_title = Payment — { $shop }
sbx_banner = Sandbox — no real money is charged
sbx_sandbox_shop = Sandbox shop
sbx_order = Order { $order }
sbx_visit = Visit: { $day }, { $time }
sbx_plan_days = { $title } — { $days }
sbx_total = Total
sbx_pay = Pay { $amount }
sbx_decline = Decline
sbx_card_note = Test card •••• 4444. Decline shows what happens when the bank refuses the payment.
sbx_payment_ref = Payment { $payment }
sbx_succeeded = Payment successful
sbx_succeeded_note = Thank you! Your confirmation is waiting for you in the shop.
sbx_waiting = Payment accepted
sbx_waiting_note = The shop is confirming your order. This page updates by itself.
sbx_declined = Payment declined
sbx_expired = The time to pay has run out
sbx_canceled = Payment canceled
sbx_canceled_note = No money was taken.
sbx_back = Back to the shop
sbx_switch = View in Russian
sbx_not_found = Payment not found
sbx_not_found_note = Sandbox payments live in memory only: a restart of the service forgets them.
sbx_days =
    { $count ->
        [one] { $count } day
       *[other] { $count } days
    }
