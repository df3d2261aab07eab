"""The ticket journey's one message: each step (date, slot, quantities, e-mail, summary) drawn."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardMarkup

from bot import keyboards, keyboards_calendar
from bot.texts import day, money, t
from handlers.states import TicketFlow
from payments.catalog import Catalog
from payments.ports import Clock
from payments.receipts import ticket_title
from payments.tickets.rules import Availability, TicketRules, ValidOrder
from payments.types import UserInfo

log = logging.getLogger(__name__)


class Journey:
    """Renders each step of the journey into the one message the user sees."""

    def __init__(
        self,
        *,
        user: UserInfo,
        state: FSMContext,
        bot: Bot,
        catalog: Catalog,
        rules: TicketRules,
        availability: Availability,
        clock: Clock,
    ) -> None:
        """Keep what rendering needs."""
        self.user = user
        self.lang = user.language
        self.state = state
        self.bot = bot
        self.catalog = catalog
        self.rules = rules
        self.availability = availability
        self.clock = clock

    async def show(self, text: str, markup: InlineKeyboardMarkup | None) -> None:
        """Edit the journey message in place (or send it if it is gone)."""
        data = await self.state.get_data()
        message_id = data.get("msg_id")
        chat_id = int(self.user.id)
        if message_id is not None:
            try:
                await self.bot.edit_message_text(
                    text=text, chat_id=chat_id, message_id=message_id, reply_markup=markup
                )
            except TelegramBadRequest as exc:
                if "not modified" in str(exc):
                    return
                log.info("journey message of %s not editable (%s); sending anew", chat_id, exc)
            else:
                return
        sent = await self.bot.send_message(chat_id, text, reply_markup=markup)
        await self.state.update_data(msg_id=sent.message_id)

    async def retire(self, text: str | None = None) -> None:
        """Take the buttons off the journey message (its text becomes `text` when given), so the
        next step is sent as a new message at the bottom of the chat, where the customer looks.
        """
        data = await self.state.get_data()
        message_id = data.get("msg_id")
        await self.state.update_data(msg_id=None)
        if message_id is None:
            return
        chat_id = int(self.user.id)
        try:
            if text is None:
                await self.bot.edit_message_reply_markup(
                    chat_id=chat_id, message_id=message_id, reply_markup=None
                )
            else:
                await self.bot.edit_message_text(
                    text=text, chat_id=chat_id, message_id=message_id, reply_markup=None
                )
        except TelegramBadRequest as exc:
            log.info("journey message of %s not retired (%s)", chat_id, exc)

    async def dates(self, month: date | None = None) -> None:
        """Show the date picker: today, tomorrow and a month calendar (this month by default)."""
        await self.state.set_state(TicketFlow.date)
        now = self.clock.now()
        days = self.rules.bookable_dates(now)
        if not days:
            await self.show(t(self.lang, "tickets_no_dates"), None)
            await self.state.clear()
            return
        today = self.rules.today(now)
        last_day = self.rules.last_day(now)
        shown = min(max(month or today, today), last_day).replace(day=1)
        await self.state.update_data(month=shown.isoformat())
        text = t(self.lang, "tickets_pick_date", shop=self.catalog.shop.name)
        markup = keyboards_calendar.dates(
            self.lang,
            today=today,
            month=shown,
            bookable=set(days),
            closed_weekdays=self.catalog.tickets.closed_weekdays,
            last_day=last_day,
        )
        await self.show(f"{text}\n{t(self.lang, 'cal_hint')}", markup)

    async def slots(self, visit_date: date) -> None:
        """Show the slots of a date with their free seats."""
        await self.state.set_state(TicketFlow.slot)
        await self.state.update_data(date=visit_date.isoformat())
        now = self.clock.now()
        seats = [
            (s.slot_time, s.left if self.rules.slot_open(visit_date, s.slot_time, now) else 0)
            for s in await self.availability.seats(visit_date)
        ]
        await self.show(
            t(self.lang, "tickets_pick_slot", date=day(self.lang, visit_date)),
            keyboards.slots(self.lang, seats),
        )

    async def quantities(self) -> None:
        """Show the quantity picker with a running total."""
        await self.state.set_state(TicketFlow.quantities)
        data = await self.state.get_data()
        qty: dict[str, int] = data.get("qty", {})
        visit_date = date.fromisoformat(data["date"])
        lines = [
            t(self.lang, "tickets_pick_qty", date=day(self.lang, visit_date), time=data["slot"])
        ]
        rows = []
        total = sum(
            (tt.price * qty.get(tt.code, 0) for tt in self.catalog.tickets.types), Decimal("0.00")
        )
        for ticket_type in self.catalog.tickets.types:
            count = qty.get(ticket_type.code, 0)
            title = ticket_type.title(self.lang)
            lines.append(
                t(
                    self.lang,
                    "qty_line",
                    title=title,
                    qty=count,
                    price=money(ticket_type.price, self.lang),
                )
            )
            rows.append((ticket_type.code, title, count))
        lines.append(t(self.lang, "qty_total", total=money(total, self.lang)))
        await self.show("\n".join(lines), keyboards.quantities(self.lang, rows))

    async def email(self) -> None:
        """Ask for the e-mail address."""
        await self.state.set_state(TicketFlow.email)
        await self.show(t(self.lang, "ask_email"), keyboards.email_step(self.lang))

    async def summary(self) -> None:
        """Show the order for a last check."""
        await self.state.set_state(TicketFlow.summary)
        data = await self.state.get_data()
        order = self.order(data)
        lines = "\n".join(
            t(
                self.lang,
                "qty_line",
                title=ticket_title(self.catalog, line.ticket_type, self.lang),
                qty=line.quantity,
                price=money(line.unit_price, self.lang),
            )
            for line in order.lines
        )
        text = t(
            self.lang,
            "order_summary",
            date=day(self.lang, order.visit_date),
            time=order.slot_time,
            lines=lines,
            total=money(order.total, self.lang),
            email=data.get("email") or t(self.lang, "no_email"),
        )
        await self.show(text, keyboards.summary(self.lang))

    def order(self, data: dict[str, Any]) -> ValidOrder:
        """Validate the journey's data as an order (InvalidOrder if a rule is broken)."""
        quantities = {code: n for code, n in data.get("qty", {}).items() if n > 0}
        return self.rules.validate(
            date.fromisoformat(data["date"]), data["slot"], quantities, self.clock.now()
        )


# The steps a menu command interrupts. Paying is not one of them: the pay message stays live
# (and /my lists the order) until it is paid, canceled or expires.
CHOOSING = (
    TicketFlow.date.state,
    TicketFlow.slot.state,
    TicketFlow.quantities.state,
    TicketFlow.email.state,
    TicketFlow.summary.state,
)


async def end_journey(state: FSMContext, bot: Bot, user: UserInfo) -> bool:
    """End a ticket journey in progress: its message loses its buttons and says it stopped.

    Return whether there was one to end.
    """
    if await state.get_state() not in CHOOSING:
        return False
    data = await state.get_data()
    await state.clear()
    message_id = data.get("msg_id")
    if message_id is not None:
        try:
            await bot.edit_message_text(
                text=t(user.language, "journey_interrupted"),
                chat_id=int(user.id),
                message_id=message_id,
                reply_markup=None,
            )
        except TelegramBadRequest as exc:
            log.info("journey message of %s not closed (%s)", user.id, exc)
    return True


def journey_of(state: FSMContext, deps: dict[str, Any]) -> Journey:
    """Build the journey from a handler's injected dependencies."""
    return Journey(
        user=deps["user"],
        state=state,
        bot=deps["bot"],
        catalog=deps["catalog"],
        rules=deps["rules"],
        availability=deps["availability"],
        clock=deps["clock"],
    )
