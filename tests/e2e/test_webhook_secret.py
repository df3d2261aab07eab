"""Webhook mode always checks Telegram's secret, even when TELEGRAM_WEBHOOK_SECRET is unset."""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.webhook import SECRET_HEADER, derive_secret
from db.models_subscriptions import Subscription
from tests.e2e.conftest import ADMIN_ID, Shop, ShopFactory

HOOK = "/telegram/webhook"
CUSTOMER = 5801
GRANTED = "добавлено 10 дней"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _grant_update(update_id: int) -> dict[str, Any]:
    """`/grant 5801 10` from an admin, as Telegram would deliver it."""
    admin = {"id": ADMIN_ID, "is_bot": False, "first_name": "Admin", "language_code": "ru"}
    text = "/grant 5801 10"
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": ADMIN_ID, "type": "private", "first_name": "Admin"},
            "from": admin,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len("/grant")}],
        },
    }


async def _subscriptions(shop: Shop) -> list[Subscription]:
    async with shop.service.sessionmaker() as session:
        return list((await session.execute(select(Subscription))).scalars())


async def test_without_a_configured_secret_updates_need_the_derived_one(
    make_shop: ShopFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    port = _free_port()
    shop = await make_shop(HTTP_PORT=port, TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}{HOOK}")
    telegram = shop.telegram
    secret = derive_secret(telegram.token)

    # setWebhook was given the secret the service checks; Telegram's rules hold for it.
    await telegram.wait_for_request("setWebhook")
    assert telegram.webhook_secret == secret
    webhook = shop.service.telegram.webhook if shop.service.telegram else None
    assert webhook is not None and webhook.secret == secret
    assert 1 <= len(secret) <= 256
    assert set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
    derived_logs = [r for r in caplog.records if "derived from the bot token" in r.getMessage()]
    assert len(derived_logs) == 1 and derived_logs[0].levelno == logging.INFO
    assert secret not in caplog.text

    # The customer exists (their /start came through Telegram, secret and all).
    customer = telegram.user(CUSTOMER)
    await customer.send("/start")
    await customer.wait_reply(timeout=10)
    admin = telegram.user(ADMIN_ID)
    sent_before = len(telegram.calls("sendMessage"))

    # A forged /grant: no secret, a wrong one, the configured-nowhere empty one.
    async with httpx.AsyncClient(base_url=shop.service.base_url, timeout=15) as client:
        for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: ""}):
            forged = await client.post(HOOK, json=_grant_update(900_001), headers=headers)
            assert forged.status_code == 401, forged.text
        assert await _subscriptions(shop) == []
        assert len(telegram.calls("sendMessage")) == sent_before

        # With the secret but not an update: not JSON, nested past reading, JSON of another
        # shape. Each is refused as such (400), never a 500.
        deep = b"[" * 5000 + b"]" * 5000
        for body in (b"{not json", deep, b'{"update_id": 1, "message": ' + deep + b"}"):
            refused = await client.post(
                HOOK,
                content=body,
                headers={SECRET_HEADER: secret, "Content-Type": "application/json"},
            )
            assert refused.status_code == 400, (body[:30], refused.text)
        refused = await client.post(HOOK, json={"update_id": "x"}, headers={SECRET_HEADER: secret})
        assert refused.status_code == 400, refused.text

        # The same update with the derived secret is handled.
        accepted = await client.post(
            HOOK, json=_grant_update(900_002), headers={SECRET_HEADER: secret}
        )
        assert accepted.status_code == 200, accepted.text
    reply = await admin.wait_for(lambda m: GRANTED in (m.text or ""), timeout=10)
    assert GRANTED in (reply.text or "")
    await customer.wait_for(lambda m: "🎁 Вам добавлено 10 дней" in (m.text or ""), timeout=10)

    # Only that one grant happened: one reply, ten days, not twenty. (Updates of one user are
    # handled one at a time in arrival order, so a forged grant would have finished first.)
    assert [m for m in admin.messages if GRANTED in (m.text or "")] == [reply]
    (subscription,) = await _subscriptions(shop)
    assert subscription.user_id == str(CUSTOMER)
    assert (subscription.expires_at - subscription.starts_at).days == 10
