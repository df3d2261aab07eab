"""Saved payment methods in the sandbox: saving, charging without the payer, and failing.

A payment created with ``save_payment_method: true`` saves its method when it is paid
(``payment_method.saved: true``, the id to charge later). ``POST /payments`` with
``payment_method_id`` then charges it with no confirmation and answers at once: ``succeeded``
(or ``waiting_for_capture``), or ``canceled`` with the reason a switch set here. YooKassa's own
refusals answer 400 with its words (yookassa.md §3.1, §6).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from payments.yookassa.sandbox.wire import JSON, bad

# YooKassa's cancellation reasons (OAS enum, yookassa.md §1).
CANCELLATION_REASONS = frozenset(
    {
        "3d_secure_failed",
        "call_issuer",
        "card_expired",
        "payment_method_limit_exceeded",
        "payment_method_restricted",
        "country_forbidden",
        "general_decline",
        "fraud_suspected",
        "identification_required",
        "insufficient_funds",
        "invalid_card_number",
        "invalid_csc",
        "issuer_unavailable",
        "canceled_by_merchant",
        "permission_revoked",
        "internal_timeout",
        "expired_on_confirmation",
        "expired_on_capture",
        "unsupported_mobile_operator",
        "deal_expired",
    }
)
_SOURCES = ("payment_method_data", "payment_method_id", "payment_token")


def card_method(payment_id: str) -> JSON:
    """The sandbox's test card as YooKassa reports a paid card (not saved)."""
    return {
        "type": "bank_card",
        "id": payment_id,
        "saved": False,
        "status": "inactive",
        "title": "Bank card *4444",
        "card": {
            "first6": "555555",
            "last4": "4444",
            "expiry_month": "12",
            "expiry_year": "2030",
            "card_type": "MasterCard",
        },
    }


@dataclass
class _Failure:
    party: str
    reason: str
    remaining: int | None  # None: every charge until cleared


class SavedMethods:
    """The sandbox shop's saved methods and the switches that make their charges fail."""

    def __init__(self) -> None:
        """Start with nothing saved."""
        self.saved: dict[str, JSON] = {}
        self.revoked: set[str] = set()
        self._failures: dict[str, _Failure] = {}

    def save(self, method: JSON) -> None:
        """Mark a paid payment's method saved (in place) and keep it for later charges."""
        method.update(saved=True, status="active")
        self.saved[method["id"]] = copy.deepcopy(method)

    def requested(self, body: JSON) -> tuple[bool, JSON | None]:
        """Check a create request's method fields; return (save it?, the saved method to charge).

        400 as YooKassa: two sources of the method at once, a confirmation with a saved
        method, a method never saved, a save flag that is not a boolean.
        """
        save = body.get("save_payment_method", False)
        if not isinstance(save, bool):
            raise bad("Invalid request parameter", "save_payment_method")
        sources = [name for name in _SOURCES if body.get(name) is not None]
        if len(sources) > 1:
            raise bad("Request should contain only one of: " + ", ".join(_SOURCES), sources[1])
        if "payment_method_id" not in sources:
            if sources:
                raise bad("The sandbox pays only with its test card", sources[0])
            return save, None
        if body.get("confirmation") is not None:
            raise bad("Confirmation must be null when using payment_method_id", "confirmation")
        method_id: Any = body["payment_method_id"]
        method = self.saved.get(method_id) if isinstance(method_id, str) else None
        if method is None:
            raise bad("Payment method is not saved", "payment_method_id")
        return save, copy.deepcopy(method)

    def fail(
        self,
        method_id: str,
        reason: str = "insufficient_funds",
        *,
        n: int | None = 1,
        party: str = "payment_network",
    ) -> None:
        """Cancel the next n charges of a saved method with ``reason`` (None: until cleared)."""
        if reason not in CANCELLATION_REASONS:
            raise ValueError(f"YooKassa has no cancellation reason {reason!r}")
        if method_id not in self.saved:
            raise KeyError(method_id)
        self._failures[method_id] = _Failure(party, reason, n)

    def revoke(self, method_id: str) -> None:
        """The payer revoked the permission: every later charge is canceled (permission_revoked)."""
        if method_id not in self.saved:
            raise KeyError(method_id)
        self.revoked.add(method_id)

    def clear(self, method_id: str) -> None:
        """Charges of the method succeed again."""
        self._failures.pop(method_id, None)
        self.revoked.discard(method_id)

    def outcome(self, method_id: str) -> tuple[str, str] | None:
        """Return (party, reason) when this charge fails (a one-off switch is used up)."""
        if method_id in self.revoked:
            return "yoo_money", "permission_revoked"
        failure = self._failures.get(method_id)
        if failure is None:
            return None
        if failure.remaining is not None:
            failure.remaining -= 1
            if failure.remaining <= 0:
                del self._failures[method_id]
        return failure.party, failure.reason
