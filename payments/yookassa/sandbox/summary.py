"""The shop's side of the sandbox checkout page: what a payment buys, in its customer's language.

The sandbox itself knows only what YooKassa would (amount, a fiscal description in Russian);
the page asks this for the order's lines, read from our database and the catalog.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from db.models import Order, Payment, User
from db.reader import Reader
from payments.catalog import Catalog
from payments.receipts import ticket_title
from payments.types import PaymentKind
from payments.yookassa.sandbox import texts
from payments.yookassa.sandbox.page import JSON, Line, OrderView
from payments.yookassa.sandbox.texts import text


class OrderSummaries:
    """Describe a sandbox payment by our payment row, its order or plan, and its customer."""

    def __init__(self, *, reader: Reader, catalog: Catalog) -> None:
        """Read through `reader`; name tickets and plans as `catalog` does."""
        self._reader = reader
        self._catalog = catalog

    async def __call__(self, remote: JSON, asked: str | None) -> OrderView | None:
        """Return the order's view in `asked` or the customer's language (None: not ours)."""
        payment_id = (remote.get("metadata") or {}).get("payment_id")
        clause = Payment.id == payment_id if payment_id else Payment.provider_id == remote["id"]
        rows = await self._reader.all(
            select(Payment, User.language).join(User, User.id == Payment.user_id).where(clause)
        )
        if not rows:
            return None
        payment, customer_language = rows[0]
        lang = texts.language(asked, customer_language)
        shop = self._catalog.shop.name
        if payment.kind == PaymentKind.SUBSCRIPTION:
            plan = next((p for p in self._catalog.plans if p.code == payment.plan_code), None)
            if plan is None:
                return OrderView(shop, lang, [Line(payment.plan_code or "")])
            title = plan.title(lang)
            days = texts.days(plan.days, lang)
            line = text(lang, "plan_days", title=title[:1].upper() + title[1:], days=days)
            return OrderView(shop, lang, [Line(line, None, payment.amount)])
        orders = await self._reader.all(select(Order).where(Order.id == payment.order_id))
        if not orders:
            return OrderView(shop, lang, [], payment.order_id)
        order: Order = orders[0][0]
        lines = [
            Line(
                ticket_title(self._catalog, item.ticket_type, lang),
                item.quantity,
                item.unit_price * item.quantity,
            )
            for item in order.items
        ]
        # A test user pays the shop's test price: line prices would not add up to the total.
        if sum((line.amount or Decimal(0) for line in lines), Decimal(0)) != payment.amount:
            lines = [Line(line.title, line.quantity) for line in lines]
        visit = text(lang, "visit", day=texts.day(order.visit_date, lang), time=order.slot_time)
        return OrderView(shop, lang, lines, order.id, [visit])
