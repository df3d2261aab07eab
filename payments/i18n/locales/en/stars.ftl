stars_amount = { $stars } ⭐
plan_button_stars = { $title } — { $stars } ⭐ a month
stars_invoice_label = 30 days
stars_invoice_description = A 30-day subscription for { $stars } ⭐. Telegram renews it every 30 days until you turn auto-renewal off in /my.
stars_pay_summary =
    { $plan }: { $stars } ⭐ for 30 days.
    Paid in Telegram Stars. The subscription renews every 30 days until you turn auto-renewal off in /my.
btn_pay_stars = ⭐ Pay { $stars } ⭐
stars_refused_unknown = We do not know this invoice. Open /subscribe and choose the plan again.
stars_refused_changed = The invoice amount has changed. Open /subscribe and choose the plan again.
stars_refused_stale = This invoice is out of date. Open /subscribe and choose the plan again — no Stars were taken.
btn_stars_cancel = ✖️ Turn off auto-renewal (Stars)
stars_renewal_canceled = Auto-renewal is off: Telegram will not take Stars again. The days you paid for stay.
stars_renewal_none = You have no renewing Stars subscription.
stars_renewal_cancel_failed = Telegram did not turn auto-renewal off. Please try again later.
adm_stars_refunded = ✅ { $stars } ⭐ returned for payment { $payment_id }.
adm_stars_not_refundable = Stars payment { $payment_id } cannot be refunded: it is not paid or already refunded.
adm_stars_refund_failed = Telegram did not return the Stars for payment { $payment_id }: { $reason }
