"""Ticket codes a gatekeeper can read and type: Crockford base32, grouped, 60 random bits.

A new code looks like `ZT-7K3M-9QXD-2FAB`: the shop's prefix and 12 characters of Crockford's
alphabet (no I, L, O or U), in groups of four. That is 60 random bits, so codes stay
unguessable, and nothing in them can be misread at a gate.

What an admin types is normalised before the look-up: case, spaces and dashes do not matter,
the prefix may be left out, and Crockford's confusables are read as the digits they stand for
(O → 0, I and L → 1). Codes issued before this format (URL-safe tokens) are looked up as typed.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
PREFIX = "ZT"
GROUPS = 3
GROUP_LENGTH = 4
BODY_LENGTH = GROUPS * GROUP_LENGTH  # 12 characters × 5 bits = 60 random bits

_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015_]+")
_CONFUSABLES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_BODY = re.compile(f"^[{ALPHABET}]{{{BODY_LENGTH}}}$")


def _display(body: str) -> str:
    groups = [body[i : i + GROUP_LENGTH] for i in range(0, BODY_LENGTH, GROUP_LENGTH)]
    return "-".join((PREFIX, *groups))


def new_ticket_code() -> str:
    """Return a new unguessable ticket code, e.g. `ZT-7K3M-9QXD-2FAB` (60 random bits)."""
    return _display("".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH)))


def canonical_code(typed: str) -> str | None:
    """Return the stored form of a typed code, or None if it is not one of ours.

    `zt 7k3m 9qxd 2fab`, `ZT7K3M9QXD2FAB` and `7K3M-9QXD-2FAB` all give `ZT-7K3M-9QXD-2FAB`;
    `ZT-7K3M-9QXD-2FAO` gives `ZT-7K3M-9QXD-2FA0` (O is read as zero).
    """
    text = _SEPARATORS.sub("", typed).upper()
    if len(text) == len(PREFIX) + BODY_LENGTH and text.startswith(PREFIX):
        text = text[len(PREFIX) :]
    body = text.translate(_CONFUSABLES)
    return _display(body) if _BODY.match(body) else None


def lookup_forms(typed: str) -> tuple[str, ...]:
    """Return the stored codes a typed code may stand for: ours normalised, older ones as typed."""
    exact = typed.strip()
    canonical = canonical_code(exact)
    forms = [canonical] if canonical else []
    if exact and exact not in forms:
        forms.append(exact)
    return tuple(forms)
