"""The shell: greeting, menu, help, "my purchases", and errors any journey may hit.

Each key maps to (Russian, English); `bot.texts.t()` picks one.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "start": (
        "Здравствуйте, {name}! Это {shop}: билеты в зоопарк и подписки.\n"
        "Выберите, что вас интересует.",
        "Hello, {name}! This is {shop}: zoo tickets and subscriptions.\nWhat would you like?",
    ),
    "menu": ("Главное меню. Выберите, что вас интересует.", "Main menu. What would you like?"),
    "btn_tickets": ("🎟 Билеты", "🎟 Tickets"),
    "btn_subscribe": ("⭐ Подписка", "⭐ Subscription"),
    "btn_my": ("🧾 Мои покупки", "🧾 My purchases"),
    "btn_help": ("❓ Помощь", "❓ Help"),
    "btn_menu": ("⬅️ В меню", "⬅️ Menu"),
    "help": (
        "Что умеет бот:\n"
        "/tickets — купить билеты в зоопарк: дата, время, количество\n"
        "/subscribe — оформить или продлить подписку\n"
        "/my — ваши билеты и подписка\n"
        "/cancel — отменить текущую покупку\n"
        "/help — эта справка\n\n"
        "Оплата картой через ЮKassa. Билеты приходят сюда QR-кодами и на e-mail.",
        "What the bot does:\n"
        "/tickets — buy zoo tickets: date, time, quantity\n"
        "/subscribe — start or renew a subscription\n"
        "/my — your tickets and subscription\n"
        "/cancel — cancel the current purchase\n"
        "/help — this help\n\n"
        "Pay by card through YooKassa. Tickets arrive here as QR codes and by e-mail.",
    ),
    "cmd_start": ("Главное меню", "Main menu"),
    "cmd_tickets": ("Купить билеты", "Buy tickets"),
    "cmd_subscribe": ("Подписка", "Subscription"),
    "cmd_my": ("Мои билеты и подписка", "My tickets and subscription"),
    "cmd_help": ("Помощь", "Help"),
    "cmd_cancel": ("Отменить покупку", "Cancel the purchase"),
    "error": (
        "Что-то пошло не так. Мы уже разбираемся; попробуйте ещё раз чуть позже.",
        "Something went wrong. We are looking into it; please try again a bit later.",
    ),
    "unknown": (
        "Не понимаю это сообщение. Нажмите /help, чтобы увидеть, что умеет бот.",
        "I don't understand that message. Send /help to see what the bot can do.",
    ),
    "stale_button": (
        "Эта кнопка устарела. Откройте меню заново: /start",
        "This button is out of date. Open the menu again: /start",
    ),
    "nothing_to_cancel": ("Отменять нечего.", "There is nothing to cancel."),
    "sandbox_note": (
        "🧪 Песочница: настоящие деньги не списываются.",
        "🧪 Sandbox: no real money is charged.",
    ),
    "my_empty": (
        "У вас пока нет билетов и подписки. Загляните в /tickets или /subscribe.",
        "You have no tickets or subscription yet. Have a look at /tickets or /subscribe.",
    ),
}
