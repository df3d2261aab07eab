"""The Mini App's API of what a customer owns: orders (and cancelling one), tickets with their
QR images, the subscription. Nobody sees another's: theirs is 404, as if it did not exist.

The reads are the account's (the bot's /my), the cancel is the bot's Cancel button's path.
"""

from __future__ import annotations

import asyncio
import math
from datetime import date, datetime
from typing import Annotated, cast

from fastapi import APIRouter, Path
from fastapi.responses import Response

from payments.account import OrderView, OwnedTicket
from payments.api.auth import CurrentPrincipal
from payments.api.context import ApiContext, iso
from payments.api.errors import ApiError
from payments.api.miniapp_common import ERRORS, NOT_YOURS, PREFIX, TAG, Ctx, customer, language
from payments.api.miniapp_renewal import auto_renew_of
from payments.api.miniapp_schemas import (
    CanceledOut,
    OrderItemOut,
    OrderOut,
    OrdersOut,
    OrderState,
    SubscriptionEnvelope,
    SubscriptionOut,
    TicketOut,
    TicketsOut,
    TicketState,
    TicketWhen,
)
from payments.api.schemas import ErrorOut
from payments.checkout.cancel import Canceled, cancel_order
from payments.money import wire
from payments.receipts import ticket_title
from payments.tickets.qr import qr_png
from payments.types import OrderStatus, PaymentStatus, SubscriptionStatus, TicketStatus

router = APIRouter(prefix=PREFIX, tags=[TAG])


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
    user = await customer(api, principal)
    lang = language(user)
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


def qr_content(api: ApiContext, ticket: OwnedTicket) -> str:
    """Return what a ticket's QR code carries: its signed content (contract: Signed QR)."""
    return api.signer.content(
        ticket.code,
        ticket.visit_date,
        ticket.slot_time,
        ticket.ticket_type,
        is_test=ticket.is_test,
    )


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
    user = await customer(api, principal)
    lang = language(user)
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
    png = await asyncio.to_thread(qr_png, qr_content(api, ticket))
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, no-store"})


@router.get(
    "/subscription",
    response_model=SubscriptionEnvelope,
    responses=ERRORS,
    summary="The customer's subscription (null if they never had one)",
    description="`autoRenew`: on or off, the saved card, and while on the coming charge.",
)
async def subscription(principal: CurrentPrincipal, api: Ctx) -> SubscriptionEnvelope:
    """Return the caller's subscription as /my shows it."""
    user = await customer(api, principal)
    summary = await api.account.summary(user.id)
    sub = summary.subscription
    if sub is None:
        return SubscriptionEnvelope(subscription=None)
    plan = api.catalog.plan(sub.plan_code)
    left = (sub.expires_at - api.clock.now()).total_seconds()
    return SubscriptionEnvelope(
        subscription=SubscriptionOut(
            plan_code=sub.plan_code,
            title=plan.title(language(user)) if plan else sub.plan_code,
            status="active" if sub.status is SubscriptionStatus.ACTIVE else "expired",
            starts_at=iso(sub.starts_at) or "",
            expires_at=iso(sub.expires_at) or "",
            days_left=max(0, math.ceil(left / 86_400)),
            auto_renew=await auto_renew_of(api, sub),
        )
    )
