"""The auto-renewal terms a customer sees before agreeing: amount, period, the next charge, how
to stop. The same numbers the renewal sweep will use, so the text never promises otherwise.

The amount is the price a subscriber renews at (the "active" cohort's price, or the test
price for a test user), read with the admins' overrides, as `Renewals.schedule` quotes it.
The next charge is `lead` before the end of the period: after a purchase, the end of the
period being bought; when turning auto-renewal back on, the end of the current one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models_subscriptions import Renewal, Subscription
from payments import i18n
from payments.catalog import Catalog, Plan
from payments.checkout.draft import CheckoutConfig
from payments.pricing import is_test_user, plan_price
from payments.subscriptions.quotes import price_overrides
from payments.types import Cohort

# The version of the terms text (`renew-terms` in the locale files) stored with each consent.
# Change it whenever that text changes in a way that matters.
TERMS_VERSION = "renew-terms-v1"
# The renewals that still state the price of a coming charge.
COMING = ("scheduled", "retry")


@dataclass(frozen=True, slots=True)
class RenewalTerms:
    """What auto-renewal of one plan would do for one customer."""

    plan_code: str
    amount: Decimal
    days: int
    next_charge_at: datetime
    version: str = TERMS_VERSION


async def renewal_price(
    session: AsyncSession, user_id: str, plan: Plan, *, catalog: Catalog, config: CheckoutConfig
) -> Decimal:
    """Return the price a renewal of `plan` charges this customer (a subscriber's price)."""
    cohort = Cohort.TEST if is_test_user(user_id, config.test_user_ids) else Cohort.ACTIVE
    return plan_price(catalog, plan, cohort, await price_overrides(session))


async def terms_for(
    session: AsyncSession,
    user_id: str,
    plan: Plan,
    *,
    catalog: Catalog,
    config: CheckoutConfig,
    now: datetime,
    lead: timedelta,
    resume: bool,
) -> RenewalTerms:
    """Return the terms of auto-renewing `plan`: bought now (`resume` False) or turned back on."""
    result = await session.execute(
        select(Subscription.status, Subscription.expires_at).where(Subscription.user_id == user_id)
    )
    row = result.one_or_none()
    current_end = row.expires_at if row is not None and row.expires_at > now else now
    end = current_end if resume else current_end + timedelta(days=plan.days)
    amount = await renewal_price(session, user_id, plan, catalog=catalog, config=config)
    if resume:
        stated = await coming_amount(session, user_id, end)
        amount = stated if stated is not None else amount
    return RenewalTerms(plan.code, amount, plan.days, max(now, end - lead))


async def coming_amount(
    session: AsyncSession, user_id: str, period_start: datetime
) -> Decimal | None:
    """Return the price a renewal already written for this period states, if there is one."""
    result = await session.execute(
        select(Renewal.amount).where(
            Renewal.user_id == user_id,
            Renewal.period_start == period_start,
            Renewal.status.in_(COMING),
        )
    )
    return result.scalar_one_or_none()


def terms_text(lang: str, terms: RenewalTerms, title: str, tz: ZoneInfo) -> str:
    """Render the terms in the customer's language (Fluent message `renew-terms`)."""
    return i18n.t(
        lang,
        "renew-terms",
        plan=title,
        amount=i18n.money(terms.amount, lang),
        days=terms.days,
        date=i18n.day(lang, terms.next_charge_at.astimezone(tz).date()),
    )
