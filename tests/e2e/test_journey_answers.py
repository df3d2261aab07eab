"""A customer's new screen comes before the answer to the press behind it (tickets, plans, menu).

A customer sees a step's new screen one Bot API round trip sooner when the bot sends it first
and answers the press (stopping the button's spinner) after. Answering first also used up the
press, so a step that then failed could no longer show the error handler's alert.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.e2e.conftest import Shop, ShopFactory
from tests.e2e.dates import pick_day
from tests.e2e.test_tickets import _visit_day
from tests.fakes.telegram_api import FakeTelegramAPI, FakeUser

SCREENS = ("editMessageText", "sendMessage")


async def _screen_then_answer(
    telegram: FakeTelegramAPI, user: FakeUser, press: Callable[[], Awaitable[object]]
) -> str:
    """Press, wait for the answer; return the name of the screen call that came before it."""
    before = len(telegram.requests)
    await press()
    answer = await user.wait_callback_answer()
    assert answer.text is None, answer  # a step taken, not refused
    calls = telegram.requests[before:]
    answered = next(
        i
        for i, (name, params) in enumerate(calls)
        if name == "answerCallbackQuery" and params.get("callback_query_id") == answer.query_id
    )
    screens = [name for name, params in calls[:answered] if name in SCREENS]
    assert screens, f"the press was answered before any screen: {[n for n, _ in calls]}"
    return screens[-1]


Steps = list[tuple[str, Callable[[], Awaitable[object]]]]


async def _each_screen_first(telegram: FakeTelegramAPI, user: FakeUser, steps: Steps) -> None:
    """Take `steps` in turn; each must show its screen (an edit) before its press's answer."""
    for name, press in steps:
        screen = await _screen_then_answer(telegram, user, press)
        assert screen == "editMessageText", (name, screen)


async def _at_the_calendar(make_shop: ShopFactory, user_id: int) -> tuple[Shop, FakeUser]:
    """A shop, and a customer who has just asked for /tickets."""
    shop = await make_shop()
    user = shop.telegram.user(user_id)
    await user.send("/tickets")
    await user.wait_reply()
    return shop, user


async def test_every_step_is_on_screen_before_its_press_is_answered(
    make_shop: ShopFactory,
) -> None:
    shop, user = await _at_the_calendar(make_shop, 4301)
    visit = _visit_day(shop)
    await _each_screen_first(
        shop.telegram,
        user,
        [
            ("day", lambda: pick_day(user, visit)),
            ("slot", lambda: user.press("10:00", contains=True)),
            ("+", lambda: user.press_in_row("Взрослый", "+")),
            ("next", lambda: user.press("Далее ➡️")),
            ("skip the e-mail", lambda: user.press("Пропустить")),
            ("back", lambda: user.press("⬅️ Назад")),
            ("skip again", lambda: user.press("Пропустить")),
            ("pay", lambda: user.press("💳 Перейти к оплате")),
        ],
    )
    pay = user.last_message
    assert any(b.startswith("💳 Оплатить") for b in pay.button_texts()), pay.button_texts()


async def test_a_step_whose_screen_fails_says_so_in_the_press_answer(
    make_shop: ShopFactory,
) -> None:
    shop, user = await _at_the_calendar(make_shop, 4302)
    visit = _visit_day(shop)
    telegram = shop.telegram
    await _each_screen_first(
        telegram,
        user,
        [
            ("day", lambda: pick_day(user, visit)),
            ("slot", lambda: user.press("10:00", contains=True)),
        ],
    )

    telegram.fail_next("editMessageText", 500, "Internal Server Error", chat_ids=[4302])
    await user.press_in_row("Взрослый", "+")
    answer = await user.wait_callback_answer()
    assert answer.show_alert
    assert answer.text is not None
    assert "Что-то пошло не так" in answer.text
    # The next press goes through as usual.
    await user.press_in_row("Взрослый", "+")
    await user.wait_for(lambda m: "Итого" in (m.text or ""))
    assert (await user.wait_callback_answer()).text is None


@pytest.mark.parametrize(
    ("command", "presses", "at_the_end"),
    [
        # The plans: auto-renewal on, the plan (its terms), agree (the pay button), cancel.
        (
            "/subscribe",
            [
                ("Автопродление: выкл", True),
                ("299 ₽", True),
                ("Согласен", True),
                ("✖️ Отменить", False),
            ],
            "Платёж отменён",
        ),
        # The menu: help, back, /my, back, the languages, English.
        (
            "/start",
            [
                ("❓ Помощь", False),
                ("⬅️ В меню", False),
                ("🧾 Мои покупки", False),
                ("⬅️ В меню", False),
                ("🌐 Язык / Language", False),
                ("English", True),
            ],
            "❓ Help",
        ),
    ],
    ids=["plans", "menu"],
)
async def test_other_screens_come_before_their_presses_answers(
    make_shop: ShopFactory, command: str, presses: list[tuple[str, bool]], at_the_end: str
) -> None:
    shop = await make_shop()
    user = shop.telegram.user(4303)
    await user.send(command)
    await user.wait_reply()

    def pressing(text: str, contains: bool) -> Callable[[], Awaitable[object]]:
        return lambda: user.press(text, contains=contains)

    await _each_screen_first(
        shop.telegram, user, [(text, pressing(text, contains)) for text, contains in presses]
    )
    last = user.last_message
    assert at_the_end in f"{last.text} {last.button_texts()}"
