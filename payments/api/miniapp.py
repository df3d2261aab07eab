"""The Mini App's storefront API (`/api/v2/app/...`): what the customer sees and owns.

Thin routes over the services the bot uses: TicketRules and the inventory for the calendar,
the plan quotes checkout charges, the account behind /my, and the bot's cancel path.
"""

from __future__ import annotations

import asyncio
import math
import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import Response

from db.models import User
from db.repositories.users import get_user
from payments import i18n
from payments.account import OrderView, OwnedTicket
from payments.api.auth import CurrentPrincipal, Principal, is_staff
from payments.api.context import ApiContext, context, iso
from payments.api.errors import ApiError, invalid
from payments.api.miniapp_schemas import (
    AvailabilityOut,
    CanceledOut,
    CatalogOut,
    DayOut,
    MeOut,
    OrderItemOut,
    OrderOut,
    OrdersOut,
    OrderState,
    PlanOut,
    RolesOut,
    ShopOut,
    SlotOut,
    SubscriptionEnvelope,
    SubscriptionOut,
    TicketOut,
    TicketsOut,
    TicketState,
    TicketTypeOut,
    TicketWhen,
)
from payments.api.schemas import ErrorOut
from payments.checkout.cancel import Canceled, cancel_order
from payments.money import wire
from payments.pricing import is_test_user
from payments.receipts import ticket_title
from payments.tickets.calendar import build_calendar
from payments.tickets.qr import qr_png
from payments.types import OrderStatus, PaymentStatus, SubscriptionStatus, TicketStatus

Ctx = Annotated[ApiContext, Depends(context)]
PREFIX = "/api/v2/app"
# A calendar page is six weeks; a request may span two months at most.
DEFAULT_DAYS = 42
MAX_DAYS = 62
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No valid token, or its user is unknown"},
}
NOT_YOURS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"model": ErrorOut, "description": "No such thing of this customer"},
    422: {"model": ErrorOut, "description": "Validation failed; `errors` names the field"},
}

router = APIRouter(prefix=PREFIX, tags=["Mini App"])


async def _user(api: ApiContext, principal: Principal) -> User:
    """Return the caller's row (their language, name and e-mail); 401 if it is gone."""
    async with api.sessionmaker() as session:
        user = await get_user(session, principal.user_id)
    if user is None:
        raise ApiError(401, "The token's user is unknown; sign in again")
    return user


def _language(user: User) -> str:
    return "en" if user.language == "en" else "ru"


@router.get(
    "/me",
    response_model=MeOut,
    responses=ERRORS,
    summary="The caller: name, language, e-mail, roles; and the shop",
)
async def me(request: Request, principal: CurrentPrincipal, api: Ctx) -> MeOut:
    """Return who is signed in, what they may do, and the shop in their language."""
    user = await _user(api, principal)
    lang = _language(user)
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
    user = await _user(api, principal)
    lang = _language(user)
    tickets = api.catalog.tickets
    quotes = {quote.plan_code: quote for quote in await api.checkout.quote_plans(user.id)}
    plans = []
    for plan in api.catalog.plans:
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


def _order(api: ApiContext, order: OrderView, lang: str, now: datetime) -> OrderOut:
    payment = order.payment
    cancelable = (
        order.status == OrderStatus.PENDING.value
        and payment is not None
        and payment.status == PaymentStatus.PENDING.value
    )
    payable = cancelable and payment is not None and payment.expires_at > now
    return OrderOut(
        order_id=order.order_id,
        payment_id=payment.payment_id if payment else None,
        status=cast(OrderState, order.status),
        visit_date=order.visit_date.isoformat(),
        visit_time=order.slot_time,
        items=[
            OrderItemOut(
                ticket_type=line.ticket_type,
                title=ticket_title(api.catalog, line.ticket_type, lang),
                quantity=line.quantity,
                unit_price=wire(line.unit_price),
            )
            for line in order.lines
        ],
        total=wire(order.total),
        created_at=iso(order.created_at) or "",
        expires_at=iso(payment.expires_at) if payment else None,
        payment_url=payment.confirmation_url if payable and payment else None,
        can_cancel=cancelable,
    )


@router.get(
    "/orders",
    response_model=OrdersOut,
    responses=ERRORS,
    summary="The customer's ticket orders, newest first",
    description="`paymentUrl` is given only while the order can be paid; `paymentId` works "
    "with `/api/v2/payments/status`.",
)
async def orders(principal: CurrentPrincipal, api: Ctx) -> OrdersOut:
    """Return the caller's ticket orders with their lines and latest payment."""
    user = await _user(api, principal)
    lang = _language(user)
    now = api.clock.now()
    found = await api.account.orders(user.id)
    return OrdersOut(orders=[_order(api, order, lang, now) for order in found])


@router.post(
    "/orders/{orderId}/cancel",
    response_model=CanceledOut,
    responses={
        **NOT_YOURS,
        409: {"model": ErrorOut, "description": "Paid, being paid, expired or canceled already"},
    },
    summary="Cancel an unpaid order and free its seats",
)
async def cancel(
    order_id: Annotated[
        str, Path(alias="orderId", min_length=1, max_length=32, examples=["ZT-20261201-001"])
    ],
    principal: CurrentPrincipal,
    api: Ctx,
) -> CanceledOut:
    """Cancel one of the caller's unpaid orders, as the bot's Cancel button does."""
    outcome, status = await cancel_order(api.checkout, api.account, principal.user_id, order_id)
    if outcome is Canceled.NOT_FOUND:
        raise ApiError(404, "Order not found")
    if outcome is Canceled.NOT_PENDING:
        raise ApiError(409, _not_cancelable(status))
    return CanceledOut(order_id=order_id)


def _not_cancelable(status: str | None) -> str:
    if status == OrderStatus.PAID.value:
        return "The order is paid; it can no longer be canceled (ask for a refund)"
    if status == OrderStatus.REFUNDED.value:
        return "The order was refunded"
    if status == OrderStatus.CANCELED.value:
        return "The order is already canceled or its payment time ran out"
    return "The order is being paid; it can no longer be canceled"


def qr_content(ticket: OwnedTicket) -> str:
    """Return what a ticket's QR code carries (the one place the Mini App's QR text is made)."""
    return ticket.code


def _state(ticket: OwnedTicket, today: date) -> TicketWhen:
    if ticket.status == TicketStatus.REFUNDED.value:
        return "refunded"
    if ticket.status == TicketStatus.USED.value:
        return "used"
    return "upcoming" if ticket.visit_date >= today else "past"


@router.get(
    "/tickets",
    response_model=TicketsOut,
    responses=ERRORS,
    summary="The customer's tickets, past and coming, with their QR image URLs",
)
async def tickets(principal: CurrentPrincipal, api: Ctx) -> TicketsOut:
    """Return the caller's tickets by visit date and slot."""
    user = await _user(api, principal)
    lang = _language(user)
    today = api.rules.today(api.clock.now())
    owned = await api.account.tickets(user.id)
    return TicketsOut(
        tickets=[
            TicketOut(
                code=ticket.code,
                ticket_type=ticket.ticket_type,
                title=ticket_title(api.catalog, ticket.ticket_type, lang),
                visit_date=ticket.visit_date.isoformat(),
                visit_time=ticket.slot_time,
                status=cast(TicketState, ticket.status),
                checked_in_at=iso(ticket.checked_in_at),
                state=_state(ticket, today),
                qr_url=f"{PREFIX}/tickets/{ticket.code}/qr.png",
            )
            for ticket in owned
        ]
    )


@router.get(
    "/tickets/{code}/qr.png",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "The ticket's QR code"},
        **NOT_YOURS,
    },
    summary="A ticket's QR code as a PNG (its owner only)",
    description="Send the bearer header (fetch it and show it through a blob: URL). Another "
    "customer's ticket and an unknown code are both 404.",
)
async def ticket_qr(
    code: Annotated[str, Path(min_length=1, max_length=64, examples=["ZT-7K3M-9QXD-2FAB"])],
    principal: CurrentPrincipal,
    api: Ctx,
) -> Response:
    """Render the QR code of one of the caller's tickets."""
    ticket = await api.account.owned_ticket(principal.user_id, code)
    if ticket is None:
        raise ApiError(404, "Ticket not found")
    png = await asyncio.to_thread(qr_png, qr_content(ticket))
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, no-store"})


@router.get(
    "/subscription",
    response_model=SubscriptionEnvelope,
    responses=ERRORS,
    summary="The customer's subscription (null if they never had one)",
)
async def subscription(principal: CurrentPrincipal, api: Ctx) -> SubscriptionEnvelope:
    """Return the caller's subscription as /my shows it."""
    user = await _user(api, principal)
    summary = await api.account.summary(user.id)
    sub = summary.subscription
    if sub is None:
        return SubscriptionEnvelope(subscription=None)
    plan = api.catalog.plan(sub.plan_code)
    left = (sub.expires_at - api.clock.now()).total_seconds()
    return SubscriptionEnvelope(
        subscription=SubscriptionOut(
            plan_code=sub.plan_code,
            title=plan.title(_language(user)) if plan else sub.plan_code,
            status="active" if sub.status is SubscriptionStatus.ACTIVE else "expired",
            starts_at=iso(sub.starts_at) or "",
            expires_at=iso(sub.expires_at) or "",
            days_left=max(0, math.ceil(left / 86_400)),
        )
    )


def setup(app: FastAPI) -> None:
    """Add the Mini App's storefront routes."""
    app.include_router(router)
