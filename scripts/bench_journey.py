"""A rush customer: the whole ticket journey in the fake Telegram chat, timed at each step.

`journey` runs /start, /tickets, the day, the slot, one adult ticket, "next", an e-mail and
checkout as fast as the bot answers, pays on the fake YooKassa, and waits for the confirmation.
An update's answer time runs from the moment the update is queued on the fake to the bot's first
visible reaction in that chat (a new or edited message, or the answer to that very press,
whichever comes first), stamped by the fake as it records the call. Used by the rush
(scripts/bench_rush.py) and the outbox part (scripts/bench_outbox.py).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qs, urlparse

from bot.texts import short_day
from tests.fakes.telegram_api import ChatMessage, FakeUser
from tests.fakes.yookassa_api import FakeYooKassa

STEP_TIMEOUT = 60.0
PAID_TEXT = "✅ Оплата получена"
Feed = Callable[[], Awaitable[object]]
Expect = Callable[[ChatMessage], bool]
STEPS = ("/start", "/tickets", "day", "slot", "+", "next", "e-mail", "checkout")
REFUSALS = ("мест нет", "мест больше нет", "места закончились", "уже недоступна", "нет дат")


@dataclass
class Customer:
    """What one customer saw."""

    answers: list[float] = field(default_factory=list)
    outcome: str = "started"
    confirmation: float | None = None  # payment → the confirmation's text in the chat
    tickets: float | None = None  # payment → the tickets' QR codes in the chat
    paid_at: float | None = None  # when the customer paid (perf_counter)
    # The pay press → the pay button in the chat. The press's answer (in `answers`) is its
    # first reaction: the message saying the payment is being prepared.
    link: float | None = None


class Stamps:
    """Times at which the fake recorded each reaction in a chat (wraps the chat's signal)."""

    def __init__(self, user: FakeUser) -> None:
        """Start stamping `user`'s chat."""
        self.user = user
        self.chat = user.chat
        self.marks: list[tuple[float, int, int]] = []  # (time, events, callback answers)
        notify = self.chat.signal.notify

        def stamped() -> None:
            self.marks.append(
                (time.perf_counter(), len(self.chat.events), len(self.chat.callback_answers))
            )
            notify()

        self.chat.signal.notify = stamped  # type: ignore[method-assign]

    async def step(self, feed: Feed, expect: Expect) -> tuple[float, ChatMessage | None]:
        """Feed one update; return (seconds to the first reaction, the message it led to).

        The message is the first new or edited one since the update that `expect` accepts, or
        one that turns the customer away (sold out); None when the bot only answered the
        callback with a refusal.
        """
        events, before = len(self.chat.events), self.user.last_query
        began = time.perf_counter()
        await feed()
        # A press's own answer only: a step answers its press after its screen, so the previous
        # press's answer may arrive after this update (counted here, it made this step look
        # answered early and took a sold-out alert for a silent answer).
        query = self.user.last_query if self.user.last_query != before else None

        def own_answer() -> int | None:  # its place among the chat's answers, once there
            if query is None:
                return None
            answers = self.chat.callback_answers
            return next((i for i, a in enumerate(answers) if a.query_id == query), None)

        def reacted() -> float | None:
            index = own_answer()
            for moment, seen_events, seen_answers in self.marks:
                if moment >= began and (
                    seen_events > events or (index is not None and seen_answers > index)
                ):
                    return moment
            return None

        def settled() -> tuple[ChatMessage | None] | None:
            for event in self.chat.events[events:]:
                if event.kind != "delete" and (expect(event.message) or refused(event.message)):
                    return (event.message,)
            # Or the press's own answer turned the customer away: it may come after a first
            # reaction (the checkout says it is preparing the payment, then that seats ran out).
            index = own_answer()
            text = self.chat.callback_answers[index].text if index is not None else None
            return (None,) if text and refused_text(text) else None

        moment = await self.chat.signal.wait_until(reacted, STEP_TIMEOUT)
        (message,) = await self.chat.signal.wait_until(settled, STEP_TIMEOUT)
        return moment - began, message


def refused_text(text: str) -> bool:
    """Whether a text tells the customer there are no seats (or no such day) any more."""
    return any(word in text for word in REFUSALS)


def refused(message: ChatMessage) -> bool:
    """Whether a message turns the customer away."""
    return refused_text(message.text or "")


async def journey(  # noqa: PLR0911 - one return per place a customer can be turned away
    user: FakeUser,
    yookassa: FakeYooKassa,
    visit: date,
    record: Customer,
    *,
    confirmed: bool = True,
) -> None:
    """Run one customer's whole ticket journey (without waiting for the confirmation if not
    `confirmed`)."""
    stamps = Stamps(user)
    quick = short_day("ru", visit)

    async def step(feed: Feed, expect: Expect) -> ChatMessage | None:
        seconds, message = await stamps.step(feed, expect)
        record.answers.append(seconds)
        return None if message is None or refused(message) else message

    await step(lambda: user.send("/start"), lambda m: True)
    calendar = await step(
        lambda: user.send("/tickets"), lambda m: m.find_button(quick, contains=True) is not None
    )
    if calendar is None:
        record.outcome = "no day"
        return
    slots = await step(
        lambda: user.press(quick, calendar, contains=True),
        lambda m: m.find_button("10:00", contains=True) is not None,
    )
    slot = slots.find_button("10:00", contains=True) if slots else None
    if slots is None or slot is None or refused_text(str(slot.get("text"))):
        record.outcome = "no slot"
        return
    counts = await step(
        lambda: user.press("10:00", slots, contains=True), lambda m: "+" in m.button_texts()
    )
    if counts is None:
        record.outcome = "slot sold out"
        return
    added = await step(
        lambda: user.press_in_row("Взрослый", "+"), lambda m: "Итого" in (m.text or "")
    )
    if added is None:
        record.outcome = "sold out at +"
        return
    asked = await step(
        lambda: user.press("Далее ➡️"), lambda m: m.find_button("Пропустить") is not None
    )
    if asked is None:
        record.outcome = "sold out at next"
        return
    summary = await step(
        lambda: user.send(f"c{user.user_id}@example.com"),
        lambda m: m.find_button("💳 Перейти к оплате") is not None,
    )
    if summary is None:
        record.outcome = "no checkout"
        return
    pressed = time.perf_counter()
    pay = await step(
        lambda: user.press("💳 Перейти к оплате", summary),
        lambda m: any(b.startswith("💳 Оплатить") for b in m.button_texts()),
    )
    if pay is None:
        record.outcome = "sold out at checkout"
        return
    record.link = time.perf_counter() - pressed
    url = await user.press(next(b for b in pay.button_texts() if b.startswith("💳")), pay)
    provider_id = parse_qs(urlparse(str(url)).query)["orderId"][0]
    began = record.paid_at = time.perf_counter()
    await yookassa.pay(provider_id)
    if not confirmed:
        record.outcome = "paid, not waiting"
        return
    await user.wait_for(lambda m: PAID_TEXT in (m.text or ""), timeout=120)
    record.confirmation = time.perf_counter() - began
    await user.wait_for(lambda m: m.from_bot and bool(m.photos), timeout=120)
    record.tickets = time.perf_counter() - began
    record.outcome = "paid"
