"""The ticket journey: date → slot → quantities → e-mail → summary → pay, in one edited message."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot import keyboards
from bot.callbacks import MenuCb, TDateCb, TNavCb, TPageCb, TQtyCb, TSlotCb
from bot.settings import Settings
from bot.texts import day, money, t
from handlers.states import TicketFlow
from payments.catalog import Catalog
from payments.checkout.errors import ProviderDown, SoldOut, TooManyPending, TooManyUnpaidSeats
from payments.checkout.flow import Checkout
from payments.ports import Clock
from payments.receipts import ticket_title
from payments.tickets.rules import Availability, InvalidOrder, TicketRules, ValidOrder
from payments.types import UserInfo

log = logging.getLogger(__name__)

EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
MAX_EMAIL_LENGTH = 254
JOURNEY = StateFilter(
    TicketFlow.date, TicketFlow.slot, TicketFlow.quantities, TicketFlow.email, TicketFlow.summary
)


def valid_email(text: str) -> bool:
    """Return whether text looks like an e-mail address we can send tickets to."""
    return len(text) <= MAX_EMAIL_LENGTH and EMAIL_RE.match(text) is not None


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

    async def dates(self, page: int = 0) -> None:
        """Show the date picker."""
        await self.state.set_state(TicketFlow.date)
        days = self.rules.bookable_dates(self.clock.now())
        if not days:
            await self.show(t(self.lang, "tickets_no_dates"), None)
            await self.state.clear()
            return
        page = max(0, min(page, (len(days) - 1) // keyboards.DATES_PER_PAGE))
        await self.show(
            t(self.lang, "tickets_pick_date", shop=self.catalog.shop.name),
            keyboards.dates(self.lang, days, page),
        )

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
                t(self.lang, "qty_line", title=title, qty=count, price=money(ticket_type.price))
            )
            rows.append((ticket_type.code, title, count))
        lines.append(t(self.lang, "qty_total", total=money(total)))
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
                price=money(line.unit_price),
            )
            for line in order.lines
        )
        text = t(
            self.lang,
            "order_summary",
            date=day(self.lang, order.visit_date),
            time=order.slot_time,
            lines=lines,
            total=money(order.total),
            email=data.get("email") or t(self.lang, "no_email"),
        )
        await self.show(text, keyboards.summary(self.lang))

    def order(self, data: dict[str, Any]) -> ValidOrder:
        """Validate the journey's data as an order (InvalidOrder if a rule is broken)."""
        quantities = {code: n for code, n in data.get("qty", {}).items() if n > 0}
        return self.rules.validate(
            date.fromisoformat(data["date"]), data["slot"], quantities, self.clock.now()
        )


def _journey(
    user: UserInfo,
    state: FSMContext,
    bot: Bot,
    catalog: Catalog,
    rules: TicketRules,
    availability: Availability,
    clock: Clock,
) -> Journey:
    return Journey(
        user=user,
        state=state,
        bot=bot,
        catalog=catalog,
        rules=rules,
        availability=availability,
        clock=clock,
    )


async def cmd_tickets(message: Message, state: FSMContext, **deps: Any) -> None:
    """Start the journey with a new message."""
    await state.clear()
    journey = _journey(state=state, **_pick(deps))
    await journey.dates()


async def on_menu_tickets(query: CallbackQuery, state: FSMContext, **deps: Any) -> None:
    """Start the journey in place of the menu."""
    await query.answer()
    await state.clear()
    if isinstance(query.message, Message):
        await state.update_data(msg_id=query.message.message_id)
    await _journey(state=state, **_pick(deps)).dates()


def _pick(deps: dict[str, Any]) -> dict[str, Any]:
    names = ("user", "bot", "catalog", "rules", "availability", "clock")
    return {name: deps[name] for name in names}


async def on_page(
    query: CallbackQuery, callback_data: TPageCb, state: FSMContext, **deps: Any
) -> None:
    """Show another page of dates."""
    await query.answer()
    await _journey(state=state, **_pick(deps)).dates(callback_data.page)


async def on_date(
    query: CallbackQuery, callback_data: TDateCb, state: FSMContext, **deps: Any
) -> None:
    """Take a date if it is still bookable (an old keyboard may offer a past one)."""
    journey = _journey(state=state, **_pick(deps))
    try:
        if not callback_data.d.isascii():  # strptime takes any script's digits
            raise ValueError(callback_data.d)
        visit_date = datetime.strptime(callback_data.d, "%Y%m%d").date()  # noqa: DTZ007 - a date
    except ValueError:
        visit_date = None
    if visit_date is None or not journey.rules.day_open(visit_date, journey.clock.now()):
        await query.answer(t(journey.lang, "date_gone"), show_alert=True)
        return
    await query.answer()
    await journey.slots(visit_date)


async def on_slot(
    query: CallbackQuery, callback_data: TSlotCb, state: FSMContext, **deps: Any
) -> None:
    """Take a slot if it is open and has seats."""
    journey = _journey(state=state, **_pick(deps))
    data = await state.get_data()
    visit_date = date.fromisoformat(data["date"])
    slot = f"{callback_data.slot[:2]}:{callback_data.slot[2:]}"
    seats = {s.slot_time: s.left for s in await journey.availability.seats(visit_date)}
    now = journey.clock.now()
    if slot not in seats or not journey.rules.slot_open(visit_date, slot, now) or seats[slot] <= 0:
        await query.answer(t(journey.lang, "slot_gone"), show_alert=True)
        return
    await query.answer()
    await state.update_data(slot=slot)
    await journey.quantities()


async def on_quantity(
    query: CallbackQuery, callback_data: TQtyCb, state: FSMContext, **deps: Any
) -> None:
    """Change a quantity; never below zero, never above the order limit."""
    journey = _journey(state=state, **_pick(deps))
    lang = journey.lang
    if callback_data.delta == 0 or journey.catalog.tickets.type(callback_data.code) is None:
        await query.answer()
        return
    data = await state.get_data()
    qty: dict[str, int] = dict(data.get("qty", {}))
    current = qty.get(callback_data.code, 0)
    wanted = current + (1 if callback_data.delta > 0 else -1)
    limit = journey.catalog.tickets.max_tickets_per_order
    if wanted < 0:
        await query.answer(t(lang, "qty_below_zero"), show_alert=True)
        return
    if sum(qty.values()) - current + wanted > limit:
        await query.answer(t(lang, "qty_too_many", max=limit), show_alert=True)
        return
    qty[callback_data.code] = wanted
    await state.update_data(qty=qty)
    await query.answer()
    await journey.quantities()


async def on_nav(
    query: CallbackQuery,
    callback_data: TNavCb,
    state: FSMContext,
    checkout: Checkout,
    settings: Settings,
    **deps: Any,
) -> None:
    """Back, next, skip the e-mail, pay, or cancel."""
    journey = _journey(state=state, **_pick(deps))
    lang = journey.lang
    current = await state.get_state()
    action = callback_data.action
    if action == "cancel":
        await query.answer()
        await journey.show(t(lang, "journey_canceled"), None)
        await state.clear()
        return
    data = await state.get_data()
    if action == "back":
        await query.answer()
        if current == TicketFlow.slot.state:
            await journey.dates()
        elif current == TicketFlow.quantities.state:
            await journey.slots(date.fromisoformat(data["date"]))
        elif current == TicketFlow.email.state:
            await journey.quantities()
        elif current == TicketFlow.summary.state:
            await journey.email()
        return
    if action == "next" and current == TicketFlow.quantities.state:
        if not any(n > 0 for n in data.get("qty", {}).values()):
            await query.answer(t(lang, "qty_empty"), show_alert=True)
            return
        await query.answer()
        await journey.email()
        return
    if action == "skip_email" and current == TicketFlow.email.state:
        await query.answer()
        await state.update_data(email=None)
        await journey.summary()
        return
    if action == "pay" and current == TicketFlow.summary.state:
        await _pay(query, journey, checkout, settings, data)
        return
    await query.answer(t(lang, "stale_button"), show_alert=True)


async def _pay(
    query: CallbackQuery,
    journey: Journey,
    checkout: Checkout,
    settings: Settings,
    data: dict[str, Any],
) -> None:
    lang = journey.lang
    try:
        order = journey.order(data)
    except InvalidOrder:
        await query.answer(t(lang, "date_gone"), show_alert=True)
        await journey.dates()
        return
    me = await journey.bot.me()
    try:
        started = await checkout.start_tickets(
            journey.user.id,
            order,
            return_url=f"https://t.me/{me.username}",
            email=data.get("email"),
        )
    except SoldOut as exc:
        await query.answer(t(lang, "sold_out_now", left=exc.seats_left), show_alert=True)
        await journey.slots(order.visit_date)
        return
    except TooManyUnpaidSeats as exc:
        await query.answer(
            t(lang, "too_many_unpaid_seats", held=exc.held, max=exc.limit), show_alert=True
        )
        return
    except TooManyPending as exc:
        await query.answer(
            t(lang, "too_many_pending", minutes=max(1, exc.retry_after // 60)), show_alert=True
        )
        return
    except ProviderDown:
        await query.answer(t(lang, "provider_down"), show_alert=True)
        return
    await query.answer()
    result = started.result
    text = t(
        lang,
        "tickets_pay_summary",
        order_id=started.order_id,
        description=result.description,
        price=money(result.amount),
        minutes=settings.PAYMENT_TTL_MINUTES,
    )
    if settings.sandbox:
        text += f"\n\n{t(lang, 'sandbox_note')}"
    message_id = (await journey.state.get_data()).get("msg_id")
    if message_id is not None:
        # Remember the message before showing the button: a fast payment must find it.
        await checkout.attach_message(result.payment_id, int(message_id))
    await journey.state.set_state(TicketFlow.paying)
    await journey.state.update_data(payment_id=result.payment_id)
    await journey.show(
        text, keyboards.pay(lang, result.confirmation_url, money(result.amount), result.payment_id)
    )


async def on_email(message: Message, state: FSMContext, **deps: Any) -> None:
    """Take the e-mail address typed by the user, or explain what is wrong with it."""
    journey = _journey(state=state, **_pick(deps))
    text = (message.text or "").strip()
    if not valid_email(text):
        await message.answer(t(journey.lang, "bad_email"))
        return
    await state.update_data(email=text)
    await journey.summary()


async def cmd_cancel(
    message: Message, state: FSMContext, user: UserInfo, checkout: Checkout
) -> None:
    """Cancel the journey; an unpaid payment is canceled and its seats released at once."""
    data = await state.get_data()
    current = await state.get_state()
    await state.clear()
    payment_id = data.get("payment_id")
    released = bool(payment_id) and await checkout.cancel_by_user(str(payment_id), user.id)
    if current is None and not released:
        await message.answer(t(user.language, "nothing_to_cancel"))
        return
    await message.answer(t(user.language, "journey_canceled"))


def create_router() -> Router:
    """Build the ticket journey's router."""
    router = Router(name=__name__)
    router.message.register(cmd_tickets, Command("tickets"))
    router.message.register(cmd_cancel, Command("cancel"))
    router.callback_query.register(on_menu_tickets, MenuCb.filter(F.action == "tickets"))
    router.callback_query.register(on_page, TPageCb.filter(), StateFilter(TicketFlow.date))
    router.callback_query.register(on_date, TDateCb.filter(), StateFilter(TicketFlow.date))
    router.callback_query.register(on_slot, TSlotCb.filter(), StateFilter(TicketFlow.slot))
    router.callback_query.register(on_quantity, TQtyCb.filter(), StateFilter(TicketFlow.quantities))
    router.callback_query.register(on_nav, TNavCb.filter(), JOURNEY)
    router.message.register(on_email, StateFilter(TicketFlow.email), F.text)
    return router
