"""Who called the YooKassa webhook: TRUSTED_PROXIES alone decides whether X-Forwarded-For counts.

Uvicorn's own proxy-header handling would believe X-Forwarded-For from loopback whatever
TRUSTED_PROXIES says; it is off, so these run against the service as main.py serves it.
"""

from __future__ import annotations

import uuid

import httpx

from payments.yookassa.webhook import WEBHOOK_PATH
from settings import YOOKASSA_NETWORKS
from tests.e2e.conftest import Shop, ShopFactory

YOOKASSA_ADDRESS = "185.71.76.5"  # inside YooKassa's published 185.71.76.0/27


async def _notify(shop: Shop, forwarded_for: list[str], payment_id: str = "") -> httpx.Response:
    notification = {
        "type": "notification",
        "event": "payment.succeeded",
        "object": {"id": payment_id or str(uuid.uuid4()), "status": "succeeded"},
    }
    headers = [("X-Forwarded-For", line) for line in forwarded_for]
    async with httpx.AsyncClient(base_url=shop.service.base_url, timeout=15) as client:
        return await client.post(WEBHOOK_PATH, json=notification, headers=headers)


async def test_a_forged_forwarded_for_from_loopback_is_refused(make_shop: ShopFactory) -> None:
    # Live payments, YooKassa's own networks, no proxies: loopback is nobody's proxy here.
    shop = await make_shop(YOOKASSA_TRUSTED_NETWORKS=",".join(YOOKASSA_NETWORKS))
    payment_id = str(uuid.uuid4())
    answer = await _notify(shop, [YOOKASSA_ADDRESS], payment_id)
    assert answer.status_code == 403, answer.text
    # Refused at the door: YooKassa was never asked about the payment.
    assert not [r for r in shop.yookassa.requests if payment_id in r.path]


async def test_forwarded_for_lines_from_our_proxy_are_one_chain(make_shop: ShopFactory) -> None:
    shop = await make_shop(
        YOOKASSA_TRUSTED_NETWORKS=",".join(YOOKASSA_NETWORKS), TRUSTED_PROXIES="127.0.0.1/32,::1"
    )
    # Our proxy forwards YooKassa: believed (the payment is unknown to YooKassa, so 200).
    forwarded = await _notify(shop, [YOOKASSA_ADDRESS])
    assert forwarded.status_code == 200, forwarded.text
    # The client wrote YooKassa's address in a line of its own; our proxy added the real
    # client, 8.8.8.8, as a second line. Read as one chain, the caller is 8.8.8.8.
    split = await _notify(shop, [YOOKASSA_ADDRESS, "8.8.8.8"])
    assert split.status_code == 403, split.text
