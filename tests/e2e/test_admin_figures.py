"""/stats and the /admin menu end to end.

The real Bot and SDK against the local Telegram and YooKassa.
"""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
import qrcode
from matplotlib.figure import Figure
from PIL import Image

from db.models import (
    Payment,
)
from tests.e2e.admin_chat import (
    PNG_SIGNATURE,
    audit_rows,
    buy_plan,
    buy_tickets,
    plain_text,
)
from tests.e2e.conftest import ADMIN_ID, ShopFactory


def drawn_in(monkeypatch: pytest.MonkeyPatch, owner: type[Any], name: str) -> list[int]:
    """Note the thread of every call of a drawing library's `owner.name` (it still draws)."""
    threads: list[int] = []
    draw = getattr(owner, name)

    def noted(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return draw(*args, **kwargs)

    monkeypatch.setattr(owner, name, noted)
    return threads


async def test_stats_sends_a_png_chart_and_the_figures_of_this_test(
    make_shop: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Drawing is CPU work: the chart and the tickets' QR codes are drawn in worker threads,
    # never on the event loop's, which every customer's update waits for.
    loop_thread = threading.get_ident()
    charts = drawn_in(monkeypatch, Figure, "savefig")
    codes = drawn_in(monkeypatch, qrcode.QRCode, "make")
    shop = await make_shop(TEST_USER_IDS="5103")
    await buy_tickets(shop, 5101, adults=2)
    await buy_plan(shop, 5102)
    test_payment = await buy_plan(shop, 5103)
    async with shop.service.sessionmaker() as session:
        assert (await session.get(Payment, test_payment)).is_test  # type: ignore[union-attr]
    admin = shop.telegram.user(ADMIN_ID, first_name="Admin")
    await admin.send("/stats")
    reply = await admin.wait_for(lambda m: bool(m.photos), timeout=15)
    png = reply.photos[-1]
    assert png.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        assert image.width > 600 and image.height > 300
    text = plain_text(reply)
    line = "выручка 2 299 ₽, возвраты 0 ₽, заказов 2, билетов 2, новых подписчиков 1"
    for period in ("Сегодня", "7 дней", "30 дней"):
        assert f"{period}: {line}" in text, text
    assert "Активных подписок сейчас: 1" in text
    assert "10 ₽" not in text
    assert charts and codes  # the chart, and the QR codes of the tickets bought above
    assert loop_thread not in charts + codes

    await admin.send("/admin")
    menu = await admin.wait_reply()
    assert {"📊 Продажи", "💰 Цены", "📄 Выгрузка за 30 дней", "❓ Команды"} <= set(
        menu.button_texts()
    )
    await admin.press("📊 Продажи")
    again = await admin.wait_for(lambda m: bool(m.photos), timeout=15)
    assert line in plain_text(again)
    await admin.press("❓ Команды", menu)
    helped = await admin.wait_for(lambda m: m.message_id == menu.message_id and m.edited)
    assert "/capacity <дата> <время> <мест>" in plain_text(helped)
    actions = [a.action for a in await audit_rows(shop)]
    assert actions.count("stats") == 2
