"""Telegram Stars on the local Telegram server: invoice links, pre-checkout, charges, refunds.

Usage::

    stars = FakeStars.attach(fake)          # learns the Stars methods
    result = await stars.pay(user, link)    # pre_checkout_query, then successful_payment
    renewal = await stars.renew(result.charge_id)   # the next 30-day charge
    stars.replay(renewal)                   # the same update once more

Validated as Telegram does (notes/telegram.md §6.1): XTR needs no provider token and exactly
one price item; `subscription_period` only with XTR and only 2592000; refunds and
subscription edits only for known charge ids of that user.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.telegram_api import (
    FakeApiError,
    FakeTelegramAPI,
    FakeUser,
    JSONDict,
    Params,
    bad_request,
)

STARS_PERIOD = 2_592_000
CHARGE_ID_INVALID = "CHARGE_ID_INVALID"
CHARGE_ALREADY_REFUNDED = "CHARGE_ALREADY_REFUNDED"
PRE_CHECKOUT_WAIT = 10.0  # Telegram waits 10 s for answerPreCheckoutQuery


@dataclass
class Invoice:
    """An invoice link the bot created."""

    link: str
    title: str
    payload: str
    currency: str
    amount: int
    subscription_period: int | None


@dataclass
class Charge:
    """One successful payment Telegram made (the first, or a renewal)."""

    charge_id: str
    user_id: int
    invoice: Invoice
    update: JSONDict
    refunded: bool = False
    canceled: bool = False


@dataclass
class PayResult:
    """What a customer saw: paid (the charge) or refused at pre-checkout (the bot's reason)."""

    ok: bool
    charge: Charge | None = None
    error_message: str | None = None


@dataclass
class FakeStars:
    """The Stars part of the fake: state plus the driver that pays like a customer."""

    fake: FakeTelegramAPI
    invoices: dict[str, Invoice] = field(default_factory=dict)
    charges: dict[str, Charge] = field(default_factory=dict)
    refunds: list[tuple[int, str]] = field(default_factory=list)
    subscription_edits: list[tuple[int, str, bool]] = field(default_factory=list)
    _answers: dict[str, asyncio.Future[tuple[bool, str | None]]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def attach(cls, fake: FakeTelegramAPI) -> FakeStars:
        """Teach the fake server the Stars methods; return the driver."""
        stars = cls(fake)
        fake.register_method("createInvoiceLink", stars._create_link)
        fake.register_method("answerPreCheckoutQuery", stars._answer)
        fake.register_method("refundStarPayment", stars._refund)
        fake.register_method("editUserStarSubscription", stars._edit_subscription)
        return stars

    # ---- Bot API methods ----------------------------------------------------------------

    async def _create_link(self, params: Params) -> str:
        title = str(params.get("title") or "")
        description = str(params.get("description") or "")
        payload = str(params.get("payload") or "")
        currency = str(params.get("currency") or "")
        prices = params.get("prices")
        period = params.get("subscription_period")
        if not 1 <= len(title) <= 32:  # noqa: PLR2004 - Telegram's limits
            raise bad_request("INVOICE_TITLE_EMPTY" if not title else "title is too long")
        if not 1 <= len(description) <= 255:  # noqa: PLR2004
            raise bad_request("INVOICE_DESCRIPTION_EMPTY")
        if not 1 <= len(payload.encode()) <= 128:  # noqa: PLR2004
            raise bad_request("INVOICE_PAYLOAD_INVALID")
        if not isinstance(prices, list) or not prices:
            raise bad_request("can't parse prices JSON object")
        if currency == "XTR":
            if params.get("provider_token"):
                raise bad_request("PROVIDER_TOKEN_INVALID")
            if len(prices) != 1:
                raise bad_request("STARS_INVOICE_INVALID")
        elif not params.get("provider_token"):
            raise bad_request("PAYMENT_PROVIDER_INVALID")
        if period is not None and (currency != "XTR" or int(period) != STARS_PERIOD):
            raise bad_request("SUBSCRIPTION_PERIOD_INVALID")
        amount = sum(int(price["amount"]) for price in prices)
        link = f"https://t.me/$fakeInvoice{next(self._ids)}"
        self.invoices[link] = Invoice(
            link, title, payload, currency, amount, int(period) if period is not None else None
        )
        return link

    async def _answer(self, params: Params) -> bool:
        query_id = str(params.get("pre_checkout_query_id") or "")
        waiting = self._answers.pop(query_id, None)
        if waiting is None or waiting.done():
            raise bad_request("QUERY_ID_INVALID")
        ok = str(params.get("ok")).lower() == "true"
        message = params.get("error_message")
        if not ok and not message:
            raise bad_request("error_message is required when ok is false")
        waiting.set_result((ok, str(message) if message else None))
        return True

    def _charge_of(self, params: Params) -> Charge:
        charge = self.charges.get(str(params.get("telegram_payment_charge_id") or ""))
        user_id = params.get("user_id")
        if charge is None or str(charge.user_id) != str(user_id):
            raise bad_request(CHARGE_ID_INVALID)
        return charge

    async def _refund(self, params: Params) -> bool:
        charge = self._charge_of(params)
        if charge.refunded:
            raise bad_request(CHARGE_ALREADY_REFUNDED)
        charge.refunded = True
        self.refunds.append((charge.user_id, charge.charge_id))
        return True

    async def _edit_subscription(self, params: Params) -> bool:
        charge = self._charge_of(params)
        if charge.invoice.subscription_period is None:
            raise bad_request("SUBSCRIPTION_ID_INVALID")
        canceled = str(params.get("is_canceled")).lower() == "true"
        for other in self.charges.values():
            if other.invoice.link == charge.invoice.link and other.user_id == charge.user_id:
                other.canceled = canceled
        self.subscription_edits.append((charge.user_id, charge.charge_id, canceled))
        return True

    # ---- the customer -------------------------------------------------------------------

    async def pay(self, user: FakeUser, link: str) -> PayResult:
        """Pay an invoice link: pre_checkout_query, and on ok a successful_payment message."""
        invoice = self.invoices.get(link)
        if invoice is None:
            raise FakeApiError(400, "Bad Request: invoice link not found")
        query_id = f"pcq{next(self._ids)}"
        answer: asyncio.Future[tuple[bool, str | None]] = asyncio.get_running_loop().create_future()
        self._answers[query_id] = answer
        query: JSONDict = {
            "id": query_id,
            "from": dict(user.info),
            "currency": invoice.currency,
            "total_amount": invoice.amount,
            "invoice_payload": invoice.payload,
        }
        self.fake.enqueue_update({"pre_checkout_query": query})
        async with asyncio.timeout(PRE_CHECKOUT_WAIT):
            ok, message = await answer
        if not ok:
            return PayResult(ok=False, error_message=message)
        return PayResult(ok=True, charge=self._charge(user, invoice, first=True))

    async def renew(self, charge_id: str) -> Charge:
        """Charge the next period of a Stars subscription, as Telegram does every 30 days."""
        first = self.charges[charge_id]
        if first.invoice.subscription_period is None:
            raise FakeApiError(400, "Bad Request: not a subscription")
        if first.canceled:
            raise FakeApiError(400, "Bad Request: the subscription is canceled")
        return self._charge(self.fake.user(first.user_id), first.invoice, first=False)

    def replay(self, charge: Charge) -> int:
        """Deliver the same successful_payment update again (a redelivery)."""
        return self.fake.enqueue_update({"message": dict(charge.update)})

    def _charge(self, user: FakeUser, invoice: Invoice, *, first: bool) -> Charge:
        charge_id = f"stxFakeCharge{next(self._ids):06d}"
        paid: dict[str, Any] = {
            "currency": invoice.currency,
            "total_amount": invoice.amount,
            "invoice_payload": invoice.payload,
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": "",
        }
        if invoice.subscription_period is not None:
            paid.update(
                subscription_expiration_date=int(time.time()) + invoice.subscription_period,
                is_recurring=True,
                is_first_recurring=first,
            )
        message = user.chat.add(user.info, from_bot=False, extra={"successful_payment": paid})
        update = message.to_dict()
        charge = Charge(charge_id, user.user_id, invoice, update)
        self.charges[charge_id] = charge
        self.fake.enqueue_update({"message": update})
        return charge
