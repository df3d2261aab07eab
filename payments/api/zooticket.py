"""ZooTicket API (`/v1`): ticket payment sessions, read, update, delete."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path
from fastapi.responses import JSONResponse

from payments.api.auth import CurrentPrincipal
from payments.api.context import ApiContext, context, iso
from payments.api.errors import ApiError, checkout_failure, invalid
from payments.api.schemas import (
    Amount,
    DeletedEnvelope,
    DeletedOut,
    ErrorOut,
    PaymentEnvelope,
    PaymentOut,
    PaymentPatch,
    PaymentPut,
    SessionEnvelope,
    SessionIn,
    SessionOut,
)
from payments.checkout.errors import CheckoutError
from payments.money import parse_money, wire
from payments.sessions import (
    BadMetadata,
    Conflict,
    NotAllowed,
    NotFound,
    NotUpdatable,
    PaymentView,
    ProviderFailed,
)
from payments.tickets.rules import InvalidOrder

Ctx = Annotated[ApiContext, Depends(context)]
PaymentId = Annotated[str, Path(min_length=1, max_length=64, examples=["ZT_1111111111"])]
COMMON: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No valid token"},
    404: {"model": ErrorOut, "description": "No such payment for this user"},
    422: {"model": ErrorOut, "description": "Validation failed; `errors` names the fields"},
}
UPDATE_ERRORS: dict[int | str, dict[str, Any]] = {
    **COMMON,
    409: {"model": ErrorOut, "description": "Someone else is changing the payment"},
    503: {"model": ErrorOut, "description": "YooKassa did not answer; nothing was changed"},
    400: {"model": ErrorOut, "description": "The payment cannot be changed in its status"},
    403: {"model": ErrorOut, "description": "Only an admin may change the amount"},
}

router = APIRouter(prefix="/v1", tags=["ZooTicket /v1"])


def _amount(value: Decimal) -> Amount:
    return Amount(value=wire(value), currency="RUB")


def _out(view: PaymentView) -> PaymentOut:
    confirmation = None
    if view.return_url:
        confirmation = {"type": "redirect", "return_url": view.return_url}
        if view.cancel_url:
            confirmation["cancel_url"] = view.cancel_url
    return PaymentOut(
        payment_id=view.payment_id,
        order_id=view.order_id,
        status=view.status,
        amount=_amount(view.amount),
        refunded_amount=_amount(view.refunded_amount),
        payment_method=view.payment_method,
        created_at=iso(view.created_at) or "",
        updated_at=iso(view.updated_at) or "",
        captured_at=iso(view.captured_at),
        expires_at=iso(view.expires_at) or "",
        confirmation=confirmation,
        confirmation_url=view.confirmation_url,
        customer={
            "email": view.customer_email,
            "phone": view.customer_phone,
            "user_id": view.user_id,
        },
        metadata=view.metadata,
        description=view.description,
    )


def _quantities(body: SessionIn, api: ApiContext) -> dict[str, int]:
    """Check the items against each other and the catalog's prices; return quantities."""
    first = body.items[0]
    quantities: dict[str, int] = {}
    for index, item in enumerate(body.items):
        where = f"items.{index}"
        if (item.visit_date, item.visit_time) != (first.visit_date, first.visit_time):
            raise invalid(f"{where}.visit_date", "all items must be for the same visit")
        ticket_type = api.catalog.tickets.type(item.ticket_type)
        if ticket_type is None:
            known = ", ".join(t.code for t in api.catalog.tickets.types)
            raise invalid(f"{where}.ticket_type", f"unknown ticket type; use one of {known}")
        if item.ticket_type in quantities:
            raise invalid(f"{where}.ticket_type", "each ticket type may appear once")
        if parse_money(item.unit_price.value) != ticket_type.price:
            raise invalid(
                f"{where}.unit_price",
                f"the price of {item.ticket_type} is {wire(ticket_type.price)}",
            )
        quantities[item.ticket_type] = item.quantity
    return quantities


@router.post(
    "/payments/sessions",
    status_code=201,
    response_model=SessionEnvelope,
    responses={
        **COMMON,
        400: {"model": ErrorOut, "description": "The body cannot be read (not UTF-8)"},
        409: {
            "model": ErrorOut,
            "description": "Not enough free seats in that slot, or the caller's unpaid orders "
            "already hold as many seats as one order may have",
        },
        429: {"model": ErrorOut, "description": "Too many unfinished payments; see Retry-After"},
        503: {"model": ErrorOut, "description": "YooKassa did not answer; nothing was charged"},
    },
    summary="Create a payment session: hold the seats and start a two-stage payment",
    description=(
        "Prices come from the catalog: a `unit_price` or `order.total_amount` that disagrees "
        "is a 422 naming the field. All items are for one visit (date and time slot). The "
        "client's `order.order_id` is ignored: orders are numbered ZT-YYYYMMDD-NNN by the shop."
    ),
)
async def create_session(body: SessionIn, principal: CurrentPrincipal, api: Ctx) -> JSONResponse:
    """Validate the order, hold the seats, create the YooKassa payment, return its link."""
    quantities = _quantities(body, api)
    first = body.items[0]
    now = api.clock.now()
    try:
        order = api.rules.validate(first.visit_date, first.visit_time, quantities, now)
    except InvalidOrder as exc:
        field = {
            "visit_date": "items.0.visit_date",
            "visit_time": "items.0.visit_time",
            "ticket_type": "items.0.ticket_type",
            "quantity": "items",
            "items": "items",
        }.get(exc.field, exc.field)
        raise invalid(field, exc.message) from None
    if parse_money(body.order.total_amount.value) != order.total:
        raise invalid("order.total_amount", f"the total of these items is {wire(order.total)}")
    customer = body.customer
    try:
        started = await api.checkout.start_tickets(
            principal.user_id,
            order,
            return_url=body.confirmation.return_url,
            cancel_url=body.confirmation.cancel_url,
            source="api",
            email=customer.email if customer else None,
            phone=customer.phone if customer else None,
            session_id=body.session_id,
            description=body.description,
        )
    except CheckoutError as exc:
        raise checkout_failure(exc) from None
    result = started.result
    envelope = SessionEnvelope(
        message="Payment session created successfully",
        data=SessionOut(
            payment_id=result.payment_id,
            session_id=body.session_id,
            status="pending",
            confirmation_url=result.confirmation_url,
            expires_at=iso(result.expires_at) or "",
        ),
    )
    return JSONResponse(envelope.model_dump(mode="json"), status_code=201)


@router.get(
    "/payments/{payment_id}",
    response_model=PaymentEnvelope,
    responses=COMMON,
    summary="Get a payment",
)
async def get_payment(
    payment_id: PaymentId, principal: CurrentPrincipal, api: Ctx
) -> PaymentEnvelope:
    """Return one of the caller's payments (admins: any)."""
    try:
        view = await api.sessions.get(
            payment_id, user_id=principal.user_id, is_admin=principal.is_admin
        )
    except NotFound:
        raise ApiError(404, "Payment not found") from None
    return PaymentEnvelope(message="Payment retrieved successfully", data=_out(view))


async def _update(
    payment_id: str,
    principal: CurrentPrincipal,
    api: ApiContext,
    body: PaymentPut | PaymentPatch,
    *,
    replace: bool,
) -> PaymentEnvelope:
    amount = parse_money(body.amount.value) if body.amount else None
    if amount is not None and amount <= 0:
        raise invalid("amount.value", "must be greater than 0.00")
    customer = body.customer
    try:
        view, changed = await api.sessions.update(
            payment_id,
            user_id=principal.user_id,
            is_admin=principal.is_admin,
            amount=amount,
            description=body.description,
            metadata=body.metadata if body.metadata is not None or replace else None,
            replace_metadata=replace,
            email=customer.email if customer else None,
            phone=customer.phone if customer else None,
        )
    except NotFound:
        raise ApiError(404, "Payment not found") from None
    except NotAllowed as exc:
        raise ApiError(403, str(exc).capitalize()) from None
    except NotUpdatable as exc:
        raise ApiError(400, f"Cannot update the payment: {exc}") from None
    except BadMetadata as exc:
        raise invalid(
            f"metadata.{exc.key}" if exc.key != "metadata" else "metadata", str(exc)
        ) from None
    except Conflict as exc:
        raise ApiError(409, f"Cannot update the payment: {exc}") from None
    except ProviderFailed:
        raise ApiError(503, "The payment service is not answering; nothing was changed") from None
    out = _out(view)
    out.metadata = {**out.metadata, "updated_fields": changed}
    return PaymentEnvelope(message="Payment updated successfully", data=out)


@router.put(
    "/payments/{payment_id}",
    response_model=PaymentEnvelope,
    responses=UPDATE_ERRORS,
    summary="Replace a pending payment's description and metadata (amount: admins)",
)
async def put_payment(
    payment_id: PaymentId, body: PaymentPut, principal: CurrentPrincipal, api: Ctx
) -> PaymentEnvelope:
    """Replace the changeable fields of a pending payment."""
    return await _update(payment_id, principal, api, body, replace=True)


@router.patch(
    "/payments/{payment_id}",
    response_model=PaymentEnvelope,
    responses=UPDATE_ERRORS,
    summary="Change some fields of a pending payment (amount: admins)",
)
async def patch_payment(
    payment_id: PaymentId, body: PaymentPatch, principal: CurrentPrincipal, api: Ctx
) -> PaymentEnvelope:
    """Change the given fields of a pending payment."""
    return await _update(payment_id, principal, api, body, replace=False)


@router.delete(
    "/payments/{payment_id}",
    response_model=DeletedEnvelope,
    responses={
        **COMMON,
        400: {"model": ErrorOut, "description": "Only canceled payments can be deleted"},
        403: {"model": ErrorOut, "description": "Admins only"},
    },
    summary="Delete a canceled payment (admins)",
)
async def delete_payment(
    payment_id: PaymentId, principal: CurrentPrincipal, api: Ctx
) -> DeletedEnvelope:
    """Delete a canceled payment's record."""
    try:
        deleted = await api.sessions.delete(
            payment_id, user_id=principal.user_id, is_admin=principal.is_admin
        )
    except NotFound:
        raise ApiError(404, "Payment not found") from None
    except NotAllowed as exc:
        raise ApiError(403, str(exc).capitalize()) from None
    except NotUpdatable as exc:
        raise ApiError(400, f"Cannot delete the payment: {exc}") from None
    return DeletedEnvelope(
        message="Payment deleted successfully",
        data=DeletedOut(payment_id=deleted, deleted_at=iso(api.clock.now()) or ""),
    )


def setup(app: FastAPI) -> None:
    """Add the /v1 routes."""
    app.include_router(router)
