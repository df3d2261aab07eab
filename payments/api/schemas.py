"""Request and response bodies of both seed documents, with their examples."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from payments.emails import BadEmail, normalise_email

MONEY_PATTERN = r"^[0-9]{1,9}\.[0-9]{2}$"
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_PHONE = re.compile(r"^\+?[0-9]{10,15}$")
# YooKassa's own metadata limits (yookassa.md §1).
METADATA_KEYS = 16
METADATA_KEY_LENGTH = 32
METADATA_VALUE_LENGTH = 512
# The zero-width joiner (Cf) holds emoji sequences together; every other format character is
# invisible or reorders text (the bidi controls U+202A-U+202E, U+2066-U+2069, U+200E/F).
_ALLOWED_FORMAT = frozenset({"\u200d"})
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _visible(value: str) -> str:
    """Refuse control and bidirectional characters: they hide or reorder what people read."""
    for char in value:
        if unicodedata.category(char) in _HIDDEN and char not in _ALLOWED_FORMAT:
            raise ValueError(
                f"control and bidirectional characters are not allowed (found U+{ord(char):04X})"
            )
    return value


# Free text we store, show or pass to YooKassa.
PlainText = Annotated[str, AfterValidator(_visible)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class Amount(_Body):
    """Money on the wire: a string with exactly two decimals and the currency."""

    value: str = Field(pattern=MONEY_PATTERN, examples=["2500.00"])
    currency: Literal["RUB"] = "RUB"


class Customer(_Body):
    """Who pays: e-mail and/or phone for the receipt."""

    email: str | None = Field(default=None, max_length=254, examples=["visitor@example.com"])
    phone: str | None = Field(default=None, max_length=16, examples=["+79991111111"])

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return normalise_email(value)
        except BadEmail as exc:
            raise ValueError(f"not an e-mail address: {exc}") from exc

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and not _PHONE.match(value):
            raise ValueError("a phone number in international format, like +79991111111")
        return value


class OrderIn(_Body):
    """The order block of a payment session."""

    order_id: str | None = Field(
        default=None, max_length=64, description="Ignored: the shop numbers orders itself."
    )
    total_amount: Amount


class Item(_Body):
    """A line of tickets: type, quantity, the catalog's unit price, the visit."""

    ticket_type: str = Field(min_length=1, max_length=32, examples=["adult"])
    quantity: int = Field(strict=True, gt=0, le=100, examples=[2])  # `true` is not 1
    unit_price: Amount
    visit_date: date = Field(examples=["2024-10-25"])
    visit_time: str = Field(pattern=TIME_PATTERN, examples=["10:00"])


class Confirmation(_Body):
    """Where YooKassa sends the payer back."""

    type: Literal["redirect"] = "redirect"
    return_url: PlainText = Field(min_length=1, max_length=2048, pattern=r"^https?://\S+$")
    cancel_url: PlainText | None = Field(default=None, max_length=2048, pattern=r"^https?://\S+$")


SESSION_EXAMPLE: dict[str, Any] = {
    "session_id": "session_abc123",
    "order": {
        "order_id": "ZT-20241025-001",
        "total_amount": {"value": "2500.00", "currency": "RUB"},
    },
    "description": "Билеты в зоопарк на 25.10.2024",
    "items": [
        {
            "ticket_type": "adult",
            "quantity": 2,
            "unit_price": {"value": "1000.00", "currency": "RUB"},
            "visit_date": "2024-10-25",
            "visit_time": "10:00",
        },
        {
            "ticket_type": "child",
            "quantity": 1,
            "unit_price": {"value": "500.00", "currency": "RUB"},
            "visit_date": "2024-10-25",
            "visit_time": "10:00",
        },
    ],
    "customer": {"email": "visitor@example.com", "phone": "+79991111111"},
    "payment_methods": ["bank_card", "apple_pay"],
    "confirmation": {
        "type": "redirect",
        "return_url": "https://zooticket.ru/payment/success",
        "cancel_url": "https://zooticket.ru/payment/cancel",
    },
}


class SessionIn(_Body):
    """POST /v1/payments/sessions: a ticket order to pay."""

    model_config = ConfigDict(json_schema_extra={"examples": [SESSION_EXAMPLE]})

    session_id: PlainText | None = Field(default=None, max_length=128)
    order: OrderIn
    description: PlainText | None = Field(default=None, max_length=100)
    items: list[Item] = Field(min_length=1, max_length=20)
    customer: Customer | None = None
    payment_methods: list[str] = Field(default_factory=list, max_length=10)
    confirmation: Confirmation


class Envelope(BaseModel):
    """The ZooTicket envelope."""

    success: bool = True
    message: str
    data: dict[str, Any]


class SessionOut(BaseModel):
    """What a created session returns."""

    payment_id: str = Field(examples=["ZT_1111111111"])
    session_id: str | None = Field(examples=["session_abc123"])
    status: str = Field(examples=["pending"])
    confirmation_url: str
    expires_at: str = Field(examples=["2024-10-25T10:15:00Z"])


class SessionEnvelope(Envelope):
    """201 of POST /v1/payments/sessions."""

    data: SessionOut  # type: ignore[assignment]


class PaymentOut(BaseModel):
    """A payment as GET /v1/payments/{id} shows it."""

    payment_id: str
    order_id: str | None
    status: str
    amount: Amount
    refunded_amount: Amount
    payment_method: str | None
    created_at: str
    updated_at: str
    captured_at: str | None
    expires_at: str
    confirmation: dict[str, Any] | None
    confirmation_url: str | None
    customer: dict[str, Any]
    metadata: dict[str, Any]
    description: str


class PaymentEnvelope(Envelope):
    """200 of GET, PUT and PATCH /v1/payments/{id}."""

    data: PaymentOut  # type: ignore[assignment]


class DeletedOut(BaseModel):
    """What DELETE returns."""

    payment_id: str
    deleted_at: str


class DeletedEnvelope(Envelope):
    """200 of DELETE /v1/payments/{id}."""

    data: DeletedOut  # type: ignore[assignment]


def _metadata(value: dict[str, str | int | bool]) -> dict[str, str | int | bool]:
    """Hold metadata to YooKassa's limits: 16 keys, keys of 32 and values of 512 characters."""
    if len(value) > METADATA_KEYS:
        raise ValueError(f"at most {METADATA_KEYS} keys")
    for key, item in value.items():
        if not key or len(key) > METADATA_KEY_LENGTH:
            raise ValueError(f"key {key[:40]!r}: 1 to {METADATA_KEY_LENGTH} characters")
        _visible(key)
        if isinstance(item, str):
            if len(item) > METADATA_VALUE_LENGTH:
                raise ValueError(f"value of {key!r}: at most {METADATA_VALUE_LENGTH} characters")
            _visible(item)
    return value


Metadata = Annotated[dict[str, str | int | bool], AfterValidator(_metadata)]


class PaymentPut(_Body):
    """PUT /v1/payments/{id}: replace description and metadata; amount by admins only."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "amount": {"value": "3000.00", "currency": "RUB"},
                    "metadata": {"additional_info": "updated_data"},
                    "description": "Updated payment description",
                }
            ]
        }
    )

    amount: Amount | None = None
    metadata: Metadata = Field(default_factory=dict)
    description: PlainText | None = Field(default=None, max_length=100)
    customer: Customer | None = None


class PaymentPatch(_Body):
    """PATCH /v1/payments/{id}: change some fields; amount by admins only."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "amount": {"value": "2800.00", "currency": "RUB"},
                    "customer": {"email": "newemail@example.com", "phone": "+79992222222"},
                }
            ]
        }
    )

    amount: Amount | None = None
    metadata: Metadata | None = None
    description: PlainText | None = Field(default=None, max_length=100)
    customer: Customer | None = None


class CreateIn(_Body):
    """POST /api/v2/payments/create: a subscription plan for the token's user."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "product": "monthly",
                    "returnUrl": "https://zooticket.example/payment/success",
                    "description": "ZooTicket - месячная подписка (30 дней) • 299 ₽",
                }
            ]
        }
    )

    product: str = Field(min_length=1, max_length=32, examples=["monthly"])
    returnUrl: PlainText = Field(  # noqa: N815
        min_length=1, max_length=2048, pattern=r"^https?://\S+$"
    )
    description: str | None = Field(
        default=None,
        max_length=128,
        description="Ignored: the description is built from the catalog so it always "
        "matches the price.",
    )
    autoRenew: bool = Field(  # noqa: N815
        default=False,
        description="The customer turned auto-renewal on and saw the terms "
        "(`/api/v2/app/renewal-terms`): the consent is stored and YooKassa is asked to save "
        "the card. Off: a one-off purchase.",
    )
    termsVersion: str | None = Field(  # noqa: N815
        default=None,
        max_length=32,
        description="The `version` of the terms shown; required with `autoRenew`. An old "
        "version is refused (409): the terms changed, show them again.",
        examples=["renew-terms-v1"],
    )


class CreateOut(BaseModel):
    """What /api/v2/payments/create returns."""

    paymentUrl: str = Field(  # noqa: N815
        examples=[
            "https://yoomoney.ru/api-pages/v2/payment-confirm/epl?orderId=23d93cac-000f-5000-8000-126628f15141"
        ]
    )
    paymentId: str = Field(examples=["23d93cac-000f-5000-8000-126628f15141"])  # noqa: N815


class StatusOut(BaseModel):
    """What /api/v2/payments/status returns."""

    status: str = Field(examples=["succeeded"])
    paid: bool


class AuthOut(BaseModel):
    """What /api/v2/auth/verify and /auth/test-user return."""

    userId: str = Field(examples=["12345"])  # noqa: N815
    isFirstOpen: bool  # noqa: N815
    onboardingCompleted: bool  # noqa: N815
    accessToken: str  # noqa: N815


class TestUserIn(_Body):
    """POST /api/v2/auth/test-user."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "userId": "test_user_1272270574",
                    "firstName": "Test User",
                    "email": "test@example.com",
                }
            ]
        }
    )

    userId: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")  # noqa: N815
    firstName: PlainText | None = Field(default=None, max_length=128)  # noqa: N815
    email: str | None = Field(default=None, max_length=254)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return normalise_email(value)
        except BadEmail as exc:
            raise ValueError(f"not an e-mail address: {exc}") from exc


class ErrorOut(BaseModel):
    """Every error: success false, a message, and for 422 the failing fields."""

    success: Literal[False] = False
    message: str
    errors: list[dict[str, str]] | None = None
