"""Callback data factories with short prefixes (Telegram allows 64 bytes)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class MenuCb(CallbackData, prefix="m"):
    """Main menu buttons: tickets, subscribe, my, help, menu."""

    action: str


class PlanCb(CallbackData, prefix="pl"):
    """Choose a subscription plan; `ar` 1: with the auto-renewal toggle on (terms first)."""

    code: str
    ar: int = 0


class ArToggleCb(CallbackData, prefix="at"):
    """The plan screen's auto-renewal toggle: `on` is the state to show."""

    on: int


class ArAgreeCb(CallbackData, prefix="aa"):
    """Agree to the auto-renewal terms shown for a plan and pay for it with consent."""

    code: str


class ArCb(CallbackData, prefix="ar"):
    """Auto-renewal switches: off, on (terms), on_ok (agreed), forget, card (change card)."""

    action: str


class RenewPayCb(CallbackData, prefix="rp"):
    """Pay a declined renewal by hand: a new payment at the renewal's stated price."""

    renewal_id: int


class PayCancelCb(CallbackData, prefix="pc"):
    """Cancel a pending payment from its pay message."""

    payment_id: str


class AgainCb(CallbackData, prefix="ag"):
    """Repeat an ended payment's choices: "b" book again (show the summary), "r" retry (pay)."""

    payment_id: str
    mode: str


class TDateCb(CallbackData, prefix="td"):
    """Pick a visit date (YYYYMMDD)."""

    d: str


class TCalCb(CallbackData, prefix="tc"):
    """The date calendar: `m` is a month to show (YYYYMM), or a cell that picks nothing.

    Cells: "closed" (a closed weekday), "-" (past, beyond the window or another month),
    "=" (a heading).
    """

    m: str


class TSlotCb(CallbackData, prefix="ts"):
    """Pick a time slot (HHMM: the separator ':' cannot appear in callback data)."""

    slot: str


class TQtyCb(CallbackData, prefix="tq"):
    """Change a ticket type's quantity by delta."""

    code: str
    delta: int


class TNavCb(CallbackData, prefix="tn"):
    """Move through the ticket journey: back, next, skip_email, pay, cancel."""

    action: str


class NextCb(CallbackData, prefix="nx"):
    """A next step under a final message: my (tickets), tickets (buy more), menu."""

    action: str


class RetryCb(CallbackData, prefix="rt"):
    """Pay again for the order (or plan) of a declined payment: a new payment, same order."""

    payment_id: str


class MyCancelCb(CallbackData, prefix="mc"):
    """Cancel an unpaid order from /my."""

    payment_id: str


class TicketQrCb(CallbackData, prefix="qr"):
    """Show a ticket's QR again."""

    ticket_id: int


class AdminCb(CallbackData, prefix="adm"):
    """Admin menu buttons: stats, prices, export, help."""

    action: str


class BroadcastCb(CallbackData, prefix="bc"):
    """Broadcast buttons (send, cancel, stop) of a draft, named by its audit row id."""

    action: str
    id: int


class SubscriptionCb(CallbackData, prefix="asb"):
    """/subscription's button: stop a customer's auto-renewal (by their user id)."""

    action: str
    user_id: str


class RefundCb(CallbackData, prefix="arf"):
    """/refund's confirmation buttons (confirm, cancel) of a draft, named by its audit row id."""

    action: str
    id: int


class LangCb(CallbackData, prefix="lg"):
    """Pick the bot's language (a locale folder name such as `en`)."""

    code: str


class StarsPlanCb(CallbackData, prefix="sp"):
    """Choose a digital plan, paid in Telegram Stars."""

    code: str


class StarsCancelCb(CallbackData, prefix="sx"):
    """Turn off the auto-renewal of the customer's Stars subscription."""
