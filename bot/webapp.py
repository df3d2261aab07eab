"""The bot's ways into the Mini App: the chat's menu button and the main menu's shop button."""

from __future__ import annotations

import logging
import urllib.parse

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import MenuButtonWebApp, WebAppInfo

from bot.texts import DEFAULT, plain

log = logging.getLogger(__name__)

APP_PATH = "/app/"


def miniapp_url(public_base_url: str) -> str:
    """Where the service serves the Mini App, seen from outside."""
    return f"{public_base_url.rstrip('/')}{APP_PATH}"


def openable(url: str | None) -> str | None:
    """`url` if Telegram takes it for a web-app button (an HTTPS link), else None."""
    if url and urllib.parse.urlsplit(url).scheme.lower() == "https":
        return url
    return None


async def set_menu_button(bot: Bot, webapp_url: str | None) -> None:
    """Start-up hook: make the menu button of every private chat open the Mini App.

    Telegram refuses a Web App URL that is not HTTPS: then one warning says why and what to
    set, and the bot goes on without the button. Other errors (Telegram unreachable) propagate
    like those of the other start-up calls, so the start is retried.
    """
    if not webapp_url:
        return
    text = plain(DEFAULT, "menu_button_shop")
    button = MenuButtonWebApp(text=text, web_app=WebAppInfo(url=webapp_url))
    try:
        await bot.set_chat_menu_button(menu_button=button)
    except TelegramBadRequest as exc:
        log.warning(
            "bot: Telegram refused the Mini App menu button for %s (%s); set PUBLIC_BASE_URL "
            "to this service's public HTTPS address to get it. The bot works without it, "
            "and /start offers no shop button meanwhile",
            webapp_url,
            exc.message,
        )
    else:
        log.info("bot: the menu button opens the Mini App at %s", webapp_url)
