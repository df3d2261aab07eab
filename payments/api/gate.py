"""The gate API for the Mini App's scanner: the day's lists, one check-in, a sync of queued ones.

Staff only (STAFF_IDS and admins; 403 for customers). Every check-in goes through the same
use-case as /checkin in the chat (payments/admin/checkin.py): one conditional UPDATE, the
signature of QR content checked first, who and which device recorded.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI

from db.repositories.users import get_user
from payments.admin.checkin import Admission
from payments.api.auth import StaffPrincipal
from payments.api.context import ApiContext, context, iso
from payments.api.gate_schemas import (
    CheckinIn,
    CheckinOut,
    GateOut,
    GateTicketOut,
    Reason,
    SyncIn,
    SyncOut,
    SyncResultOut,
    UsedOut,
)
from payments.api.schemas import ErrorOut
from payments.receipts import ticket_title

Ctx = Annotated[ApiContext, Depends(context)]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No valid token"},
    403: {"model": ErrorOut, "description": "Not gate staff or an admin"},
}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    400: {"model": ErrorOut, "description": "The body cannot be read (not UTF-8)"},
    422: {"model": ErrorOut, "description": "Validation failed; `errors` names the fields"},
}
REASONS: dict[str, Reason] = {
    "ticket_used": "used",
    "ticket_refunded": "refunded",
    "ticket_other_day": "other_day",
    "ticket_test": "test",
    "ticket_not_found": "not_found",
    "ticket_forged": "forged",
}

router = APIRouter(prefix="/api/v2/app/gate", tags=["Gate"])


def _staff_id(user_id: str) -> int:
    # Staff and admins are Telegram users: their ids are numbers (auth.is_staff checked that).
    return int(user_id)


async def _language(api: ApiContext, user_id: str) -> str:
    async with api.sessionmaker() as session:
        user = await get_user(session, user_id)
    return user.language if user else "ru"


def _day(value: date) -> str:
    return value.isoformat()


def _answer(api: ApiContext, admission: Admission, lang: str) -> CheckinOut:
    """Turn a use-case's admission into the wire answer."""
    ticket = admission.ticket
    seen = (
        GateTicketOut(
            code=ticket.code,
            ticketType=ticket.ticket_type,
            title=ticket_title(api.catalog, ticket.ticket_type, lang),
            visitDate=_day(ticket.visit_date),
            visitTime=ticket.slot_time,
        )
        if ticket
        else None
    )
    if admission.check_in is not None:
        done = admission.check_in
        return CheckinOut(
            admitted=True,
            reason=None,
            ticket=seen,
            usedAt=iso(done.checked_in_at),
            usedBy=done.checked_in_by,
            usedDevice=done.checked_in_device,
        )
    refusal = admission.refusal
    assert refusal is not None  # noqa: S101 - admitted or refused, never neither
    # Only a used ticket's refusal carries when, by whom and where (checkin._check_in_refusal).
    at, by, device = (refusal.values.get(name) for name in ("at", "by", "device"))
    return CheckinOut(
        admitted=False,
        reason=REASONS[refusal.reason],
        ticket=seen,
        usedAt=iso(at) if isinstance(at, datetime) else None,
        usedBy=by if isinstance(by, int) else None,
        usedDevice=device if isinstance(device, str) else None,
    )


@router.get(
    "",
    response_model=GateOut,
    responses=ERRORS,
    summary="The scanner's day: the signing key and today's used and refunded tickets",
    description="What a scanner caches to answer without the network: it checks a QR's "
    "signature with `publicKey` (Ed25519, WebCrypto) and looks the code up in `used` and "
    "`refunded`. `today` is the shop's date in `timezone`.",
)
async def gate_day(_: StaffPrincipal, api: Ctx) -> GateOut:
    """Return the public key and today's used and refunded tickets."""
    day = await api.checkins.day()
    return GateOut(
        publicKey=api.signer.public_key,
        keyId=api.signer.key_id,
        today=_day(day.today),
        timezone=day.timezone,
        used=[UsedOut(code=u.code, at=iso(u.at), by=u.by, device=u.device) for u in day.used],
        refunded=day.refunded,
    )


@router.post(
    "/checkin",
    response_model=CheckinOut,
    responses=BODY_ERRORS,
    summary="Check a ticket in: QR content (signature checked) or a printed code",
    description="Admits a valid ticket for today once, recording who (the token's user) and "
    "`device`. A refusal is a 200 with `admitted: false` and the `reason`; for `used`, "
    "`usedAt`/`usedBy`/`usedDevice` say when, by whom and where it was checked in first.",
)
async def check_in(body: CheckinIn, principal: StaffPrincipal, api: Ctx) -> CheckinOut:
    """Check one scanned or typed ticket in."""
    staff_id = _staff_id(principal.user_id)
    admission = await api.checkins.admit(staff_id, body.qr, device=body.device)
    return _answer(api, admission, await _language(api, principal.user_id))


@router.post(
    "/sync",
    response_model=SyncOut,
    responses=BODY_ERRORS,
    summary="Send the admissions an offline scanner queued",
    description="Each is checked in as of its `scannedAt` (never later than now). A ticket "
    "that another scan had checked in comes back `admitted: false`, `reason: used`, "
    "`twice: true`: the gate let two people in while it was offline. Sending the same queue "
    "again is harmless: an admission already recorded comes back admitted.",
)
async def sync(body: SyncIn, principal: StaffPrincipal, api: Ctx) -> SyncOut:
    """Check the queued admissions in, in the order sent."""
    staff_id = _staff_id(principal.user_id)
    lang = await _language(api, principal.user_id)
    results: list[SyncResultOut] = []
    for item in body.checkins:
        admission = await api.checkins.admit(
            staff_id, item.qr, device=item.device, scanned_at=item.scannedAt
        )
        answer = _answer(api, admission, lang)
        results.append(SyncResultOut(**answer.model_dump(), twice=admission.twice))
    return SyncOut(results=results)


def setup(app: FastAPI) -> None:
    """Add the gate routes."""
    app.include_router(router)
