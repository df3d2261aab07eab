"""The Mini App's auto-renewal API: the terms to show, and the customer's switches (turn off,
turn back on with the saved card after seeing the terms again, forget the card).

Every switch acts on the caller's own subscription only (there is no id to point at another's);
the conditional updates are `AutoRenewal`'s, the ones the bot's /my uses.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from payments.api.auth import CurrentPrincipal
from payments.api.context import ApiContext, iso
from payments.api.errors import ApiError, invalid
from payments.api.miniapp_common import ERRORS, NOT_YOURS, PREFIX, TAG, Ctx, customer, language
from payments.api.miniapp_renewal_schemas import (
    AutoRenewEnvelope,
    AutoRenewIn,
    AutoRenewOut,
    RenewalTermsOut,
)
from payments.api.schemas import ErrorOut
from payments.catalog import Plan
from payments.money import wire
from payments.subscriptions.consent import AutoRenewConsent
from payments.subscriptions.terms import TERMS_VERSION, terms_text
from payments.types import SubscriptionInfo, SubscriptionStatus

router = APIRouter(prefix=PREFIX, tags=[TAG])
CONFLICT: dict[int | str, dict[str, object]] = {
    409: {"model": ErrorOut, "description": "Not possible now; the message says why"},
}
STATES = ("retrying", "lapsed")


async def auto_renew_of(api: ApiContext, sub: SubscriptionInfo) -> AutoRenewOut:
    """Return a subscription's auto-renewal with its coming charge (while it is on)."""
    state = await api.auto_renewal.state(sub.user_id)
    on = state is not None and state.auto_renew
    card = state.method_title if state else None
    renewal_state = state.renewal_state if state and state.renewal_state in STATES else None
    plan = api.catalog.plan(sub.plan_code)
    if not on or plan is None or sub.status is not SubscriptionStatus.ACTIVE:
        return AutoRenewOut(
            on=on, card=card, next_charge_at=None, next_charge_amount=None, state=renewal_state
        )
    terms = await api.renewals.terms(sub.user_id, plan, resume=True)
    return AutoRenewOut(
        on=True,
        card=card,
        next_charge_at=iso(terms.next_charge_at),
        next_charge_amount=wire(terms.amount),
        state=renewal_state,
    )


async def _subscription(api: ApiContext, user_id: str) -> SubscriptionInfo:
    sub = (await api.account.summary(user_id)).subscription
    if sub is None:
        raise ApiError(404, "You have no subscription")
    return sub


def _plan(api: ApiContext, code: str, field: str) -> Plan:
    plan = api.catalog.plan(code)
    if plan is None or plan.digital:  # digital plans renew through Telegram Stars
        codes = ", ".join(p.code for p in api.catalog.rouble_plans)
        raise invalid(field, f"unknown plan; use one of {codes}")
    return plan


@router.get(
    "/renewal-terms",
    response_model=RenewalTermsOut,
    responses={**ERRORS, 422: NOT_YOURS[422]},
    summary="The auto-renewal terms to show before the customer agrees",
    description="Amount, period, the date of the next charge and how to stop, in the caller's "
    "language. `resume=false` (default): for buying `plan` now with auto-renewal; "
    "`resume=true`: for turning it back on for the current subscription. Agree by sending "
    "`version` as `termsVersion`.",
)
async def renewal_terms(
    principal: CurrentPrincipal,
    api: Ctx,
    plan: Annotated[str, Query(min_length=1, max_length=32, examples=["monthly"])],
    resume: Annotated[bool, Query(description="Turning auto-renewal back on")] = False,
) -> RenewalTermsOut:
    """Return the terms of auto-renewing a plan for the caller."""
    user = await customer(api, principal)
    chosen = _plan(api, plan, "plan")
    terms = await api.renewals.terms(user.id, chosen, resume=resume)
    lang = language(user)
    return RenewalTermsOut(
        plan=chosen.code,
        version=terms.version,
        text=terms_text(lang, terms, chosen.title(lang), api.rules.tz),
        amount=wire(terms.amount),
        days=terms.days,
        next_charge_at=iso(terms.next_charge_at) or "",
    )


@router.post(
    "/subscription/auto-renew",
    response_model=AutoRenewEnvelope,
    responses={**NOT_YOURS, **CONFLICT},
    summary="Turn auto-renewal off (the paid period stays) or back on with the saved card",
    description="Off stops a charge not yet sent, even one due now. On needs the card saved "
    "by a purchase with auto-renewal (409 without one, or when the subscription has ended) "
    "and `termsVersion` of the terms shown again (`/renewal-terms?resume=true`).",
)
async def switch(body: AutoRenewIn, principal: CurrentPrincipal, api: Ctx) -> AutoRenewEnvelope:
    """Turn the caller's auto-renewal off or on."""
    sub = await _subscription(api, principal.user_id)
    if body.on:
        await _turn_on(api, sub, body.termsVersion)
    else:
        await api.auto_renewal.turn_off(sub.user_id)
    return AutoRenewEnvelope(auto_renew=await auto_renew_of(api, sub))


async def _turn_on(api: ApiContext, sub: SubscriptionInfo, version: str | None) -> None:
    if not version:
        raise invalid("termsVersion", "required to turn auto-renewal on: the terms shown")
    state = await api.auto_renewal.state(sub.user_id)
    if state is not None and state.auto_renew:
        return  # on already: nothing to agree to again
    if state is None or state.method_title is None:
        raise ApiError(409, "No saved card: buy a plan with auto-renewal on to save one")
    if sub.status is not SubscriptionStatus.ACTIVE:
        raise ApiError(409, "The subscription has ended: buy a plan with auto-renewal on")
    if version != TERMS_VERSION:
        raise ApiError(409, "The auto-renewal terms have changed; show them again")
    plan = _plan(api, sub.plan_code, "on")
    terms = await api.renewals.terms(sub.user_id, plan, resume=True)
    consent = AutoRenewConsent(text_version=TERMS_VERSION, channel="miniapp")
    if not await api.auto_renewal.turn_on(
        sub.user_id, consent, amount=terms.amount, days=terms.days
    ):
        # The card was forgotten meanwhile (or another tap turned it on first).
        again = await api.auto_renewal.state(sub.user_id)
        if again is None or not again.auto_renew:
            raise ApiError(409, "No saved card: buy a plan with auto-renewal on to save one")


@router.delete(
    "/subscription/card",
    response_model=AutoRenewEnvelope,
    responses={**NOT_YOURS, **CONFLICT},
    summary="Forget the saved card (auto-renewal goes off with it)",
    description="409 when no card is kept.",
)
async def forget_card(principal: CurrentPrincipal, api: Ctx) -> AutoRenewEnvelope:
    """Forget the caller's saved card."""
    sub = await _subscription(api, principal.user_id)
    if not await api.auto_renewal.forget_method(sub.user_id):
        raise ApiError(409, "No saved card to forget")
    return AutoRenewEnvelope(auto_renew=await auto_renew_of(api, sub))
