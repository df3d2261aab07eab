plans_title = { $shop } subscription. Choose a plan:
plans_active = Your subscription runs until { $date }. Renewing adds the days to that date.
plans_test = 🧪 You are a test user: every plan costs { $price }.
plan_button = { $title } — { $price }
pay_summary =
    { $description }
    To pay: { $price }

    Press “Pay” to go to the YooKassa page. The link is valid for { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    }.
btn_pay = 💳 Pay { $price }
btn_cancel = ✖️ Cancel
payment_canceled_by_user = The payment is canceled. If you had already paid, we will still credit it.
payment_already_final = This payment is already finished.
too_many_pending =
    You have too many unpaid payments. Pay or cancel one of them, or try again in { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    }.
too_many_unpaid_seats =
    Your unpaid orders already hold { $held ->
        [one] { $held } seat
       *[other] { $held } seats
    }, and at most { $max } can be held at once. Pay an earlier order or cancel it with its “Cancel” button to free the seats.
provider_down = The payment service is not answering right now. Nothing was charged; please try again in a minute.
subscription_paid = ✅ Payment received. Your “{ $plan }” subscription is active until { $date }.
subscription_granted =
    🎁 You were given { $days ->
        [one] { $days } day
       *[other] { $days } days
    } of subscription. It is active until { $date }.
pay_message_paid = ✅ Paid: { $description }
pay_message_canceled = ✖️ The payment is canceled.
payment_canceled = The payment did not go through and nothing was charged. Try again or use another card.
payment_expired = The time to pay ran out; the payment is canceled.
reminder = ⏰ Your subscription ends on { $date }. Renew: /subscribe
subscription_ended = Your subscription has ended. You can renew it with /subscribe.
my_subscription_active = ⭐ Your “{ $plan }” subscription is active until { $date }.
my_subscription_expired = Your subscription ended on { $date }. Renew: /subscribe
unknown_plan = No such plan. Open /subscribe.
pay_plan_description =
    { $shop } - { $plan } ({ $days ->
        [one] { $days } day
       *[other] { $days } days
    }) • { $price }
pay_test_mark = [TEST]
