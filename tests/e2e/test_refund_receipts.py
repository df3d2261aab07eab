"""Refunds carry 54-FZ receipts (issue 11): YooKassa refuses a refund without one on a shop
that sends receipts, and the local YooKassa refuses it the same way.

The payments are bought through the bot and refunded with the admin's `/refund`; what YooKassa
was sent is read back from the local YooKassa's record.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.e2e.admin_chat import our_id, pay, refund
from tests.e2e.conftest import ADMIN_ID, Shop, ShopFactory
from tests.e2e.test_tickets import _choose, _to_payment

Line = tuple[str, Decimal, str]


async def _buy(shop: Shop, user_id: int, email: str) -> tuple[str, str]:
    """Buy two adult and one child ticket (2 500.00) through the bot; return both ids."""
    user = shop.telegram.user(user_id)
    await _choose(user, shop, adults=2, children=1)
    provider_id = await pay(shop, user, await _to_payment(user, email))
    await user.wait_for(lambda m: "✅ Оплата получена" in (m.text or ""), timeout=10)
    return await our_id(shop, provider_id), provider_id


def _receipts(shop: Shop, provider_id: str) -> list[tuple[Decimal, dict[str, Any]]]:
    """Each refund of a YooKassa payment, oldest first: its amount and the receipt it carried."""
    return [
        (Decimal(refund["amount"]["value"]), shop.yookassa.refund_receipts[refund_id])
        for refund_id, refund in shop.yookassa.refunds.items()
        if refund["payment_id"] == provider_id
    ]


def _lines(receipt: dict[str, Any]) -> list[Line]:
    """(description start, quantity, unit price) of each receipt line."""
    return [
        (
            str(item["description"]).split(",")[0].split(" (")[0],
            Decimal(str(item["quantity"])),
            item["amount"]["value"],
        )
        for item in receipt["items"]
    ]


def _sum(receipt: dict[str, Any]) -> Decimal:
    return sum(
        (Decimal(str(i["quantity"])) * Decimal(i["amount"]["value"]) for i in receipt["items"]),
        Decimal(0),
    )


async def test_full_and_partial_ticket_refunds_carry_receipts_that_add_up(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    admin = shop.telegram.user(ADMIN_ID)

    # A whole payment refunded at once: the receipt returns the lines as sold.
    whole_id, whole_provider = await _buy(shop, 5601, "olga@example.com")
    sold = next(r.body for r in shop.yookassa.requests if r.path.endswith("/payments"))
    answer = await refund(admin, f"/refund {whole_id}")
    assert "выполнен" in answer, answer
    [(amount, receipt)] = _receipts(shop, whole_provider)
    assert amount == Decimal("2500.00")
    assert receipt["customer"] == {"email": "olga@example.com"}
    assert receipt["customer"] == sold["receipt"]["customer"]
    assert _lines(receipt) == [
        ("Взрослый", Decimal(2), "1000.00"),
        ("Детский", Decimal(1), "500.00"),
    ]
    assert [i["description"] for i in receipt["items"]] == [
        i["description"] for i in sold["receipt"]["items"]
    ]

    # Another payment refunded in two parts: each receipt is a share of every line, in whole
    # kopecks, adding up to exactly the amount refunded.
    part_id, part_provider = await _buy(shop, 5602, "ivan@example.com")
    assert "выполнен" in await refund(admin, f"/refund {part_id} 333.33")
    assert "выполнен" in await refund(admin, f"/refund {part_id}")
    (first, first_receipt), (rest, rest_receipt) = _receipts(shop, part_provider)
    assert (first, rest) == (Decimal("333.33"), Decimal("2166.67"))
    assert _lines(first_receipt) == [
        ("Взрослый", Decimal(1), "266.66"),
        ("Детский", Decimal(1), "66.67"),
    ]
    assert _lines(rest_receipt) == [
        ("Взрослый", Decimal(1), "1733.33"),
        ("Детский", Decimal(1), "433.34"),
    ]
    assert _sum(first_receipt) == first
    assert _sum(rest_receipt) == rest
    assert first_receipt["customer"] == rest_receipt["customer"] == {"email": "ivan@example.com"}
    assert all(
        item["vat_code"] == 1 and item["payment_subject"] == "service"
        for receipt in (first_receipt, rest_receipt)
        for item in receipt["items"]
    )
