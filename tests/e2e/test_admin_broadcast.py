"""/broadcast end to end through the outbox: 300 recipients within the limits, blocked users
marked, the progress message, Stop, and a restart mid-way that resumes without doubles.

The real Bot and SDK against the local Telegram and YooKassa; the service's own sending lane.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import func, select

from db.models import (
    AuditLog,
    User,
)
from db.models_outbox import OutboxMessage
from tests.e2e.admin_chat import (
    add_users,
    ask,
    plain_text,
)
from tests.e2e.conftest import ADMIN_ID, ShopFactory


@pytest.mark.slow
async def test_broadcast_to_300_within_limits_loses_nothing(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    ids = list(range(700_001, 700_301))
    await add_users(shop, ids)
    blocked = {ids[10], ids[150], ids[299]}
    for uid in blocked:
        shop.telegram.block(uid)
    shop.telegram.rate_limit(30, retry_after=1)
    admin = shop.telegram.user(ADMIN_ID)
    await admin.send("/broadcast Привет! <Скидки> & <b>новости</b>")
    confirm = await admin.wait_reply()
    assert "Отправить это сообщение 300 получателям?" in plain_text(confirm)
    typed = "Привет! <Скидки> & <b>новости</b>"  # no entities: the tags are plain text
    assert typed in plain_text(confirm)
    # Four 429s: the lane puts each refused message back for retry_after (that chat only) and
    # sends it then; the rest of the broadcast goes on meanwhile.
    shop.telegram.fail_next(
        "sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, times=4
    )
    await admin.press("✅ Отправить", confirm)
    final = await admin.wait_for(lambda m: "завершена: 300/300" in (m.text or ""), timeout=40)
    assert "Доставлено: 297 · заблокировали бота: 3 · ошибок: 0" in plain_text(final)
    assert not final.buttons

    for uid in ids:
        messages = shop.telegram.chat(uid).bot_messages
        if uid in blocked:
            assert messages == []
        else:
            assert [m.text for m in messages] == [typed], uid
    # The confirmation, 300 recipients and the 4 injected 429s: the pace itself never hit the
    # fake's 30/s limit, and the message behind the injected 429s was sent once it passed.
    assert len(shop.telegram.calls("sendMessage")) == 1 + 300 + 4
    edits = [
        e
        for e in shop.telegram.chat(ADMIN_ID).events
        if e.kind == "edit" and e.message.message_id == confirm.message_id
    ]
    assert 5 <= len(edits) < 60  # progress as it goes, not per message
    assert any("/300" in (e.message.text or "") and e.message.buttons for e in edits)
    async with shop.service.sessionmaker() as session:
        marked = (await session.execute(select(User.id).where(User.is_blocked.is_(True)))).scalars()
        assert {int(uid) for uid in marked} == blocked
        draft = (
            await session.execute(select(AuditLog).where(AuditLog.action == "broadcast"))
        ).scalar_one()
        rows = Counter(
            (status, error)
            for status, error in (
                await session.execute(
                    select(OutboxMessage.status, OutboxMessage.last_error).where(
                        OutboxMessage.broadcast_id == draft.id
                    )
                )
            ).all()
        )
    assert draft.result == "sent 297 of 300; blocked 3; failed 0; retries 4", draft.result
    assert draft.args["text"] == "Привет! &lt;Скидки&gt; &amp; &lt;b&gt;новости&lt;/b&gt;"
    assert rows[("failed", "blocked")] == 3
    assert sum(n for (status, _), n in rows.items() if status == "sent") == 297
    assert sum(rows.values()) == 300


async def test_broadcast_can_be_stopped_and_sent_only_once(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    ids = list(range(710_001, 710_201))
    await add_users(shop, ids)
    admin = shop.telegram.user(ADMIN_ID)
    await admin.send("/broadcast Stop me")
    confirm = await admin.wait_reply()
    await admin.press("✅ Отправить", confirm)
    running = await admin.wait_for(lambda m: "⏹ Остановить" in m.button_texts(), timeout=10)
    draft_id = int(re.search(r"#(\d+)", running.text or "").group(1))  # type: ignore[union-attr]
    await admin.press_data(f"bc:send:{draft_id}")
    assert "уже отправлена" in ((await admin.wait_callback_answer()).text or "")
    await admin.wait_for(
        lambda m: re.search(r": [1-9]\d*/200", m.text or "") is not None and bool(m.buttons),
        timeout=10,
    )
    await admin.press("⏹ Остановить", running)
    assert "Останавливаю" in ((await admin.wait_callback_answer()).text or "")
    stopped = await admin.wait_for(lambda m: "остановлена" in (m.text or ""), timeout=10)
    done = int(re.search(r"(\d+)/200", stopped.text or "").group(1))  # type: ignore[union-attr]
    assert 0 < done < 200
    got = [uid for uid in ids if shop.telegram.chat(uid).bot_messages]
    assert len(got) == done
    assert all(len(shop.telegram.chat(uid).bot_messages) == 1 for uid in got)
    async with shop.service.sessionmaker() as session:
        statuses = dict(
            (
                await session.execute(
                    select(OutboxMessage.status, func.count())
                    .where(OutboxMessage.broadcast_id == draft_id)
                    .group_by(OutboxMessage.status)
                )
            ).all()
        )
        result = await session.scalar(select(AuditLog.result).where(AuditLog.id == draft_id))
    # Nothing is left to send: what was not delivered is canceled (or given up unsent by the
    # deliverer, for the rows the lane held in hand when Stop came).
    assert statuses["sent"] == done
    assert "pending" not in statuses and "sending" not in statuses
    assert result == f"sent {done} of 200; blocked 0; failed 0; retries 0; stopped at {done}/200"
    await admin.press_data(f"bc:stop:{draft_id}")
    assert "уже отправлена" in ((await admin.wait_callback_answer()).text or "")

    await admin.send("/broadcast Never mind")
    second = await admin.wait_reply()
    await admin.press("✖️ Отмена", second)
    assert "отменена" in plain_text(await admin.wait_reply())
    assert not any(
        "Never mind" in plain_text(m) for uid in ids for m in shop.telegram.chat(uid).bot_messages
    )
    assert "Использование: /broadcast" in await ask(admin, "/broadcast")


async def test_a_broadcast_cut_by_a_restart_resumes_and_sends_each_message_once(
    make_shop: ShopFactory,
) -> None:
    first = await make_shop()
    ids = list(range(720_001, 720_151))
    await add_users(first, ids)
    admin = first.telegram.user(ADMIN_ID)
    await admin.send("/broadcast Resume me")
    confirm = await admin.wait_reply()
    await admin.press("✅ Отправить", confirm)
    running = await admin.wait_for(
        lambda m: re.search(r": [1-9]\d*/150", m.text or "") is not None and bool(m.buttons),
        timeout=10,
    )
    draft_id = int(re.search(r"#(\d+)", running.text or "").group(1))  # type: ignore[union-attr]
    await first.service.stop()  # mid-way: the lane gives back the rows it held
    before = Counter(uid for uid in ids for _ in first.telegram.chat(uid).bot_messages)
    assert 0 < len(before) < 150
    async with first.service.sessionmaker() as session:
        result = await session.scalar(select(AuditLog.result).where(AuditLog.id == draft_id))
    assert result == "sending"

    second = await make_shop()  # the same database: a restart
    final = await admin.wait_for(lambda m: "завершена: 150/150" in (m.text or ""), timeout=30)
    assert final.message_id == confirm.message_id  # the same progress message, watched again
    assert "Доставлено: 150 · заблокировали бота: 0 · ошибок: 0" in plain_text(final)
    per_chat = Counter(uid for uid in ids for _ in second.telegram.chat(uid).bot_messages)
    assert set(per_chat) == set(ids)
    assert set(per_chat.values()) == {1}, [uid for uid, n in per_chat.items() if n > 1]
    async with second.service.sessionmaker() as session:
        result = await session.scalar(select(AuditLog.result).where(AuditLog.id == draft_id))
    assert result == "sent 150 of 150; blocked 0; failed 0; retries 0"
