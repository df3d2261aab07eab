"""Tickets that prove themselves: the QR carries the ticket and an Ed25519 signature over it.

The content is `ZT1.<code>.<yyyymmdd>.<HHMM>.<ticketType>.<t|p>.<sig>`: the ticket code as
printed (`ZT-7K3M-9QXD-2FAB`), the visit day and slot, the ticket type, `t` for a test ticket
and `p` otherwise, and the base64url (no padding) signature over the UTF-8 bytes of everything
before the last dot. A scanner holding the public key tells a real ticket from a forged one
without the server; the server checks it again before a check-in.

The key is a 32-byte Ed25519 seed: from TICKET_SIGNING_KEY, or drawn on the first start and
kept in the database (`service_keys`) so every instance and every restart signs alike. The
`cryptography` package (about 11 MiB once loaded) is imported when the key is first used: the
first ticket, check-in or gate call, not at start-up.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories import service_keys

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

log = logging.getLogger(__name__)

VERSION = "ZT1"
SEED_LENGTH = 32
SIGNATURE_LENGTH = 64
# The name of the generated key in `service_keys`.
KEY_NAME = "ticket_signing"
_FIELDS = 7
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TYPE = re.compile(r"^[a-z0-9_-]{1,32}$")
_DAY = re.compile(r"^\d{8}$")
_HHMM = re.compile(r"^([01]\d|2[0-3])[0-5]\d$")
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")

QrProblem = Literal["forged", "malformed"]


@dataclass(frozen=True, slots=True)
class SignedTicket:
    """What a genuine QR says about its ticket."""

    code: str
    visit_date: date
    slot_time: str  # "10:00"
    ticket_type: str
    is_test: bool


@dataclass(frozen=True, slots=True)
class BadQr:
    """QR content that is not a genuine ticket: `forged` (signature) or `malformed` (shape)."""

    reason: QrProblem


def b64url(data: bytes) -> str:
    """Encode bytes as base64url without padding (what the QR and the gate API carry)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes | None:
    if not _B64URL.match(text):
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def new_seed() -> bytes:
    """Draw a new 32-byte Ed25519 seed."""
    return secrets.token_bytes(SEED_LENGTH)


def looks_signed(text: str) -> bool:
    """Whether a scanned or typed text claims to be signed QR content (not a printed code)."""
    return text.strip().startswith(f"{VERSION}.")


@dataclass(frozen=True, slots=True)
class _KeyPair:
    """The Ed25519 key made from the seed, its public half and what names it."""

    private: Ed25519PrivateKey
    public: Ed25519PublicKey
    public_key: str  # base64url of the raw public key
    key_id: str


class TicketSigner:
    """Sign ticket QR content and check it, with one Ed25519 key."""

    def __init__(self, seed: bytes) -> None:
        """Keep a 32-byte seed (never logged, never returned); the key is made on first use."""
        if len(seed) != SEED_LENGTH:
            raise ValueError("an Ed25519 seed is 32 bytes")
        self._seed = seed
        self._pair: _KeyPair | None = None

    def _keys(self) -> _KeyPair:
        if self._pair is None:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
            from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

            private = Ed25519PrivateKey.from_private_bytes(self._seed)
            public = private.public_key()
            raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
            # key_id names the key, so a scanner can tell a key change from a forged ticket.
            self._pair = _KeyPair(private, public, b64url(raw), hashlib.sha256(raw).hexdigest()[:8])
            log.info("tickets: QR signing key %s in use", self._pair.key_id)
        return self._pair

    @property
    def public_key(self) -> str:
        """Return the public key, base64url without padding (what scanners check with)."""
        return self._keys().public_key

    @property
    def key_id(self) -> str:
        """Return the key's name: the first 8 hex digits of the raw public key's SHA-256."""
        return self._keys().key_id

    def content(
        self, code: str, visit_date: date, slot_time: str, ticket_type: str, *, is_test: bool
    ) -> str:
        """Return the signed QR content of a ticket."""
        hhmm = slot_time.replace(":", "")
        flag = "t" if is_test else "p"
        payload = f"{VERSION}.{code}.{visit_date:%Y%m%d}.{hhmm}.{ticket_type}.{flag}"
        if len(payload.split(".")) != _FIELDS - 1:
            raise ValueError(f"a ticket field contains a dot: {payload!r}")
        signature = self._keys().private.sign(payload.encode("utf-8"))
        return f"{payload}.{b64url(signature)}"

    def verify(self, text: str) -> SignedTicket | BadQr:
        """Return what genuine QR content says, or why it is not genuine."""
        parts = text.strip().split(".")
        if len(parts) != _FIELDS or parts[0] != VERSION:
            return BadQr("malformed")
        _, code, day, hhmm, ticket_type, flag, sig = parts
        signature = _unb64url(sig)
        if (
            not _CODE.match(code)
            or not _DAY.match(day)
            or not _HHMM.match(hhmm)
            or not _TYPE.match(ticket_type)
            or flag not in {"t", "p"}
            or signature is None
            or len(signature) != SIGNATURE_LENGTH
        ):
            return BadQr("malformed")
        try:
            visit = datetime.strptime(day, "%Y%m%d").date()  # noqa: DTZ007 - a calendar day
        except ValueError:
            return BadQr("malformed")
        payload = text.strip().rsplit(".", 1)[0]
        public = self._keys().public  # imports cryptography (first use)
        from cryptography.exceptions import InvalidSignature

        try:
            public.verify(signature, payload.encode("utf-8"))
        except InvalidSignature:
            return BadQr("forged")
        return SignedTicket(
            code=code,
            visit_date=visit,
            slot_time=f"{hhmm[:2]}:{hhmm[2:]}",
            ticket_type=ticket_type,
            is_test=flag == "t",
        )


async def load_signer(
    sessionmaker: async_sessionmaker[AsyncSession], seed: bytes | None, now: datetime
) -> TicketSigner:
    """Return the signer of the configured seed, or of the one kept in the database.

    Without a configured seed the first start draws one and inserts it if no key of that name
    exists yet; every start then reads back whatever the database holds, so two instances
    starting at once end up with the same key (the loser's draw is dropped by the conflict).
    """
    if seed is not None:
        log.info("tickets: QR signing key from TICKET_SIGNING_KEY")
        return TicketSigner(seed)
    async with sessionmaker.begin() as session:
        created = await service_keys.insert_if_absent(
            session, KEY_NAME, b64url(new_seed()), now=now
        )
    async with sessionmaker() as session:
        stored = await service_keys.get(session, KEY_NAME)
    if stored is None:  # pragma: no cover - inserted or already there just above
        raise RuntimeError("the ticket signing key vanished from service_keys")
    # Written by this service as `b64url(new_seed())`; TICKET_SIGNING_KEY, typed by an operator
    # in any base64 spelling, is read by settings (settings_values.seed_bytes) instead.
    seed = _unb64url(stored)
    if seed is None or len(seed) != SEED_LENGTH:
        raise RuntimeError(
            f"the {KEY_NAME} key in service_keys is not base64url of a 32-byte seed: "
            "delete the row to draw a new key (printed tickets then read as forged)"
        )
    signer = TicketSigner(seed)
    # The key's id is logged when the key is first used (the first ticket or gate call).
    if created:
        log.info("tickets: generated a QR signing key, kept in the database")
    else:
        log.info("tickets: QR signing key from the database")
    return signer
