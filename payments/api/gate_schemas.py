"""Bodies of the gate API (payments/api/gate.py): the scanner's day, a check-in, a sync."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from payments.api.schemas import PlainText

MAX_SYNC = 200
# Signed QR content is about 160 characters; a typed code far less.
MAX_QR = 512

Reason = Literal["used", "refunded", "other_day", "test", "not_found", "forged"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class UsedOut(BaseModel):
    """A ticket of today already checked in."""

    code: str = Field(examples=["ZT-7K3M-9QXD-2FAB"])
    at: str | None = Field(description="ISO instant", examples=["2026-12-02T10:15:00Z"])
    by: int | None = Field(description="Telegram id of who checked it in", examples=[900001])
    device: str | None = Field(examples=["Gate 2"])


class GateOut(BaseModel):
    """What a scanner needs to answer on its own: the public key and today's lists."""

    publicKey: str = Field(  # noqa: N815
        description="Raw 32-byte Ed25519 public key, base64url without padding"
    )
    keyId: str = Field(description="8 hex digits naming the key")  # noqa: N815
    today: str = Field(description="YYYY-MM-DD in the shop's time zone", examples=["2026-12-02"])
    timezone: str = Field(examples=["Europe/Moscow"])
    used: list[UsedOut] = Field(description="Tickets checked in today")
    refunded: list[str] = Field(description="Codes of today's refunded tickets")


class CheckinIn(_Body):
    """POST /api/v2/app/gate/checkin: what was scanned or typed, and on which device."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"qr": "ZT-7K3M-9QXD-2FAB", "device": "Gate 2"}]}
    )

    qr: PlainText = Field(
        min_length=1,
        max_length=MAX_QR,
        description="The QR's content (`ZT1.…`, signature checked) or a printed or typed code",
    )
    device: PlainText | None = Field(default=None, min_length=1, max_length=64)


class GateTicketOut(BaseModel):
    """The scanned ticket, in the caller's language."""

    code: str
    ticketType: str  # noqa: N815
    title: str
    visitDate: str = Field(description="YYYY-MM-DD")  # noqa: N815
    visitTime: str = Field(examples=["14:00"])  # noqa: N815


class CheckinOut(BaseModel):
    """Let in or not, why not, and when, by whom and where the ticket was checked in."""

    admitted: bool
    reason: Reason | None = Field(description="null when admitted")
    ticket: GateTicketOut | None = Field(description="null for unknown and forged tickets")
    usedAt: str | None = Field(description="ISO instant of the check-in")  # noqa: N815
    usedBy: int | None  # noqa: N815
    usedDevice: str | None  # noqa: N815


class SyncItemIn(_Body):
    """One admission an offline scanner queued."""

    qr: PlainText = Field(min_length=1, max_length=MAX_QR)
    device: PlainText | None = Field(default=None, min_length=1, max_length=64)
    scannedAt: AwareDatetime = Field(  # noqa: N815
        description="When it was scanned (ISO instant); the check-in is recorded then"
    )


class SyncIn(_Body):
    """POST /api/v2/app/gate/sync: the queued admissions, oldest first."""

    checkins: list[SyncItemIn] = Field(max_length=MAX_SYNC)


class SyncResultOut(CheckinOut):
    """The answer to one queued admission."""

    twice: bool = Field(
        description="The ticket had been checked in by another scan: two people got in"
    )


class SyncOut(BaseModel):
    """One result per queued admission, in the order sent."""

    results: list[SyncResultOut]
