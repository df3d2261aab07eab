"""Typed answers where the journey shows buttons: use what is unambiguous, else point at the
buttons; either way the step comes again as a new message at the bottom, under the typing.

Dates: "сегодня", "завтра", "послезавтра", "today", "tomorrow", "25.12", "25.12.2026",
"25 декабря", "December 25". Times: "12:00", "в 12", "12". Quantities: "2" when the shop sells
one ticket type, "2 взрослых" / "adults 2" naming one type.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.texts import day, money, t
from handlers.states import TicketFlow
from handlers.tickets.journey import Journey, journey_of
from payments.catalog import Catalog, TicketType

_RELATIVE = {
    "сегодня": 0,
    "today": 0,
    "завтра": 1,
    "tomorrow": 1,
    "послезавтра": 2,
    "day after tomorrow": 2,
}
# Month stems, Russian and English, in month order ("дек" matches "декабря", "декабрь").
_MONTH_STEMS = (
    ("янв", "jan"),
    ("фев", "feb"),
    ("мар", "mar"),
    ("апр", "apr"),
    ("мая", "may"),
    ("июн", "jun"),
    ("июл", "jul"),
    ("авг", "aug"),
    ("сен", "sep"),
    ("окт", "oct"),
    ("ноя", "nov"),
    ("дек", "dec"),
)
_NUMERIC_DATE = re.compile(r"([0-9]{1,2})[./-]([0-9]{1,2})(?:[./-]([0-9]{2}|[0-9]{4}))?")
_WORD_DATE = re.compile(r"(?:([0-9]{1,2})\s+([^\W\d_]+)|([^\W\d_]+)\s+([0-9]{1,2}))")
_TIME = re.compile(
    r"(?:(?:в|во|к|at|for)\s+)?([0-9]{1,2})(?:\s*[:.h ]\s*([0-9]{2}))?\s*(?:ч|час|часов|h)?\.?"
)
_QTY = re.compile(r"([0-9]{1,3})\s*([^\W\d_]*)|([^\W\d_]+)\s*:?\s*([0-9]{1,3})")
MIN_STEM = 4


def _month_of(word: str) -> int | None:
    # "май" is the one month whose nominative and genitive share fewer than three letters.
    if word == "май":
        return 5
    return next(
        (
            number
            for number, stems in enumerate(_MONTH_STEMS, start=1)
            if any(word.startswith(stem) for stem in stems)
        ),
        None,
    )


def _build(day_number: int, month: int, year: int | None, today: date) -> date | None:
    try:
        value = date(year or today.year, month, day_number)
    except ValueError:
        return None
    if year is None and value < today:
        value = value.replace(year=today.year + 1)
    return value


def parse_day(text: str, today: date) -> date | None:
    """Read a typed date, or None when the text is not one."""
    words = " ".join(text.lower().replace("ё", "е").split()).strip(" .!")
    if words in _RELATIVE:
        return today + timedelta(days=_RELATIVE[words])
    if match := _NUMERIC_DATE.fullmatch(words):
        year = match.group(3)
        full_year = None if year is None else int(year) + (2000 if len(year) == 2 else 0)  # noqa: PLR2004
        return _build(int(match.group(1)), int(match.group(2)), full_year, today)
    if match := _WORD_DATE.fullmatch(words):
        number, word = (match.group(1), match.group(2)) if match.group(1) else match.group(4, 3)
        month = _month_of(word)
        return None if month is None else _build(int(number), month, None, today)
    return None


def parse_slot(text: str, slots: list[str]) -> str | None:
    """Read a typed time that names exactly one of the slots, or None."""
    match = _TIME.fullmatch(" ".join(text.lower().split()))
    if match is None:
        return None
    hour, minutes = int(match.group(1)), match.group(2)
    if minutes is not None:
        wanted = f"{hour:02d}:{minutes}"
        return wanted if wanted in slots else None
    candidates = [slot for slot in slots if int(slot[:2]) == hour]
    return candidates[0] if len(candidates) == 1 else None


def _same_stem(word: str, title: str) -> bool:
    first = title.lower().replace("ё", "е").split()[0].strip("()")
    size = min(MIN_STEM, len(word), len(first))
    return size > 0 and word[:size] == first[:size]


def parse_quantity(text: str, catalog: Catalog) -> tuple[TicketType, int] | None:
    """Read "2" (one ticket type on sale) or "2 взрослых": the type and the number, or None."""
    match = _QTY.fullmatch(" ".join(text.lower().replace("ё", "е").split()))
    if match is None:
        return None
    number = match.group(1) or match.group(4)
    word = match.group(2) if match.group(1) else match.group(3)
    types = catalog.tickets.types
    if not word:
        return (types[0], int(number)) if len(types) == 1 else None
    named = [
        ticket_type
        for ticket_type in types
        if any(
            _same_stem(word, title)
            for title in (ticket_type.title_ru, ticket_type.title_en, ticket_type.code)
        )
    ]
    return (named[0], int(number)) if len(named) == 1 else None


async def _date_step(journey: Journey, message: Message, text: str) -> None:
    lang = journey.lang
    now = journey.clock.now()
    value = parse_day(text, journey.rules.today(now))
    if value is not None and journey.rules.day_open(value, now):
        await journey.retire(t(lang, "chosen_date", date=day(lang, value)))
        await journey.slots(value)
        return
    hint = "typed_date_hint" if value is None else "typed_date_closed"
    await journey.retire()
    await message.answer(t(lang, hint, date=day(lang, value) if value else ""))
    data = await journey.state.get_data()
    shown = value or (date.fromisoformat(data["month"]) if data.get("month") else None)
    await journey.dates(shown)


async def _slot_step(journey: Journey, message: Message, text: str) -> None:
    lang = journey.lang
    visit_date = date.fromisoformat((await journey.state.get_data())["date"])
    slot = parse_slot(text, journey.catalog.tickets.slots)
    if slot is not None:
        seats = {s.slot_time: s.left for s in await journey.availability.seats(visit_date)}
        now = journey.clock.now()
        if journey.rules.slot_open(visit_date, slot, now) and seats.get(slot, 0) > 0:
            await journey.state.update_data(slot=slot)
            await journey.retire(t(lang, "chosen_slot", date=day(lang, visit_date), time=slot))
            await journey.quantities()
            return
    await journey.retire()
    await message.answer(t(lang, "typed_slot_hint" if slot is None else "typed_slot_gone"))
    await journey.slots(visit_date)


async def _quantity_step(journey: Journey, message: Message, text: str) -> None:
    lang = journey.lang
    parsed = parse_quantity(text, journey.catalog)
    limit = journey.catalog.tickets.max_tickets_per_order
    hint = "typed_qty_hint"
    if parsed is not None:
        ticket_type, count = parsed
        qty: dict[str, int] = dict((await journey.state.get_data()).get("qty", {}))
        qty[ticket_type.code] = count
        if sum(qty.values()) > limit:
            await journey.retire()
            await message.answer(t(lang, "qty_too_many", max=limit))
            await journey.quantities()
            return
        await journey.state.update_data(qty=qty)
        if len(journey.catalog.tickets.types) == 1 and count > 0:
            # One ticket type on sale: the number is the whole answer of this step.
            price = money(ticket_type.price)
            line = t(lang, "qty_line", title=ticket_type.title(lang), qty=count, price=price)
            await journey.retire(line)
            await journey.email()
            return
        if count > 0 or any(qty.values()):
            # Several types: show the step again with the number taken, for the others.
            await journey.retire()
            await journey.quantities()
            return
        hint = "qty_empty"
    await journey.retire()
    await message.answer(t(lang, hint))
    await journey.quantities()


async def on_typed(message: Message, state: FSMContext, **deps: Any) -> None:
    """Take typed text at the date, slot, quantity or summary step."""
    journey = journey_of(state, deps)
    text = (message.text or "").strip()
    current = await state.get_state()
    if current == TicketFlow.date.state:
        await _date_step(journey, message, text)
    elif current == TicketFlow.slot.state:
        await _slot_step(journey, message, text)
    elif current == TicketFlow.quantities.state:
        await _quantity_step(journey, message, text)
    else:
        await journey.retire()
        await message.answer(t(journey.lang, "typed_summary_hint"))
        await journey.summary()
