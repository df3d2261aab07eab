"""Why a checkout cannot go ahead; transports map each type to their own answer."""

from __future__ import annotations


class CheckoutError(Exception):
    """A checkout that cannot go ahead; the message is for logs, callers map the type."""


class TooManyPending(CheckoutError):
    """The user has too many unfinished payments in the window."""

    def __init__(self, retry_after: int) -> None:
        """Keep how many seconds until the oldest unfinished payment leaves the window."""
        super().__init__(f"too many unfinished payments; retry in {retry_after}s")
        self.retry_after = retry_after


class TooManyUnpaidSeats(CheckoutError):
    """The user's unpaid orders already hold (nearly) as many seats as one order may have."""

    def __init__(self, held: int, limit: int) -> None:
        """Keep how many seats are held unpaid and the allowance."""
        super().__init__(f"{held} seats already held unpaid; at most {limit} at once")
        self.held = held
        self.limit = limit


class UnknownProduct(CheckoutError):
    """The plan or ticket type is not in the catalog."""


class ProviderDown(CheckoutError):
    """YooKassa could not create the payment; our row was canceled."""


class UnknownUser(CheckoutError):
    """The buyer is not a known user."""


class SoldOut(CheckoutError):
    """The slot has fewer free seats than the order needs."""

    def __init__(self, seats_left: int) -> None:
        """Keep how many seats are still free."""
        super().__init__(f"sold out; {seats_left} seats left")
        self.seats_left = seats_left
