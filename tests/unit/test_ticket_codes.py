"""Ticket codes (payments/tickets/codes.py): readable at a gate, unguessable, typed any way."""

from __future__ import annotations

import math
import re

from payments.tickets.codes import ALPHABET, canonical_code, lookup_forms, new_ticket_code

SHAPE = re.compile(r"^ZT-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


def test_new_codes_are_grouped_crockford_with_60_random_bits() -> None:
    codes = {new_ticket_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(SHAPE.match(code) for code in codes), [c for c in codes if not SHAPE.match(c)]
    assert not set("ILOU") & set(ALPHABET)
    body_length = len(next(iter(codes)).replace("-", "")) - len("ZT")
    assert body_length * math.log2(len(ALPHABET)) >= 60
    used = {char for code in codes for char in code[3:].replace("-", "")}
    assert used == set(ALPHABET)  # every symbol drawn: no bias to a subset


def test_a_code_is_read_whatever_the_case_spaces_dashes_and_confusables() -> None:
    stored = "ZT-7K3M-9QXD-2FA0"
    for typed in (
        stored,
        "zt-7k3m-9qxd-2fa0",
        "zt 7k3m 9qxd 2fa0",
        "ZT7K3M9QXD2FA0",
        "7K3M-9QXD-2FA0",
        "7k3m 9qxd 2fao",  # O typed for zero
        " ZT–7K3M—9QXD-2FA0 ",  # dashes a phone keyboard makes
    ):
        assert canonical_code(typed) == stored, typed
    assert canonical_code("ZT-1111-1111-1111") == canonical_code("zt-iiii-llll-1111")
    for not_ours in ("", "ZT-7K3M-9QXD-2FA", "ZT-7K3M-9QXD-2FAU", "NOPE", "7K3M9QXD2FA0Z"):
        assert canonical_code(not_ours) is None, not_ours


def test_older_codes_are_looked_up_exactly_as_typed() -> None:
    old = "Ab3_x-9QzK2mPq7wLr5T"  # token_urlsafe, issued before the readable codes
    assert lookup_forms(old) == (old,)
    assert lookup_forms(f"  {old} ") == (old,)
    assert lookup_forms("zt 7k3m 9qxd 2fa0") == ("ZT-7K3M-9QXD-2FA0", "zt 7k3m 9qxd 2fa0")
    assert lookup_forms("ZT-7K3M-9QXD-2FA0") == ("ZT-7K3M-9QXD-2FA0",)
