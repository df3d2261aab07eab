# Auto-renewal in the Mini App (payments/miniapp/static/js/renewal.js) and the terms the server
# shows (renew-terms, version TERMS_VERSION in payments/subscriptions/terms.py).

renew-terms = Auto-renewal of “{ $plan }”: { $amount } every { $days ->
    [one] { $days } day
   *[other] { $days } days
}. The next charge is on { $date }, to the card you pay with; we remind you 3 days before it. You can turn it off at any time in “Subscription” or with /my in the bot — the days you paid for stay.

app-renew-toggle = Auto-renewal
app-renew-toggle-hint = Renew the subscription automatically from this card
app-renew-terms-title = Auto-renewal terms
app-renew-on = Auto-renewal on, { $card }
app-renew-on-no-card = Auto-renewal on
app-renew-off = Auto-renewal off
app-renew-off-card = Auto-renewal off. Saved: { $card }
app-renew-next = Next charge: { $amount } on { $date }
app-renew-retrying = The last charge did not go through; we will try again. You can pay by hand in the bot.
app-renew-turn-off = Turn off auto-renewal
app-renew-turn-on = Turn on auto-renewal
app-renew-confirm-on = Turn on with these terms
app-renew-forget = Forget the card
app-renew-forgotten = The card is forgotten. Auto-renewal is off.
app-renew-turned-off = Auto-renewal is off. The days you paid for stay.
app-renew-turned-on = Auto-renewal is on.
