"""Signed ticket QR content: the exact format, a round trip, and every tampering refused."""

from __future__ import annotations

import base64
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from payments.tickets.signing import (
    BadQr,
    SignedTicket,
    TicketSigner,
    b64url,
    looks_signed,
)
from settings_values import seed_bytes

SEED = bytes(range(32))
CODE = "ZT-7K3M-9QXD-2FAB"


@pytest.fixture
def signer() -> TicketSigner:
    return TicketSigner(SEED)


def _content(signer: TicketSigner, *, is_test: bool = False) -> str:
    return signer.content(CODE, date(2026, 12, 5), "14:00", "adult", is_test=is_test)


def test_content_has_the_contract_format_and_reads_back(signer: TicketSigner) -> None:
    content = _content(signer)
    payload, signature = content.rsplit(".", 1)
    assert payload == f"ZT1.{CODE}.20261205.1400.adult.p"
    assert "=" not in signature and len(base64.urlsafe_b64decode(signature + "==")) == 64
    assert signer.verify(content) == SignedTicket(CODE, date(2026, 12, 5), "14:00", "adult", False)
    test = signer.verify(_content(signer, is_test=True))
    assert isinstance(test, SignedTicket) and test.is_test
    assert ".t." in _content(signer, is_test=True)
    assert looks_signed(content) and not looks_signed(CODE) and not looks_signed("zt7k3m9qxd2fab")


def test_anyone_with_the_public_key_can_check_it(signer: TicketSigner) -> None:
    """What the scanner does in the browser: raw public key, signature over the payload."""
    payload, signature = _content(signer).rsplit(".", 1)
    raw = base64.urlsafe_b64decode(signer.public_key + "=" * (-len(signer.public_key) % 4))
    assert len(raw) == 32 and "=" not in signer.public_key
    Ed25519PublicKey.from_public_bytes(raw).verify(
        base64.urlsafe_b64decode(signature + "=="), payload.encode()
    )
    assert len(signer.key_id) == 8 and int(signer.key_id, 16) >= 0
    assert TicketSigner(SEED).public_key == signer.public_key
    assert TicketSigner(bytes(32)).key_id != signer.key_id


@pytest.mark.parametrize(
    "field",
    ["code", "date", "slot", "type", "flag"],
)
def test_a_changed_field_is_forged(signer: TicketSigner, field: str) -> None:
    parts = _content(signer).split(".")
    index = {"code": 1, "date": 2, "slot": 3, "type": 4, "flag": 5}[field]
    parts[index] = {
        "code": "ZT-7K3M-9QXD-2FAC",
        "date": "20261206",
        "slot": "1000",
        "type": "child",
        "flag": "t",
    }[field]
    assert signer.verify(".".join(parts)) == BadQr("forged")


def test_another_keys_signature_and_a_flipped_bit_are_forged(signer: TicketSigner) -> None:
    other = TicketSigner(bytes(32))
    assert signer.verify(_content(other)) == BadQr("forged")
    payload, signature = _content(signer).rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[10] ^= 0x01
    assert signer.verify(f"{payload}.{b64url(bytes(raw))}") == BadQr("forged")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ZT1.",
        CODE,
        f"ZT2.{CODE}.20261205.1400.adult.p.AAAA",
        f"ZT1.{CODE}.20261205.1400.adult.p",
        f"ZT1.{CODE}.20261305.1400.adult.p.{'A' * 86}",
        f"ZT1.{CODE}.20261205.2400.adult.p.{'A' * 86}",
        f"ZT1.{CODE}.20261205.1400.Adult.p.{'A' * 86}",
        f"ZT1.{CODE}.20261205.1400.adult.x.{'A' * 86}",
        f"ZT1.{CODE}.20261205.1400.adult.p.{'A' * 40}",
        f"ZT1.{CODE}.20261205.1400.adult.p.{'+' * 86}",
        f"ZT1.{CODE}.20261205.1400.adult.p.{'A' * 86}.extra",
    ],
)
def test_malformed_content_is_told_apart(signer: TicketSigner, text: str) -> None:
    assert signer.verify(text) == BadQr("malformed")


def test_seed_must_be_32_bytes_of_base64() -> None:
    text = base64.b64encode(SEED).decode()
    assert seed_bytes(text) == SEED
    assert seed_bytes(b64url(SEED)) == SEED
    for bad in ("", "not base64!", base64.b64encode(bytes(31)).decode()):
        with pytest.raises(ValueError, match="32"):
            seed_bytes(bad)
    with pytest.raises(ValueError, match="dot"):
        TicketSigner(SEED).content("ZT.1", date(2026, 1, 1), "10:00", "adult", is_test=False)
