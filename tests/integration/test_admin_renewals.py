"""The admin's view of auto-renewal on renewals the real sweep made against the local YooKassa:
the /stats block, a renewal payment's attempts, /subscription and its stop button."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from db.models import AuditLog, Payment
from db.models_subscriptions import Renewal
from db.reader import Reader
from payments.admin.figures import SalesFigures
from payments.admin.lookup import PaymentLookup
from payments.admin.results import Refusal
from payments.admin.subscriptions import SubscriptionDesk
from tests.integration.test_renewal import (  # noqa: F401 - the renewal shop fixture
    Shop,
    buy,
    renewals_of,
    shop,
    subscription,
)

ADMIN = 7001
TZ = ZoneInfo("Europe/Moscow")


async def renewed_shop(shop: Shop) -> dict[str, str]:  # noqa: F811
    """One renewal paid (A), one declined until it lapsed (B), one turned off (C), two due (D, E).

    Returns the ids of A's renewal charge and B's first declined charge.
    """
    start = shop.clock.now()
    for user in ("A", "B", "C"):
        await buy(shop, user, auto_renew=True)
    b = await subscription(shop, "B")
    assert b.renew_method_id is not None
    shop.fake.fail_method(b.renew_method_id, "insufficient_funds", n=None)
    shop.clock.set(start + timedelta(days=28))
    assert await shop.switches.turn_off("C") is True
    shop.clock.set(start + timedelta(days=25))
    await buy(shop, "D", auto_renew=True)
    shop.clock.set(start + timedelta(days=27))
    await buy(shop, "E", auto_renew=True)
    # A and B are charged a day before their end; B's retries come after 1, 3 and 5 days.
    first_try = start + timedelta(days=29, hours=1)
    for day in (0, 1, 3, 5):
        shop.clock.set(first_try + timedelta(days=day))
        await shop.renewals.run()
        await shop.jobs.lapse()
    assert (await subscription(shop, "B")).renewal_state == "lapsed"
    assert (await subscription(shop, "A")).expires_at == start + timedelta(days=60)
    # D's notice window is open (its renewal is written at the quoted price); E's is not yet.
    shop.clock.set(start + timedelta(days=52, hours=12))
    await shop.renewals.run()
    async with shop.sessionmaker() as session:
        charges = {
            p.user_id: p.id
            for p in (
                await session.execute(
                    select(Payment).where(Payment.source == "renewal").order_by(Payment.created_at)
                )
            ).scalars()
        }
        first_b = (
            await session.execute(
                select(Payment.id)
                .where(Payment.source == "renewal", Payment.user_id == "B")
                .order_by(Payment.created_at)
                .limit(1)
            )
        ).scalar_one()
    return {"A": charges["A"], "B": first_b}


def figures_of(shop: Shop) -> SalesFigures:  # noqa: F811
    # Its reports open a connection per read (NullPool): nothing is left open to close.
    reader = Reader(shop.sessionmaker.kw["bind"])
    return SalesFigures(
        sessionmaker=shop.sessionmaker,
        reader=reader,
        clock=shop.clock,
        tz=TZ,
        test_user_ids=frozenset(),
    )


async def test_stats_count_auto_renewal_due_sums_success_and_churn(shop: Shop) -> None:  # noqa: F811
    await renewed_shop(shop)
    d_renewal = [r for r in await renewals_of(shop) if r.user_id == "D"]
    assert [r.status for r in d_renewal] == ["scheduled"]
    stats = await figures_of(shop).stats(ADMIN)
    block = stats.renewals
    assert block is not None
    # A (renewed), D and E: on; B lapsed, C off.
    assert block.auto_renewing == 3
    # D (day 55) and E (day 57) end within 7 days of day 52.5; A (day 60) does not.
    assert block.due_count == 2
    assert block.due_sum == d_renewal[0].amount + Decimal("299.00")
    # A's one charge paid; B's four declined.
    assert (block.attempts_paid, block.attempts_settled) == (1, 5)
    assert block.success_rate == Decimal("20.0")
    assert block.involuntary_churn == 1
    assert block.voluntary_churn == 1


async def test_a_card_that_cannot_be_charged_is_not_voluntary_churn(shop: Shop) -> None:  # noqa: F811
    await buy(shop, "R", auto_renew=True)
    sub = await subscription(shop, "R")
    assert sub.renew_method_id is not None
    shop.fake.revoke_method(sub.renew_method_id)
    shop.clock.set(sub.expires_at - timedelta(hours=23))
    await shop.renewals.run()
    block = (await figures_of(shop).stats(ADMIN)).renewals
    assert block is not None
    assert (block.voluntary_churn, block.auto_renewing) == (0, 0)
    assert (block.attempts_paid, block.attempts_settled) == (0, 1)


async def test_payment_of_a_renewal_lists_its_attempts(shop: Shop) -> None:  # noqa: F811
    charges = await renewed_shop(shop)
    lookup = PaymentLookup(sessionmaker=shop.sessionmaker, clock=shop.clock)
    declined = await lookup.payment(ADMIN, charges["B"])
    assert declined.renewal is not None
    assert declined.renewal.status == "failed"
    assert [(a.number, a.status, a.reason) for a in declined.renewal.tries] == [
        (n, "canceled", "provider:insufficient_funds") for n in (1, 2, 3, 4)
    ]
    paid = await lookup.payment(ADMIN, charges["A"])
    assert paid.renewal is not None
    assert [(a.number, a.status) for a in paid.renewal.tries] == [(1, "succeeded")]
    async with shop.sessionmaker() as session:
        first = (
            await session.execute(select(Payment.id).where(Payment.user_id == "A").limit(1))
        ).scalar_one()
    assert (await lookup.payment(ADMIN, first)).renewal is None  # the purchase is no renewal


async def test_subscription_view_and_its_stop_button(shop: Shop) -> None:  # noqa: F811
    await renewed_shop(shop)
    desk = SubscriptionDesk(
        sessionmaker=shop.sessionmaker, clock=shop.clock, switches=shop.switches
    )
    b = await desk.view(ADMIN, "B")
    assert (b.status, b.auto_renew, b.renewal_state) == ("expired", True, "lapsed")
    assert len(b.renewals) == 1 and len(b.renewals[0].tries) == 4
    d = await desk.view(ADMIN, "D")
    assert (d.auto_renew, d.method_title, d.status) == (True, "Карта *4444", "active")
    assert [p.days for p in d.periods] == [30]
    assert [r.status for r in d.renewals] == ["scheduled"]

    assert await desk.stop_auto_renew(ADMIN, "D") is True
    assert await desk.stop_auto_renew(ADMIN, "D") is False  # a stale button: already off
    after = await desk.current("D")
    assert after is not None and after.auto_renew is False
    assert [r.status for r in after.renewals] == ["stopped"]
    # The sweep at D's charge time sends nothing.
    shop.clock.set(d.expires_at - timedelta(hours=23))
    await shop.renewals.run()
    async with shop.sessionmaker() as session:
        d_charges = await session.execute(
            select(Payment.id).where(Payment.source == "renewal", Payment.user_id == "D")
        )
        assert list(d_charges.scalars()) == []
        logged = await session.execute(
            select(AuditLog.action, AuditLog.target, AuditLog.result).where(
                AuditLog.action == "stop_renewal"
            )
        )
        assert list(logged.all()) == [
            ("stop_renewal", "D", "stopped"),
            ("stop_renewal", "D", "already_off"),
        ]
        renewal = (
            await session.execute(select(Renewal).where(Renewal.user_id == "D"))
        ).scalar_one()
    assert renewal.status == "stopped"

    with pytest.raises(Refusal) as missing:
        await desk.view(ADMIN, "@nobody")
    assert missing.value.reason == "user_not_found"
