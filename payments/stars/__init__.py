"""Digital plans sold for Telegram Stars (XTR) as Stars subscriptions, each charge applied once.

Plain values in and out: the bot (handlers/stars.py) makes the Telegram calls
(`createInvoiceLink`, `answerPreCheckoutQuery`, `refundStarPayment`,
`editUserStarSubscription`) and hands what Telegram said to `StarsBilling`.

* `start` writes a pending payment (kind "subscription", currency "XTR", the amount in whole
  Stars, `payment_method` "telegram_stars"); the invoice payload `stars:<payment id>` names it.
* `pre_checkout` says yes only while that payment is still payable at the invoiced amount.
* `charged` applies a `successful_payment` once per `telegram_payment_charge_id` (our
  `provider_id`, unique): the first charge moves the pending payment to succeeded (one
  conditional UPDATE); each renewal (`is_recurring` and not `is_first_recurring`) is a payment
  row of its own keyed by its charge id; both extend the subscription through
  `Fulfilment.deliver`, the path every paid plan takes. A replayed update finds the charge id
  taken and does nothing.
* Stars amounts live in payments whose currency is "XTR"; rouble figures filter on "RUB".
"""

from payments.stars.accounts import CURRENCY, PROVIDER, SOURCE, StarsTarget
from payments.stars.billing import (
    PAYLOAD_PREFIX,
    SUBSCRIPTION_PERIOD,
    ChargeOutcome,
    PreCheckout,
    StarCharge,
    StarsBilling,
    StarsInvoice,
    payload_of,
    payment_id_of,
)

__all__ = [
    "CURRENCY",
    "PAYLOAD_PREFIX",
    "PROVIDER",
    "SOURCE",
    "SUBSCRIPTION_PERIOD",
    "ChargeOutcome",
    "PreCheckout",
    "StarCharge",
    "StarsBilling",
    "StarsInvoice",
    "StarsTarget",
    "payload_of",
    "payment_id_of",
]
