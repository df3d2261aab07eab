"""The QR signing key across restarts and instances: drawn once, then the same everywhere."""

from __future__ import annotations

import base64
import time
from datetime import date

import httpx
import jwt
from sqlalchemy import func, select

from db.models import ServiceKey
from tests.e2e.conftest import Shop, ShopFactory
from tests.e2e.gate_kit import STAFF_ID

SECRET = "k" * 64
CONFIGURED = bytes(range(32))


def _staff_token() -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": str(STAFF_ID), "role": "user", "iss": "zooticket-bot", "iat": now}
    token = jwt.encode({**claims, "exp": now + 600}, SECRET, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


async def _scan(shop: Shop, qr: str) -> str | None:
    async with httpx.AsyncClient(base_url=shop.service.base_url, timeout=15) as http:
        gate = await http.get("/api/v2/app/gate", headers=_staff_token())
        assert gate.status_code == 200, gate.text
        assert gate.json()["publicKey"] == shop.service.payments.signer.public_key
        answer = await http.post(
            "/api/v2/app/gate/checkin", json={"qr": qr}, headers=_staff_token()
        )
        assert answer.status_code == 200, answer.text
    reason: str | None = answer.json()["reason"]
    return reason


async def test_every_start_on_one_database_signs_with_the_key_drawn_first(
    make_shop: ShopFactory,
) -> None:
    settings = {"BOT_TOKEN": None, "JWT_SECRET": SECRET, "STAFF_IDS": str(STAFF_ID)}
    first = await make_shop(**settings)
    second = await make_shop(**settings)
    signer = first.service.payments.signer
    assert second.service.payments.signer.public_key == signer.public_key
    async with second.service.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ServiceKey)) == 1
    # A QR signed by one instance is genuine at the other (an unknown ticket, not a forged one).
    qr = signer.content("ZT-0000-0000-0001", date(2026, 12, 5), "10:00", "adult", is_test=False)
    assert await _scan(second, qr) == "not_found"

    # TICKET_SIGNING_KEY set: that key signs, and QRs of the drawn key read as forged.
    configured = await make_shop(
        **settings, TICKET_SIGNING_KEY=base64.b64encode(CONFIGURED).decode()
    )
    assert configured.service.payments.signer.public_key != signer.public_key
    assert await _scan(configured, qr) == "forged"
