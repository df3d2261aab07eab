"""What the API routes need, kept on `app.state.api` by `setup()`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from payments.account import Account
from payments.admin.checkin import CheckIns
from payments.api.auth import Tokens
from payments.catalog import Catalog
from payments.checkout.flow import Checkout
from payments.fulfilment import Fulfilment
from payments.ports import Clock
from payments.sessions import Sessions
from payments.subscriptions.consent import AutoRenewal
from payments.subscriptions.renewal import Renewals
from payments.tickets.rules import Availability, TicketRules
from payments.tickets.signing import TicketSigner


@dataclass(frozen=True, slots=True)
class ApiContext:
    """Services and settings of the REST API."""

    sessionmaker: async_sessionmaker[AsyncSession]
    checkout: Checkout
    fulfilment: Fulfilment
    sessions: Sessions
    rules: TicketRules
    catalog: Catalog
    clock: Clock
    tokens: Tokens
    bot_token: str | None
    init_data_max_age: int
    admin_ids: frozenset[int]
    # Gate staff (STAFF_IDS): may check tickets in; admins may too.
    staff_ids: frozenset[int]
    test_user_ids: frozenset[str]
    # /auth/test-user without an admin's token: only while payments run in the sandbox.
    allow_test_users: bool
    # The Mini App's storefront reads: what a customer owns, and free seats.
    account: Account
    availability: Availability
    # Payments go to the embedded sandbox (no real money).
    sandbox: bool
    # The gate (payments/api/gate.py): check-ins, and the key the scanner checks QRs with.
    checkins: CheckIns
    signer: TicketSigner
    # Auto-renewal: its terms and next charge (renewals), the customer's switches.
    renewals: Renewals
    auto_renewal: AutoRenewal


def context(request: Request) -> ApiContext:
    """Return the API context of the app serving a request."""
    api: ApiContext = request.app.state.api
    return api


def iso(moment: datetime | None) -> str | None:
    """Format an instant as the seeds do: `2024-10-25T10:15:00Z`."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
