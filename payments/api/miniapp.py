"""The Mini App's storefront API (`/api/v2/app/...`): the caller, the catalog, the calendar.

Thin routes over the services the bot uses: TicketRules and the inventory for the calendar,
the plan quotes checkout charges with. What a customer owns is in miniapp_owned.py; `setup`
adds both.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request

from payments import i18n
from payments.api import miniapp_owned, miniapp_renewal
from payments.api.auth import CurrentPrincipal, is_staff
from payments.api.context import ApiContext
from payments.api.errors import invalid
from payments.api.miniapp_common import ERRORS, PREFIX, TAG, Ctx, customer, language
from payments.api.miniapp_schemas import (
    AvailabilityOut,
    CatalogOut,
    DayOut,
    MeOut,
    PlanOut,
    RolesOut,
    ShopOut,
    SlotOut,
    TicketTypeOut,
)
from payments.api.schemas import ErrorOut
from payments.money import wire
from payments.pricing import is_test_user
from payments.tickets.calendar import build_calendar

# A calendar page is six weeks; a request may span two months at most.
DEFAULT_DAYS = 42
MAX_DAYS = 62
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

router = APIRouter(prefix=PREFIX, tags=[TAG])


@router.get(
    "/me",
    response_model=MeOut,
    responses=ERRORS,
    summary="The caller: name, language, e-mail, roles; and the shop",
)
async def me(request: Request, principal: CurrentPrincipal, api: Ctx) -> MeOut:
    """Return who is signed in, what they may do, and the shop in their language."""
    user = await customer(api, principal)
    lang = language(user)
    shop = api.catalog.shop
    return MeOut(
        user_id=user.id,
        first_name=user.first_name,
        language=lang,
        email=user.email,
        roles=RolesOut(admin=principal.is_admin, staff=is_staff(request, principal)),
        sandbox=api.sandbox,
        shop=ShopOut(
            name=shop.name, currency="RUB", address=shop.address(lang), hours=shop.hours(lang)
        ),
    )


@router.get(
    "/catalog",
    response_model=CatalogOut,
    responses=ERRORS,
    summary="Ticket types and plans at this customer's prices",
    description="A plan's `price` is this customer's cohort price, computed by the code "
    "checkout charges with: `/api/v2/payments/create` charges exactly that. `priceLabel` says "
    "what the price is, in the customer's language.",
)
async def catalog(principal: CurrentPrincipal, api: Ctx) -> CatalogOut:
    """Return what the shop sells, priced for the caller."""
    user = await customer(api, principal)
    lang = language(user)
    tickets = api.catalog.tickets
    quotes = {quote.plan_code: quote for quote in await api.checkout.quote_plans(user.id)}
    plans = []
    for plan in api.catalog.rouble_plans:  # digital plans: Stars, in the bot only
        quote = quotes[plan.code]
        plans.append(
            PlanOut(
                code=plan.code,
                title=plan.title(lang),
                days=plan.days,
                price=wire(quote.amount),
                base_price=wire(plan.price),
                cohort=quote.cohort.value,
                price_label=i18n.t(lang, f"app-api-price-{quote.cohort.value}"),
            )
        )
    is_test = is_test_user(user.id, api.test_user_ids)
    return CatalogOut(
        currency="RUB",
        slots=list(tickets.slots),
        max_tickets_per_order=tickets.max_tickets_per_order,
        ticket_types=[
            TicketTypeOut(code=t.code, title=t.title(lang), price=wire(t.price))
            for t in tickets.types
        ],
        test_order_total=wire(api.catalog.shop.test_price) if is_test else None,
        plans=plans,
    )


def _day_param(name: str, value: str | None) -> date | None:
    if value is None:
        return None
    if not _DATE.match(value):
        raise invalid(name, "a date like 2026-12-02")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise invalid(name, "not a date of the calendar") from None


def _range(api: ApiContext, first: str | None, last: str | None) -> tuple[date, date]:
    """Return the dates asked for: `from` defaults to today, `to` to six weeks from `from`."""
    start = _day_param("from", first) or api.rules.today(api.clock.now())
    end = _day_param("to", last)
    if end is None:
        try:
            end = start + timedelta(days=DEFAULT_DAYS - 1)
        except OverflowError:
            raise invalid("from", "too far in the future") from None
    if end < start:
        raise invalid("to", "must not be before `from`")
    if (end - start).days + 1 > MAX_DAYS:
        raise invalid("to", f"at most {MAX_DAYS} days from `from`")
    return start, end


@router.get(
    "/availability",
    response_model=AvailabilityOut,
    responses={
        **ERRORS,
        422: {"model": ErrorOut, "description": "A bad date or range; `errors` names from/to"},
    },
    summary="Free seats per date and slot, open or closed and why",
    description=f"At most {MAX_DAYS} days; `from` defaults to today, `to` to `from` + "
    f"{DEFAULT_DAYS - 1}. The rules are checkout's: a date or slot shown open can be booked "
    "(if its seats are still free when the order comes).",
)
async def availability(
    principal: CurrentPrincipal,
    api: Ctx,
    first: Annotated[
        str | None,
        Query(alias="from", description="First date, YYYY-MM-DD", examples=["2026-12-01"]),
    ] = None,
    last: Annotated[
        str | None,
        Query(alias="to", description="Last date, YYYY-MM-DD", examples=["2026-12-31"]),
    ] = None,
) -> AvailabilityOut:
    """Return the calendar of a range of dates, read with one query."""
    del principal  # any signed-in customer may look
    start, end = _range(api, first, last)
    seats = await api.availability.seats_between(start, end)
    calendar = build_calendar(api.rules, seats, api.clock.now())
    return AvailabilityOut(
        today=calendar.today.isoformat(),
        first_date=calendar.first_date.isoformat(),
        last_date=calendar.last_date.isoformat(),
        days=[
            DayOut(
                date=day.date.isoformat(),
                open=day.open,
                reason=day.reason.value if day.reason else None,
                free=day.free,
                slots=[
                    SlotOut(
                        time=slot.time,
                        capacity=slot.capacity,
                        free=slot.free,
                        open=slot.open,
                        reason=slot.reason.value if slot.reason else None,
                    )
                    for slot in day.slots
                ],
            )
            for day in calendar.days
        ],
    )


def setup(app: FastAPI) -> None:
    """Add the Mini App's storefront routes."""
    app.include_router(router)
    app.include_router(miniapp_owned.router)
    app.include_router(miniapp_renewal.router)
