"""A customer's new screen comes before the answer to the press behind it (tickets, plans, menu).

A customer sees a step's new screen one Bot API round trip sooner when the bot sends it first
and answers the press (stopping the button's spinner) after: in `make bench`'s rush the slot
and quantity steps' median fell from 23-43 ms to 7-25 ms. Answering first also used up the
press, so a step that then failed could no longer show the error handler's alert.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.e2e.conftest import ShopFactory
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


async def test_every_step_is_on_screen_before_its_press_is_answered(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    telegram = shop.telegram
    user = telegram.user(4301)
    visit = _visit_day(shop)
    await user.send("/tickets")
    await user.wait_reply()

    async def day() -> None:
        await pick_day(user, visit)

    steps: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("day", day),
        ("slot", lambda: user.press("10:00", contains=True)),
        ("+", lambda: user.press_in_row("Взрослый", "+")),
        ("next", lambda: user.press("Далее ➡️")),
        ("skip the e-mail", lambda: user.press("Пропустить")),
        ("back", lambda: user.press("⬅️ Назад")),
        ("skip again", lambda: user.press("Пропустить")),
        ("pay", lambda: user.press("💳 Перейти к оплате")),
    ]
    for name, press in steps:
        screen = await _screen_then_answer(telegram, user, press)
        assert screen == "editMessageText", (name, screen)
    pay = user.last_message
    assert any(b.startswith("💳 Оплатить") for b in pay.button_texts()), pay.button_texts()


async def test_a_step_whose_screen_fails_says_so_in_the_press_answer(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    telegram = shop.telegram
    user = telegram.user(4302)
    await user.send("/tickets")
    await user.wait_reply()
    await pick_day(user, _visit_day(shop))
    await user.wait_reply()
    await user.press("10:00", contains=True)
    await user.wait_reply()

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


async def test_the_plan_steps_are_on_screen_before_their_presses_are_answered(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    telegram = shop.telegram
    user = telegram.user(4303)
    await user.send("/subscribe")
    await user.wait_reply()
    steps: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("auto-renewal on", lambda: user.press("Автопродление: выкл", contains=True)),
        ("the plan: its terms", lambda: user.press("299 ₽", contains=True)),
        ("agree: the pay button", lambda: user.press("Согласен", contains=True)),
        ("cancel the payment", lambda: user.press("✖️ Отменить")),
    ]
    for name, press in steps:
        screen = await _screen_then_answer(telegram, user, press)
        assert screen == "editMessageText", (name, screen)
    assert "Платёж отменён" in (user.last_message.text or "")


async def test_the_menu_screens_are_on_screen_before_their_presses_are_answered(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    telegram = shop.telegram
    user = telegram.user(4304)
    await user.send("/start")
    await user.wait_reply()
    steps: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("help", lambda: user.press("❓ Помощь")),
        ("back to the menu", lambda: user.press("⬅️ В меню")),
        ("my purchases", lambda: user.press("🧾 Мои покупки")),
        ("back to the menu", lambda: user.press("⬅️ В меню")),
        ("languages", lambda: user.press("🌐 Язык / Language")),
        ("English", lambda: user.press("English", contains=True)),
    ]
    for name, press in steps:
        screen = await _screen_then_answer(telegram, user, press)
        assert screen == "editMessageText", (name, screen)
    assert "❓ Help" in user.last_message.button_texts()
