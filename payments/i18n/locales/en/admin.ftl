adm_not_available = This command is not available.
adm_menu =
    🛠 Shop console. Use the buttons below or the commands:
    /stats — sales and chart
    /payment <id> — a payment
    /refund <id> [amount] — refund
    /grant <user_id> <days> — give subscription days
    /prices, /setprice <cohort> <plan> <price> — prices
    /capacity <date> <time> <seats> — slot capacity
    /checkin <code> — let a ticket in
    /broadcast <text> — message everyone
    /export [days] — CSV export
    /subscription <id or @username> — a customer's subscription, auto-renewal
adm_btn_stats = 📊 Sales
adm_btn_prices = 💰 Prices
adm_btn_export = 📄 Export 30 days
adm_btn_help = ❓ Commands
adm_help =
    Commands with arguments:
    /payment <id> — our ZT_… id, YooKassa's id or the order number ZT-…
    /refund <id> [amount] — the order's, payment's or YooKassa's id; without an amount all that is left is refunded; says what will happen and asks to confirm; a partial ticket refund keeps the tickets valid, a subscription is shortened pro rata
    /grant <user_id> <days> — e.g. /grant 123456789 30
    /setprice <cohort> <plan> <price> — cohorts new (new customers), returning (returning subscribers), active (current subscribers), regular (regular customers); a price like 249, 249.5 or 249,50
    /capacity <date> <time> <seats> — date 2026-07-01 or 01.07.2026, time 10:00
    /checkin <code> — the ticket's code, e.g. ZT-7K3M-9QXD-2FAB: case, spaces and dashes do not matter; on the visit day only
    /broadcast <text> — asks to confirm and says how many will get it
    /export [days] — payments and the admin log of a period, 30 days by default
    /subscription <id or @username> — a customer's subscription: periods, renewals and their attempts, a "Stop auto-renewal" button
adm_usage_payment = Usage: /payment <id> — a ZT_… id, YooKassa's id or an order number ZT-…
adm_usage_refund = Usage: /refund <id> [amount], e.g. /refund ZT-20260701-001 500 or /refund ZT_1234567890 249.50 (the order's, payment's or YooKassa's id; no amount: all that is left)
adm_usage_grant = Usage: /grant <user_id> <days>, e.g. /grant 123456789 30
adm_usage_setprice = Usage: /setprice <cohort> <plan> <price>, e.g. /setprice new monthly 249.00
adm_usage_capacity = Usage: /capacity <date> <time> <seats>, e.g. /capacity 2026-07-01 10:00 150 or /capacity 01.07.2026 10:00 150
adm_usage_checkin = Usage: /checkin <code from the ticket, or its QR code's content>
adm_usage_broadcast = Usage: /broadcast <message text>
adm_usage_export = Usage: /export [days], 30 by default
adm_stats_title = 📊 Sales without test payments, as of { $at }
adm_stats_line = { $period }: revenue { $revenue }, refunds { $refunds }, orders { $orders }, tickets { $tickets }, new subscribers { $subscribers }
adm_period_today = Today
adm_period_week = 7 days
adm_period_month = 30 days
adm_stats_active = Active subscriptions now: { $count }
adm_chart_title = Revenue over 30 days, RUB
adm_chart_tickets = Tickets
adm_chart_subscriptions = Subscriptions
adm_pay_title = 💳 Payment { $id }
adm_pay_test = 🧪 test payment
adm_pay_provider = YooKassa: { $id }
adm_pay_tickets_order = Tickets, order { $order_id }
adm_pay_plan = Subscription “{ $plan }”, cohort { $cohort }
adm_pay_customer = Customer: { $name } ({ $user_id })
adm_pay_email = E-mail: { $email }
adm_pay_amount = Amount: { $amount } · refunded: { $refunded }
adm_pay_status = Status: { $status }
adm_pay_created = Created: { $at }
adm_pay_captured = Paid: { $at }
adm_pay_description = Description: { $text }
adm_pay_events = Events ({ $shown } of { $total }):
adm_pay_tickets = Tickets ({ $count }):
adm_pay_checked_in = entered { $at }
adm_pay_period =
    Subscription period: { $days ->
        [one] { $days } day
       *[other] { $days } days
    }, { $start } — { $end }
    Subscription now: { $status }, until { $expires }
adm_pay_refunds = Refunds:
adm_pay_audit = Admin actions:
adm_refund_done =
    💸 Refund #{ $refund_id } of { $amount } on { $payment_id }: { $state }.
    Refunded { $refunded } of { $total }.
adm_refund_retried = This retried a refund YooKassa had not answered (same idempotence key).
adm_refund_state_succeeded = done
adm_refund_state_pending = accepted by YooKassa, waiting for it to finish
adm_refund_state_canceled = canceled by YooKassa
adm_refund_state_unanswered = YooKassa did not answer; the refund is kept — send the same command again to retry
adm_refund_tickets = Tickets: { $refunded } of { $total } canceled.
adm_refund_subscription = The subscription now runs until { $date }.
adm_refund_subscription_ended = The subscription has ended.
adm_grant_done =
    🎁 { $user_id } was given { $days ->
        [one] { $days } day
       *[other] { $days } days
    }; the subscription runs until { $date }.
adm_prices_title = 💰 Plan prices per cohort:
adm_prices_plan =
    { $title } ({ $code }, { $days ->
        [one] { $days } day
       *[other] { $days } days
    }), base { $base }:
adm_price_src_override = changed
adm_price_src_catalog = from the catalog
adm_price_src_base = base
adm_prices_test = Test users pay { $price }.
adm_setprice_done = ✅ Plan { $plan }, cohort { $cohort }: { $old } → { $new }. It applies from the next checkout.
adm_capacity_done =
    ✅ { $date }, { $time }: { $capacity ->
        [one] { $capacity } seat
       *[other] { $capacity } seats
    }; { $taken } taken ({ $sold } sold, { $on_hold } on hold); { $free } free.
adm_checkin_done =
    ✅ Come in! { $title } · { $date }, { $time }
    { $name } ({ $user_id })
    { $ids }
    Checked in: { $at }
adm_export_payments =
    📄 Payments of { $days ->
        [one] { $days } day
       *[other] { $days } days
    }: { $count }
adm_export_audit =
    📄 Admin log of { $days ->
        [one] { $days } day
       *[other] { $days } days
    }: { $count }
adm_bc_confirm =
    📣 Send this message to { $count ->
        [one] { $count } recipient
       *[other] { $count } recipients
    }?

    { $text }
adm_bc_nobody = There is nobody to send it to.
adm_bc_too_long =
    The text is too long: at most { $max ->
        [one] { $max } character
       *[other] { $max } characters
    }.
adm_bc_btn_send = ✅ Send
adm_bc_btn_cancel = ✖️ Cancel
adm_bc_btn_stop = ⏹ Stop
adm_bc_canceled = The broadcast is canceled.
adm_bc_stale = This broadcast was already sent, canceled or has finished.
adm_bc_stopping = Stopping after the current message…
adm_bc_progress =
    📣 Broadcast #{ $id }: { $done }/{ $total }
    Delivered: { $sent } · blocked the bot: { $blocked } · failed: { $failed }
adm_bc_finished =
    ✅ Broadcast #{ $id } finished: { $done }/{ $total }
    Delivered: { $sent } · blocked the bot: { $blocked } · failed: { $failed }
adm_bc_stopped =
    ⏹ Broadcast #{ $id } stopped: { $done }/{ $total }
    Delivered: { $sent } · blocked the bot: { $blocked } · failed: { $failed }
adm_no_payment_not_found = Payment “{ $query }” not found. Give a ZT_… id, YooKassa's id or an order number ZT-….
adm_no_refund_not_paid = Only a paid payment can be refunded; { $payment_id } is { $status }.
adm_no_refund_bad_amount = The refund amount must be above zero.
adm_no_refund_unanswered = { $payment_id } has a refund of { $amount } that YooKassa has not answered. Send /refund { $payment_id } without an amount to retry it.
adm_no_refund_in_progress = A refund of { $amount } on { $payment_id } is being made right now. Wait for YooKassa's answer and check /payment { $payment_id }.
adm_no_refund_nothing_left = No refund possible: { $refunded } of { $total } on { $payment_id } is already refunded.
adm_no_refund_too_much = No refund possible: { $requested } asked, but only { $left } of { $total } is left to refund.
adm_no_refund_rejected = YooKassa refused the refund: { $error }
adm_no_grant_days = Days must be 1 to { $max }.
adm_no_user_not_found = User { $user_id } not found: they have not written to the bot yet.
adm_no_unknown_cohort = No cohort “{ $cohort }”. Cohorts: { $cohorts }.
adm_no_unknown_plan = No plan “{ $plan }”. Plans: { $plans }.
adm_no_bad_price = A price is a positive amount of at most { $max }, to the kopeck: 249, 249.5 or 249,50.
adm_no_unknown_slot = No slot { $time }. Slots: { $slots }.
adm_no_date_past = { $date } is in the past.
adm_no_bad_seats = Seats must be 0 to { $max }.
adm_no_capacity_below =
    Cannot set { $seats ->
        [one] { $seats } seat
       *[other] { $seats } seats
    }: { $taken } are already taken ({ $sold } sold, { $on_hold } held by unpaid orders).
adm_no_ticket_not_found = ⛔ No ticket with code “{ $code }”.
adm_no_ticket_used = ⛔ The ticket was already checked in: { $at } by { $by } on “{ $device }”.
adm_no_ticket_refunded = ⛔ The ticket was refunded and is not valid.
adm_no_ticket_other_day = ⛔ The ticket is for another day: { $date }, { $time }.
adm_no_ticket_test = ⛔ This is a test ticket, bought by a test user: it does not let anyone in.
adm_no_ticket_forged = ⛔ The QR code's signature does not match: the ticket is forged or damaged. Do not let it in; check the code printed under the QR code.
adm_no_export_days = The period is 1 to { $max } days.
adm_export_part = Part { $part } of { $parts } (the file was over 50 MB, so it is split)
