"""API errors: one exception type, rendered as `{"success": false, "message", "errors"?}`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from payments.checkout.errors import (
    CheckoutError,
    ProviderDown,
    SoldOut,
    TooManyPending,
    TooManyUnpaidSeats,
    UnknownUser,
)


class ApiError(Exception):
    """An error answer with a status code, a message and, for 422, the failing fields."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: Sequence[Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Keep what the answer carries."""
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = [dict(e) for e in errors] if errors else None
        self.headers = dict(headers) if headers else None

    def body(self) -> dict[str, object]:
        """Return the JSON body."""
        body: dict[str, object] = {"success": False, "message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def checkout_failure(exc: CheckoutError) -> ApiError:
    """Map a checkout that could not go ahead to the answer every payment route gives."""
    if isinstance(exc, SoldOut):
        return ApiError(409, f"Not enough free seats: {exc.seats_left} left")
    if isinstance(exc, TooManyUnpaidSeats):
        return ApiError(
            409,
            f"You already hold {exc.held} unpaid seats in pending orders; at most {exc.limit} "
            f"seats may be held unpaid at once, so {max(0, exc.limit - exc.held)} more can be "
            "booked now. Paying or cancelling those orders frees the allowance.",
        )
    if isinstance(exc, TooManyPending):
        return ApiError(
            429,
            "Too many unfinished payments; pay or wait for one to expire",
            headers={"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, ProviderDown):
        return ApiError(503, "The payment service is not answering; nothing was charged")
    if isinstance(exc, UnknownUser):
        return ApiError(401, "The token's user is unknown; sign in again")
    return ApiError(400, str(exc))


def invalid(field: str, message: str) -> ApiError:
    """Return a 422 that names the failing field."""
    return ApiError(422, "Validation failed", errors=[{"field": field, "message": message}])
