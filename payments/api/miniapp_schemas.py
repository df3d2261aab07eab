"""Answers of the Mini App's storefront API (`/api/v2/app/...`): camelCase on the wire."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from payments.api.miniapp_renewal_schemas import AutoRenewOut

Language = Literal["ru", "en"]
DayReason = Literal["past", "closed_weekday", "beyond_window", "sold_out", "closed"]
SlotReason = Literal["started", "sold_out", "closed"]
OrderState = Literal["pending", "paid", "canceled", "refunded"]
TicketState = Literal["valid", "used", "refunded"]
TicketWhen = Literal["upcoming", "used", "past", "refunded"]


class _Out(BaseModel):
    """Snake-case attributes, camelCase JSON (FastAPI writes answers by alias)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class RolesOut(_Out):
    """What the caller may do besides buying."""

    admin: bool
    staff: bool = Field(description="May check tickets in at the gate (admins too)")


class ShopOut(_Out):
    """The shop, in the caller's language."""

    name: str = Field(examples=["ZooTicket"])
    currency: Literal["RUB"] = "RUB"
    address: str | None = Field(examples=["Москва, ул. Большая Грузинская, 1"])
    hours: str | None = Field(examples=["ежедневно с 9:00 до 20:00"])


class MeOut(_Out):
    """The caller: who they are, their language and roles, and the shop."""

    user_id: str = Field(examples=["12345"])
    first_name: str | None = Field(examples=["Анна"])
    language: Language
    email: str | None = Field(examples=["visitor@example.com"])
    roles: RolesOut
    sandbox: bool = Field(description="Payments go to the embedded sandbox; no money moves")
    shop: ShopOut


class TicketTypeOut(_Out):
    """A kind of ticket and its catalog price (the `unit_price` /v1/payments/sessions wants)."""

    code: str = Field(examples=["adult"])
    title: str = Field(examples=["Взрослый"])
    price: str = Field(examples=["1000.00"])


class PlanOut(_Out):
    """A plan with what this customer pays for it now, and why."""

    code: str = Field(examples=["monthly"])
    title: str = Field(examples=["месячная подписка"])
    days: int = Field(examples=[30])
    price: str = Field(
        examples=["249.00"],
        description="What /api/v2/payments/create charges this customer now",
    )
    base_price: str = Field(examples=["299.00"], description="The catalog's price of the plan")
    cohort: Literal["test", "new", "returning", "active", "regular"]
    price_label: str = Field(examples=["Цена для вернувшихся клиентов"])


class CatalogOut(_Out):
    """What the shop sells, as this customer sees it."""

    currency: Literal["RUB"] = "RUB"
    slots: list[str] = Field(examples=[["10:00", "12:00", "14:00", "16:00"]])
    max_tickets_per_order: int = Field(examples=[20])
    ticket_types: list[TicketTypeOut]
    test_order_total: str | None = Field(
        examples=[None],
        description="For a test user, what every ticket order costs whatever its lines; "
        "null for everyone else",
    )
    plans: list[PlanOut]


class SlotOut(_Out):
    """One slot of a date."""

    time: str = Field(examples=["10:00"])
    capacity: int = Field(examples=[100])
    free: int = Field(examples=[37])
    open: bool
    reason: SlotReason | None = Field(
        description="Why it cannot be booked: started, sold_out, or closed (capacity 0)"
    )


class DayOut(_Out):
    """One date: open or closed and why, free seats of its open slots, its slots."""

    date: str = Field(examples=["2026-12-02"])
    open: bool
    reason: DayReason | None = Field(
        description="Why it cannot be booked; `closed`: every slot ahead closed by an admin"
    )
    free: int = Field(examples=[137])
    slots: list[SlotOut] = Field(
        description="Empty on a date closed as a whole (past, closed weekday, beyond the window)"
    )


class AvailabilityOut(_Out):
    """Dates of a range with their slots, and the bookable window."""

    today: str = Field(examples=["2026-12-01"])
    first_date: str = Field(examples=["2026-12-01"], description="First bookable date")
    last_date: str = Field(examples=["2026-12-31"], description="Last bookable date")
    days: list[DayOut]


class OrderItemOut(_Out):
    """A line of an order."""

    ticket_type: str = Field(examples=["adult"])
    title: str = Field(examples=["Взрослый"])
    quantity: int = Field(examples=[2])
    unit_price: str = Field(examples=["1000.00"])


class OrderOut(_Out):
    """A ticket order and its latest payment."""

    order_id: str = Field(examples=["ZT-20261201-001"])
    payment_id: str | None = Field(examples=["ZT_1111111111"])
    status: OrderState
    visit_date: str = Field(examples=["2026-12-02"])
    visit_time: str = Field(examples=["10:00"])
    items: list[OrderItemOut]
    total: str = Field(examples=["2500.00"], description="What the order is charged")
    created_at: str = Field(examples=["2026-12-01T10:15:00Z"])
    expires_at: str | None = Field(
        examples=["2026-12-01T10:30:00Z"], description="When its latest payment expires"
    )
    payment_url: str | None = Field(description="The payment page, only while it can be paid")
    can_cancel: bool


class OrdersOut(_Out):
    """The customer's ticket orders, newest first."""

    orders: list[OrderOut]


class CanceledOut(_Out):
    """An order canceled; its seats are free again."""

    order_id: str = Field(examples=["ZT-20261201-001"])
    status: Literal["canceled"] = "canceled"


class TicketOut(_Out):
    """A ticket and where its QR image is."""

    code: str = Field(examples=["ZT-7K3M-9QXD-2FAB"])
    ticket_type: str = Field(examples=["adult"])
    title: str = Field(examples=["Взрослый"])
    visit_date: str = Field(examples=["2026-12-02"])
    visit_time: str = Field(examples=["10:00"])
    status: TicketState
    checked_in_at: str | None = Field(examples=[None])
    state: TicketWhen = Field(description="upcoming: valid and for today or later")
    qr_url: str = Field(examples=["/api/v2/app/tickets/ZT-7K3M-9QXD-2FAB/qr.png"])


class TicketsOut(_Out):
    """The customer's tickets, by visit."""

    tickets: list[TicketOut]


class SubscriptionOut(_Out):
    """The customer's subscription (a lapsed one shows as expired)."""

    plan_code: str = Field(examples=["monthly"])
    title: str = Field(examples=["месячная подписка"])
    status: Literal["active", "expired"]
    starts_at: str = Field(examples=["2026-11-01T10:15:00Z"])
    expires_at: str = Field(examples=["2026-12-01T10:15:00Z"])
    days_left: int = Field(examples=[12], description="Whole days until it ends; 0 once ended")
    auto_renew: AutoRenewOut


class SubscriptionEnvelope(_Out):
    """The customer's subscription, or null if they never had one."""

    subscription: SubscriptionOut | None
