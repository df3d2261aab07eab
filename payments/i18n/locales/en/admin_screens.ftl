adm_status_pending = awaiting payment
adm_status_waiting_for_capture = money authorised, awaiting capture
adm_status_succeeded = paid
adm_status_canceled = canceled
adm_status_with_reason = { $status }: { $reason }
adm_reason_expired = the hold expired
adm_reason_user = the customer canceled it
adm_reason_superseded = replaced by a newer payment
adm_reason_sold_out = the seats ran out
adm_reason_interrupted = the checkout was cut short
adm_reason_provider = canceled by YooKassa ({ $reason })
adm_provider_reason_unavailable = YooKassa did not answer
adm_provider_reason_error = a YooKassa error
adm_provider_reason_insufficient_funds = insufficient funds
adm_provider_reason_general_decline = declined by the bank
adm_provider_reason_expired_on_confirmation = not paid in time
adm_provider_reason_expired_on_capture = not captured in time
adm_provider_reason_canceled_by_merchant = canceled by the shop
adm_provider_reason_3d_secure_failed = 3-D Secure failed
adm_provider_reason_card_expired = the card has expired
adm_provider_reason_fraud_suspected = suspected fraud
adm_provider_reason_unknown = reason unknown
adm_sub_status_active = active
adm_sub_status_expired = ended
adm_cohort_new = new customers
adm_cohort_returning = returning subscribers
adm_cohort_active = current subscribers
adm_cohort_regular = regular customers
adm_cohort_test = test users
adm_stats_cohorts = Subscriptions of 30 days per cohort: { $counts }
adm_source_bot = bot
adm_source_api = API
adm_source_checkout = checkout
adm_source_user = customer
adm_source_webhook = YooKassa notification
adm_source_reconciler = reconciliation
adm_source_recheck = recheck
adm_source_expiry = hold expiry
adm_source_status = status request
adm_source_admin = admin
adm_event_created = payment created
adm_event_provider_created = created at YooKassa
adm_event_provider_failed = YooKassa did not create the payment
adm_event_interrupted = checkout cut short
adm_event_sold_out = the seats ran out before the hold
adm_event_canceled_by_user = the customer canceled
adm_event_waiting_for_capture = money authorised
adm_event_succeeded = paid
adm_event_canceled = canceled
adm_event_updated = details changed
adm_event_amount_replaced = amount changed
adm_event_refund_requested = refund requested
adm_event_refund_unanswered = YooKassa did not answer the refund
adm_event_refund_rejected = YooKassa refused the refund
adm_event_refund_succeeded = refund done
adm_event_refund_canceled = refund canceled
adm_event_repeat = { $event } (again)
adm_event_late = { $event } (after it was paid)
adm_event_superseded = { $event } (superseded)
adm_event_mismatch = does not match YooKassa (there: { $event })
adm_event_change = { $before } → { $after }
adm_event_now = now: { $after }
adm_action_refund = refund
adm_action_refund_draft = refund preview
adm_action_refund_confirm = refund confirmed
adm_action_refund_cancel = refund canceled
adm_result_awaiting_confirmation = awaiting confirmation
adm_result_confirmed = confirmed
adm_result_canceled = canceled
adm_result_done = done
adm_ids_order = Order { $order_id } · payment { $payment_id } · YooKassa { $provider_id }
adm_ids_payment = Payment { $payment_id } · YooKassa { $provider_id }
adm_rf_confirm =
    💸 Refund { $amount } of { $total }?
    { $ids }
    Customer: { $name } ({ $user_id })
adm_rf_already = Already refunded: { $refunded }.
adm_rf_after = { $left } will be left after this refund.
adm_rf_retry = This retries a refund YooKassa has not answered (same key).
adm_rf_tickets_void =
    { $count ->
        [one] { $count } ticket
       *[other] { $count } tickets
    } of { $total } will be voided.
adm_rf_tickets_used =
    Already checked in, { $count ->
        [one] { $count } ticket stays as it is
       *[other] { $count } tickets stay as they are
    }.
adm_rf_seats =
    { $count ->
        [one] { $count } seat goes
       *[other] { $count } seats go
    } back on sale ({ $date }, { $time }).
adm_rf_seats_past = No seats go back on sale: the { $date }, { $time } slot has already started.
adm_rf_tickets_stay =
    A partial refund: { $total ->
        [one] the ticket stays valid, its seat stays taken
       *[other] the { $total } tickets stay valid, the seats stay taken
    }.
adm_rf_sub_shorter =
    The subscription gets { $days ->
        [one] { $days } day
       *[other] { $days } days
    } shorter: until { $date }.
adm_rf_sub_ends = The subscription ends at once.
adm_rf_sub_same = The subscription's end stays the same.
adm_rf_customer_told = The customer will be told about the refund.
adm_rf_btn_confirm = ✅ Refund { $amount }
adm_rf_btn_cancel = ✖️ Cancel
adm_rf_working = ⏳ Refunding { $amount }…
adm_rf_canceled = The refund of { $amount } on { $payment_id } is canceled: no money moved.
adm_rf_used = This confirmation was already used or canceled.
adm_no_refund_changed = No refund made: the refunds of { $payment_id } changed while you were confirming ({ $refunded } of { $total } refunded, { $expected } before). Check /payment { $payment_id } and send /refund again.
adm_no_refund_draft_gone = This confirmation was already used or canceled.
