"""The admin console as one frozen bundle of its use-cases, for wiring (main.py, the bot)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.reader import Reader
from payments.admin.broadcast import Broadcaster
from payments.admin.capacity import Capacity
from payments.admin.checkin import CheckIns
from payments.admin.export import Export
from payments.admin.figures import SalesFigures
from payments.admin.grants import Grants
from payments.admin.lookup import PaymentLookup
from payments.admin.prices import Prices
from payments.admin.refund_drafts import RefundDrafts
from payments.admin.refunds import Refunds
from payments.admin.settlement import RefundSettlement
from payments.admin.subscriptions import SubscriptionDesk
from payments.catalog import Catalog
from payments.ports import Clock, PaymentGateway
from payments.subscriptions.consent import AutoRenewal
from payments.tickets.signing import TicketSigner


@dataclass(frozen=True, slots=True)
class AdminConsole:
    """One object per admin capability; no behaviour of its own."""

    figures: SalesFigures
    lookup: PaymentLookup
    refunds: Refunds
    refund_drafts: RefundDrafts
    settlement: RefundSettlement
    grants: Grants
    prices: Prices
    capacity: Capacity
    checkin: CheckIns
    export: Export
    broadcaster: Broadcaster
    subscriptions: SubscriptionDesk


def create_admin_console(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    reader: Reader,
    gateway: PaymentGateway,
    catalog: Catalog,
    clock: Clock,
    tz: ZoneInfo,
    test_user_ids: frozenset[str],
    signer: TicketSigner,
    fallback_email_domain: str = "burlive.ru",
    wake: Callable[[], None] | None = None,
) -> AdminConsole:
    """Build every admin use-case, each with only the collaborators it uses.

    `wake` tells the sending lane that a customer's message was committed.
    """
    settlement = RefundSettlement(sessionmaker=sessionmaker, clock=clock, tz=tz, wake=wake)
    refunds = Refunds(
        sessionmaker=sessionmaker,
        gateway=gateway,
        settlement=settlement,
        catalog=catalog,
        clock=clock,
        fallback_email_domain=fallback_email_domain,
    )
    return AdminConsole(
        figures=SalesFigures(
            sessionmaker=sessionmaker,
            reader=reader,
            clock=clock,
            tz=tz,
            test_user_ids=test_user_ids,
        ),
        lookup=PaymentLookup(sessionmaker=sessionmaker, clock=clock),
        refunds=refunds,
        refund_drafts=RefundDrafts(sessionmaker=sessionmaker, refunds=refunds, clock=clock, tz=tz),
        settlement=settlement,
        grants=Grants(sessionmaker=sessionmaker, catalog=catalog, clock=clock, wake=wake),
        prices=Prices(sessionmaker=sessionmaker, catalog=catalog, clock=clock),
        capacity=Capacity(sessionmaker=sessionmaker, catalog=catalog, clock=clock, tz=tz),
        checkin=CheckIns(sessionmaker=sessionmaker, clock=clock, tz=tz, signer=signer),
        export=Export(sessionmaker=sessionmaker, reader=reader, clock=clock, tz=tz),
        broadcaster=Broadcaster(sessionmaker=sessionmaker, reader=reader, clock=clock),
        subscriptions=SubscriptionDesk(
            sessionmaker=sessionmaker,
            clock=clock,
            switches=AutoRenewal(sessionmaker=sessionmaker, clock=clock),
        ),
    )
