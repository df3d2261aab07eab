"""What we send to YooKassa and what we keep of its answers (the SDK's objects, read by name).

Only `gateway.py` imports the SDK; this module reads the SDK's response objects through
attributes and builds request dicts, so it stays free of the `yookassa` import.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from payments.money import wire
from payments.types import (
    PaymentRequest,
    PaymentStatus,
    ProviderMethod,
    ProviderPayment,
    ProviderRefund,
    Receipt,
)

_CENT = Decimal("0.01")


def payment_params(request: PaymentRequest) -> dict[str, Any]:
    """Return the body of `POST /payments` for `request`.

    A charge of a saved method carries `payment_method_id` and no confirmation (YooKassa
    refuses one: nobody is at a checkout page); a first payment may ask to save its method.
    """
    params: dict[str, Any] = {
        "amount": {"value": wire(request.amount), "currency": request.currency},
        "capture": request.capture,
        "description": request.description[:128],
        "metadata": dict(request.metadata),
    }
    if request.payment_method_id is not None:
        params["payment_method_id"] = request.payment_method_id
    else:
        params["confirmation"] = {"type": "redirect", "return_url": request.return_url}
    if request.save_payment_method:
        params["save_payment_method"] = True
    if request.receipt_lines:
        receipt = Receipt(request.receipt_lines, request.receipt_email, request.receipt_phone)
        params["receipt"] = receipt_json(receipt, request.currency)
    return params


def receipt_json(receipt: Receipt, currency: str = "RUB") -> dict[str, Any]:
    """Return a 54-FZ receipt as YooKassa takes it: the customer's contact and the lines."""
    customer = {"email": receipt.email} if receipt.email else {}
    if not customer and receipt.phone:
        customer = {"phone": receipt.phone.lstrip("+")}
    return {
        "customer": customer,
        "items": [
            {
                "description": line.description[:128],
                "quantity": str(line.quantity),
                "amount": {"value": wire(line.unit_price), "currency": currency},
                "vat_code": line.vat_code,
                "payment_subject": line.payment_subject,
                "payment_mode": line.payment_mode,
            }
            for line in receipt.lines
        ],
    }


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def to_method(method: Any) -> ProviderMethod | None:
    """Keep of a payment method its id, type, `saved`, display title and card's last 4 digits."""
    if method is None or not getattr(method, "id", None):
        return None
    card = getattr(method, "card", None)
    last4 = getattr(card, "last4", None) if card is not None else None
    title = getattr(method, "title", None)
    return ProviderMethod(
        id=str(method.id),
        type=str(getattr(method, "type", None) or "unknown"),
        saved=getattr(method, "saved", False) is True,
        title=str(title) if title else None,
        card_last4=str(last4) if last4 else None,
    )


def to_payment(response: Any) -> ProviderPayment:
    """Return our view of an SDK payment response."""
    amount = response.amount
    confirmation = getattr(response, "confirmation", None)
    method = getattr(response, "payment_method", None)
    details = getattr(response, "cancellation_details", None)
    refunded = getattr(response, "refunded_amount", None)
    metadata = getattr(response, "metadata", None) or {}
    return ProviderPayment(
        id=str(response.id),
        status=PaymentStatus(str(response.status)),
        paid=bool(response.paid),
        amount=Decimal(str(amount.value)).quantize(_CENT),
        currency=str(amount.currency),
        metadata={str(k): str(v) for k, v in metadata.items()},
        confirmation_url=getattr(confirmation, "confirmation_url", None) if confirmation else None,
        payment_method=getattr(method, "type", None) if method else None,
        captured_at=_parse_time(getattr(response, "captured_at", None)),
        cancellation_party=getattr(details, "party", None) if details else None,
        cancellation_reason=getattr(details, "reason", None) if details else None,
        refunded_amount=Decimal(str(refunded.value)).quantize(_CENT) if refunded else Decimal(0),
        test=bool(getattr(response, "test", False)),
        method=to_method(method),
    )


def to_refund(response: Any) -> ProviderRefund:
    """Return our view of an SDK refund response."""
    return ProviderRefund(
        id=str(response.id),
        payment_id=str(response.payment_id),
        status=str(response.status),
        amount=Decimal(str(response.amount.value)).quantize(_CENT),
    )
