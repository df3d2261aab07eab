"""Which notifications leave a payment remembered as settled (payments/yookassa/settled.py):
only what YooKassa itself says is final. A remembered payment is never fetched again by this
process, so a wrong "yes" would hide a later change from it."""

from __future__ import annotations

import pytest

from payments.applied import Applied, Outcome
from payments.types import PaymentStatus
from payments.yookassa.settled import SettledPayments
from payments.yookassa.webhook import settled

PENDING = PaymentStatus.PENDING
AUTHORISED = PaymentStatus.WAITING_FOR_CAPTURE
SUCCEEDED = PaymentStatus.SUCCEEDED
CANCELED = PaymentStatus.CANCELED


@pytest.mark.parametrize(
    ("fetched", "applied", "remembered"),
    [
        # YooKassa said succeeded and ours holds it (now or before): final.
        (SUCCEEDED, Applied(Outcome.APPLIED, "p", SUCCEEDED), True),
        (SUCCEEDED, Applied(Outcome.ALREADY, "p", SUCCEEDED), True),
        # Authorised, and this call captured it: YooKassa's answer to the capture said succeeded.
        (AUTHORISED, Applied(Outcome.APPLIED, "p", SUCCEEDED), True),
        # Authorised while ours already says succeeded: YooKassa has not captured it yet, and
        # may still cancel it; ask again.
        (AUTHORISED, Applied(Outcome.ALREADY, "p", SUCCEEDED), False),
        # Released because the seats are gone, declined, still pending, or not applied at all.
        (AUTHORISED, Applied(Outcome.APPLIED, "p", CANCELED), False),
        (CANCELED, Applied(Outcome.APPLIED, "p", CANCELED), False),
        (PENDING, Applied(Outcome.WAITING, "p", CANCELED), False),
        (SUCCEEDED, Applied(Outcome.MISMATCH, "p", PENDING), False),
        (SUCCEEDED, Applied(Outcome.UNKNOWN), False),
        (SUCCEEDED, Applied(Outcome.RETRY, "p", PENDING), False),
    ],
)
def test_only_what_yookassa_says_is_final_is_remembered(
    fetched: PaymentStatus, applied: Applied, remembered: bool
) -> None:
    assert settled(fetched, applied) is remembered


def test_the_memory_forgets_the_least_recently_seen_first() -> None:
    memory = SettledPayments(size=2)
    memory.add("a")
    memory.add("b")
    assert "a" in memory  # seen again: now the newest
    memory.add("c")
    assert ("a" in memory, "b" in memory, "c" in memory) == (True, False, True)
