"""Compose the HTTP app: health, the sandbox, the REST API of both seeds, YooKassa's webhook,
the Mini App's files."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from payments.api import burlive, gate, miniapp, zooticket
from payments.api.app import create_app
from payments.api.auth import Tokens
from payments.api.context import ApiContext
from payments.api.health import V1_HEALTH_PATH, DatabaseCheck, watch_database
from payments.api.served import CustomersServed
from payments.catalog import Catalog
from payments.compose import Payments
from payments.miniapp import setup as setup_miniapp
from payments.ports import Clock
from payments.yookassa.webhook import WEBHOOK_PATH


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """The plain values the REST API is built from."""

    docs: bool
    # None: a random secret for this process (tokens die with it).
    jwt_secret: str | None
    jwt_ttl_minutes: int
    # Checks Mini App initData; None: no bot, so no initData sign-in.
    bot_token: str | None
    init_data_max_age: int
    admin_ids: frozenset[int]
    staff_ids: frozenset[int]
    test_user_ids: frozenset[str]


def setup(app: FastAPI, api: ApiContext) -> None:
    """Keep the API's services on the app and add the /v1 and /api/v2 routes (and the gate's)."""
    app.state.api = api
    zooticket.setup(app)
    burlive.setup(app)
    miniapp.setup(app)
    gate.setup(app)


def create_http_app(
    config: ApiConfig,
    *,
    payments: Payments,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    catalog: Catalog,
    clock: Clock,
) -> FastAPI:
    """Create the app with every route of the payments part (the bot adds its own webhook)."""
    sandbox = payments.sandbox is not None
    app = create_app(sandbox=sandbox, docs=config.docs)
    watch_database(app, DatabaseCheck(engine))
    # First after /health: a request is matched against the routers in the order they were
    # added, and YooKassa's notifications are the busiest POST (a sale's rush of them).
    payments.setup_webhook(app)
    payments.setup_sandbox(app)
    api = ApiContext(
        sessionmaker=sessionmaker,
        checkout=payments.checkout,
        fulfilment=payments.fulfilment,
        sessions=payments.sessions,
        rules=payments.rules,
        catalog=catalog,
        clock=clock,
        tokens=Tokens(config.jwt_secret or secrets.token_urlsafe(48), config.jwt_ttl_minutes),
        bot_token=config.bot_token,
        init_data_max_age=config.init_data_max_age,
        admin_ids=config.admin_ids,
        staff_ids=config.staff_ids,
        test_user_ids=config.test_user_ids,
        # /auth/test-user without an admin's token: only while payments run in the sandbox.
        allow_test_users=sandbox,
        account=payments.account,
        availability=payments.availability,
        sandbox=sandbox,
        checkins=payments.admin.checkin,
        signer=payments.signer,
        renewals=payments.renewals,
        auto_renewal=payments.auto_renewal,
    )
    setup(app, api)
    setup_miniapp(app)
    app.add_middleware(
        CustomersServed, crowd=payments.crowd, skip=frozenset({WEBHOOK_PATH, V1_HEALTH_PATH})
    )
    return app
