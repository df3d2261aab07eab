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
# A payment that saves its card (save_payment_method), and the sandbox's switches for later charges.
sbx_save_card = Your card will be saved for auto-renewal: later charges go through without confirmation. You can turn auto-renewal off in the shop at any time.
sbx_card_saved = Card •••• { $last4 } is saved for auto-renewal.
sbx_card_ok = Test: the next charges of this card will succeed.
sbx_card_failing = Test: charges of this card are declined ({ $reason }).
sbx_card_revoked = Test: the permission to charge was revoked (permission_revoked).
sbx_card_fail = Decline charges
sbx_card_revoke = Revoke the permission to charge
sbx_card_clear = Charge successfully
