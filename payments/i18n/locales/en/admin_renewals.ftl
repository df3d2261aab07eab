# /stats: auto-renewal; /payment and /subscription: renewals and their attempts
adm_rn_stats_title = 🔁 Auto-renewal (test users left out, 30 days):
adm_rn_stats_on = Subscriptions renewing automatically: { $count }
adm_rn_stats_due = Renewals due in 7 days: { $count } for { $sum }
adm_rn_stats_rate = Charges that succeeded: { $rate } ({ $paid } of { $settled })
adm_rn_stats_churn = Churn: involuntary (charge failed) { $involuntary }, voluntary (auto-renewal turned off) { $voluntary }
adm_rn_renewal = Renewal { $renewal } from { $start } for { $amount }: { $status }, { $attempts ->
        [one] { $attempts } attempt
       *[other] { $attempts } attempts
    }
adm_rn_next = Next attempt: { $at }
adm_rn_attempt = attempt { $number }
adm_rn_by_link = paid by link
adm_rn_no_attempts = • no attempts yet
adm_rn_status_scheduled = scheduled
adm_rn_status_charging = charging
adm_rn_status_retry = waiting to retry
adm_rn_status_succeeded = paid
adm_rn_status_failed = failed
adm_rn_status_stopped = stopped
adm_rn_state_retrying = retrying the charge
adm_rn_state_lapsed = lapsed after failed charges
adm_sb_title = 👤 Subscription: { $name } ({ $user_id })
adm_sb_plan = Plan: { $plan }
adm_sb_status = Status: { $status }
adm_sb_period = Period: { $start } — { $end }
adm_sb_auto_on = Auto-renewal: on, { $card }
adm_sb_auto_off = Auto-renewal: off
adm_sb_state = Renewal: { $state }
adm_sb_grace = Access kept until { $until }
adm_sb_periods = Periods ({ $shown } of { $total }):
adm_sb_granted = granted by admin { $admin }
adm_sb_renewals = Renewals:
adm_sb_btn_stop = ⏹ Stop auto-renewal
adm_sb_stopped = Auto-renewal is off.
adm_sb_already_off = Auto-renewal was already off.
adm_usage_subscription = Usage: /subscription <id or @username>, e.g. /subscription 123456789 or /subscription @ivan
adm_no_no_subscription = User { $user_id } has no subscription.
adm_action_subscription = subscription viewed
adm_action_stop_renewal = auto-renewal stopped
adm_result_stopped = stopped
adm_result_already_off = already off
