"""The customer texts, split per journey, still form one table with one text per key."""

from __future__ import annotations

from bot.texts import (
    _TEXTS,
    admin,
    admin_screens,
    journeys,
    orders,
    refunds,
    shell,
    subscription,
    tickets,
)


def test_no_key_is_defined_in_two_journeys() -> None:
    modules = (shell, subscription, tickets, refunds, admin, admin_screens, orders, journeys)
    assert sum(len(module.TEXTS) for module in modules) == len(_TEXTS)
