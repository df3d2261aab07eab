"""The cheap gate in front of the admin console (handlers/admin/gate.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram.types import CallbackQuery, Chat, Message, User

from bot.callbacks import AdminCb, BroadcastCb, MenuCb
from handlers.admin.gate import ADMIN_COMMANDS, admin_button, admin_command


def _text(text: str | None, caption: str | None = None) -> Message:
    return Message(
        message_id=1,
        date=datetime.now(UTC),
        chat=Chat(id=1, type="private"),
        text=text,
        caption=caption,
    )


async def test_the_console_gate_lets_every_admin_command_through_and_nothing_else() -> None:
    # The gate only skips routers; it must never hide a command aiogram's Command would take.
    for command in ADMIN_COMMANDS:
        for text in (f"/{command}", f"/{command} 12 extra", f"/{command}@ZooBot arg"):
            assert await admin_command(_text(text)), text
    assert await admin_command(_text(None, caption="/stats"))
    for text in ("/my", "/start", "stats", "/", "/ stats", "", "/statsx", "hello /stats"):
        assert not await admin_command(_text(text)), text
    assert not await admin_command(_text(None))


async def test_the_console_gate_knows_admin_buttons() -> None:
    def press(data: str | None) -> CallbackQuery:
        return CallbackQuery(
            id="1", from_user=User(id=1, is_bot=False, first_name="A"), chat_instance="c", data=data
        )

    assert await admin_button(press(AdminCb(action="stats").pack()))
    assert await admin_button(press(BroadcastCb(action="send", id=7).pack()))
    for data in (MenuCb(action="my").pack(), "admin", "", None, "adm"):
        assert await admin_button(press(data)) is (data == "adm"), data
