"""The sandbox checkout page's words, in Russian and English, and how the page picks a language.

Kept apart from the bot's texts (payments/ never imports bot/): one key, one (ru, en) pair.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from payments.money import human

LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"

_TEXTS: dict[str, tuple[str, str]] = {
    "title": ("Оплата заказа — {shop}", "Payment — {shop}"),
    "banner": (
        "Тестовый режим: настоящие деньги не списываются",
        "Sandbox — no real money is charged",
    ),
    "sandbox_shop": ("Тестовый магазин", "Sandbox shop"),
    "order": ("Заказ {order}", "Order {order}"),
    "visit": ("Посещение: {day}, {time}", "Visit: {day}, {time}"),
    "plan_days": ("{title} — {days}", "{title} — {days}"),
    "total": ("Итого", "Total"),
    "pay": ("Оплатить {amount}", "Pay {amount}"),
    "decline": ("Отказаться от оплаты", "Decline"),
    "card_note": (
        "Тестовая карта •••• 4444. Кнопка «Отказаться» показывает, что будет при отказе банка.",
        "Test card •••• 4444. Decline shows what happens when the bank refuses the payment.",
    ),
    "payment_ref": ("Платёж {payment}", "Payment {payment}"),
    "succeeded": ("Оплата прошла", "Payment successful"),
    "succeeded_note": (
        "Спасибо! Подтверждение ждёт вас в магазине.",
        "Thank you! Your confirmation is waiting for you in the shop.",
    ),
    "waiting": ("Оплата принята", "Payment accepted"),
    "waiting_note": (
        "Магазин подтверждает заказ. Страница обновится сама.",
        "The shop is confirming your order. This page updates by itself.",
    ),
    "declined": ("Оплата отклонена", "Payment declined"),
    "expired": ("Время на оплату истекло", "The time to pay has run out"),
    "canceled": ("Платёж отменён", "Payment canceled"),
    "canceled_note": ("Деньги не списаны.", "No money was taken."),
    "back": ("Вернуться в магазин", "Back to the shop"),
    "switch": ("Страница на английском", "View in Russian"),
    "not_found": ("Платёж не найден", "Payment not found"),
    "not_found_note": (
        "Тестовые платежи хранятся только в памяти: после перезапуска сервиса их нет.",
        "Sandbox payments live in memory only: a restart of the service forgets them.",
    ),
}

_MONTHS = {
    "ru": (
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def text(lang: str, key: str, **values: object) -> str:
    """Return the page's text for `key` in `lang` (Russian unless "en"), filled in."""
    ru, en = _TEXTS[key]
    return (en if lang == "en" else ru).format(**values)


def language(*candidates: str | None, accept_language: str | None = None) -> str:
    """Return the first supported language among `candidates`, then the browser's, else ru."""
    for candidate in candidates:
        if candidate:
            code = candidate.strip().lower()[:2]
            if code in LANGUAGES:
                return code
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def money(amount: Decimal, lang: str) -> str:
    """Format roubles for people: `2 500 ₽`, `249,50 ₽` (no-break space before the sign)."""
    figure = human(amount)
    if lang != "en":
        figure = figure.replace(".", ",")
    return f"{figure}\u00a0₽"


def day(value: date, lang: str) -> str:
    """Format a date: `14 июня 2025` / `14 June 2025`."""
    month = _MONTHS["en" if lang == "en" else "ru"][value.month - 1]
    return f"{value.day} {month} {value.year}"


def days(count: int, lang: str) -> str:
    """Format a number of days with its plural: `1 день`, `3 дня`, `30 дней` / `30 days`."""
    if lang == "en":
        return f"{count} day" if count == 1 else f"{count} days"
    tens, ones = count % 100, count % 10
    if ones == 1 and tens != 11:
        word = "день"
    elif 2 <= ones <= 4 and not 12 <= tens <= 14:
        word = "дня"
    else:
        word = "дней"
    return f"{count} {word}"
