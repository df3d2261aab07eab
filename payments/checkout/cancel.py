"""Cancel an unpaid ticket order by its number, through the bot's own cancel path."""

from __future__ import annotations

from enum import StrEnum

from payments.account import Account
from payments.checkout.flow import Checkout


class Canceled(StrEnum):
    """What became of a request to cancel an order."""

    CANCELED = "canceled"
    # Unknown, or another customer's: the caller must not learn which.
    NOT_FOUND = "not_found"
    # Paid, being paid, expired or canceled already: nothing pending to cancel.
    NOT_PENDING = "not_pending"


async def cancel_order(
    checkout: Checkout, account: Account, user_id: str, order_id: str
) -> tuple[Canceled, str | None]:
    """Cancel a user's unpaid order and release its seats; return the outcome and the status.

    Each pending payment of the order goes through `Checkout.cancel_by_user`, the path of the
    bot's Cancel button, so the seats are given back exactly as there (once, atomically). The
    status is the order's as it stands when nothing could be canceled.
    """
    state = await account.order_state(user_id, order_id)
    if state is None:
        return Canceled.NOT_FOUND, None
    canceled = False
    for payment_id in state.pending:
        canceled = await checkout.cancel_by_user(payment_id, user_id) or canceled
    if canceled:
        return Canceled.CANCELED, "canceled"
    after = await account.order_state(user_id, order_id)
    return Canceled.NOT_PENDING, (after or state).status
