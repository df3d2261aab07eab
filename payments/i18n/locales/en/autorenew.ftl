btn_autorenew_off_toggle = 🔁 Auto-renewal: off
btn_autorenew_on_toggle = ✅ Auto-renewal: on
plans_autorenew_on = 🔁 Auto-renewal is on: after you pick a plan you will see the terms.
autorenew_days =
    { $days ->
        [one] { $days } day
       *[other] { $days } days
    }
autorenew_terms =
    🔁 Auto-renewal terms for “{ $plan }”
    Now: { $price } for { $period }.
    Then every { $period } we will charge { $price } to the card you pay with, without asking. Next charge: { $date }.
    3 days before each charge we send a reminder with the amount and date.
    You can stop at any time: /my → “Turn off auto-renewal” or the button in the reminder. The paid period is kept.
autorenew_terms_again =
    🔁 Auto-renewal terms for “{ $plan }”
    Every { $period } we will charge { $price } to card { $card } without asking. Next charge: { $date }.
    3 days before each charge we send a reminder with the amount and date.
    You can stop at any time: /my → “Turn off auto-renewal”. The paid period is kept.
autorenew_new_card = The new card replaces the old one; paying now extends the subscription by { $period }.
btn_autorenew_agree = ✅ I agree, pay { $price }
btn_autorenew_agree_on = ✅ I agree, turn on
autorenew_notice =
    🔁 On { $date } we will charge { $price } to card { $card } for “{ $plan }”, another { $period }.
    If you do not want to renew, turn auto-renewal off before then; the paid period is kept.
btn_autorenew_off = Turn off auto-renewal
btn_autorenew_card = Change card
btn_autorenew_on = Turn on auto-renewal
btn_autorenew_forget = Forget the card
autorenew_reason =
    { $reason ->
        [insufficient_funds] the card did not have enough money
        [card_expired] the card has expired
        [permission_revoked] you revoked the permission to charge this card
        [payment_method_restricted] this card can no longer be charged automatically
        [expired_on_confirmation] the payment was not confirmed in time
        [call_issuer] the bank declined the payment; please call your bank
        [fraud_suspected] the bank suspected fraud and declined the payment
       *[other] the bank declined the payment
    }
autorenew_failed = ⚠️ We could not renew “{ $plan }” for { $price }: { $reason }.
autorenew_failed_next = We will try the card again on { $date }.
autorenew_failed_last = There will be no more automatic tries.
autorenew_failed_off = Auto-renewal is off: this card can no longer be charged.
autorenew_failed_grace = Your access is kept until { $date }. Pay now and the subscription goes on without a break.
btn_autorenew_pay = 💳 Pay { $price }
autorenew_not_payable = This renewal is already paid or being charged right now.
autorenew_turned_off = Auto-renewal is off. Your subscription is active until { $date }; nothing more will be charged.
autorenew_already_off = Auto-renewal is already off.
autorenew_turned_on = ✅ Auto-renewal is on: card { $card }, next charge on { $date }.
autorenew_already_on = Auto-renewal is already on.
autorenew_no_card = No card is saved. Subscribe with auto-renewal in /subscribe.
autorenew_forgotten = The card is forgotten and auto-renewal is off. Your subscription is active until { $date }.
autorenew_no_subscription = You have no subscription. Subscribe: /subscribe
my_autorenew_on = 🔁 Auto-renewal is on, card { $card }. Next charge: { $date }.
my_autorenew_off_card = Auto-renewal is off. Saved card: { $card }.
my_autorenew_off = Auto-renewal is off.
