"""The Mini App API (`/api/v2`): Telegram sign-in, subscription payments and their status."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request

from db.models import User
from db.repositories.users import Profile, get_user, upsert_user
from payments.api.auth import (
    INIT_DATA_FIELD,
    CurrentPrincipal,
    InitDataError,
    OptionalPrincipal,
    submitted_init_data,
    verify_init_data,
)
from payments.api.context import ApiContext, context
from payments.api.errors import ApiError, checkout_failure, invalid
from payments.api.schemas import AuthOut, CreateIn, CreateOut, ErrorOut, StatusOut, TestUserIn
from payments.checkout.errors import CheckoutError, UnknownProduct
from payments.fulfilment import Outcome
from payments.pricing import is_test_user
from payments.sessions import NotFound
from payments.subscriptions.consent import AutoRenewConsent
from payments.subscriptions.terms import TERMS_VERSION
from payments.types import PaymentStatus

log = logging.getLogger(__name__)

Ctx = Annotated[ApiContext, Depends(context)]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No valid token"},
    422: {"model": ErrorOut, "description": "Validation failed; `errors` names the fields"},
}
# FastAPI answers 400 (not 422) to a body that is not UTF-8.
BAD_BODY: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The body cannot be read (not UTF-8)"},
}
PAID = {PaymentStatus.SUCCEEDED.value, PaymentStatus.WAITING_FOR_CAPTURE.value}

router = APIRouter(prefix="/api/v2", tags=["ZooTicket Mini App /api/v2"])


def _auth_answer(api: ApiContext, user: User, *, is_new: bool, may_admin: bool = True) -> AuthOut:
    is_admin = (
        may_admin and user.id.isascii() and user.id.isdigit() and int(user.id) in api.admin_ids
    )
    return AuthOut(
        userId=user.id,
        isFirstOpen=is_new,
        onboardingCompleted=user.onboarding_completed or user.first_paid_at is not None,
        accessToken=api.tokens.issue(user.id, is_admin=is_admin, now=api.clock.now()),
    )


VERIFY_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Init data missing, invalid or too old"},
}
_INIT_DATA_BODY = {
    "type": "object",
    "properties": {
        INIT_DATA_FIELD: {
            "type": "string",
            "description": "The Mini App's `Telegram.WebApp.initData`, as it is",
        }
    },
    "required": [INIT_DATA_FIELD],
}
_TMA_HEADER = {
    "name": "Authorization",
    "in": "header",
    "required": False,
    "description": "`tma <initData>`, the Mini App convention; keeps the init data out of URLs",
    "schema": {"type": "string"},
}
VERIFY_DESCRIPTION = (
    "The Mini App's `initData` goes in `Authorization: tma <initData>` (preferred), in a POST "
    "body, or, as the seed sends it, as the query string of a GET. The HMAC is checked with the "
    "bot token and `auth_date` must be recent. `onboardingCompleted` is true once the user has "
    "paid for something."
)


@router.get(
    "/auth/verify",
    response_model=AuthOut,
    responses=VERIFY_ERRORS,
    summary="Telegram Mini App init data → access token",
    description=VERIFY_DESCRIPTION,
    openapi_extra={"parameters": [_TMA_HEADER]},
)
async def verify(request: Request, api: Ctx) -> AuthOut:
    """Check Telegram's signature on the init data and return a short-lived token."""
    return await _sign_in(api, await submitted_init_data(request))


@router.post(
    "/auth/verify",
    response_model=AuthOut,
    responses={
        **VERIFY_ERRORS,
        **BAD_BODY,
        415: {"model": ErrorOut, "description": "The body is neither JSON nor a form"},
        422: {"model": ErrorOut, "description": "A JSON body without an `initData` string"},
    },
    summary="Telegram Mini App init data (header or body) → access token",
    description=VERIFY_DESCRIPTION,
    openapi_extra={
        "parameters": [_TMA_HEADER],
        "requestBody": {
            "required": False,
            "content": {
                "application/json": {"schema": _INIT_DATA_BODY},
                "application/x-www-form-urlencoded": {"schema": _INIT_DATA_BODY},
            },
        },
    },
)
async def verify_posted(request: Request, api: Ctx) -> AuthOut:
    """Sign in with init data sent in the Authorization header or the body, never the URL."""
    return await _sign_in(api, await submitted_init_data(request))


async def _sign_in(api: ApiContext, init_data: str) -> AuthOut:
    if api.bot_token is None:
        raise ApiError(401, "Telegram sign-in is unavailable: the bot is not configured")
    try:
        tg_user = verify_init_data(init_data, api.bot_token, api.init_data_max_age, api.clock.now())
    except InitDataError as exc:
        raise ApiError(401, f"Invalid init data: {exc}") from None
    profile = Profile(
        id=str(tg_user.id),
        first_name=tg_user.first_name,
        last_name=tg_user.last_name,
        username=tg_user.username,
        language="en" if (tg_user.language_code or "").startswith("en") else "ru",
    )
    async with api.sessionmaker.begin() as session:
        is_new = await upsert_user(session, profile, api.clock.now())
        user = await get_user(session, profile.id)
        assert user is not None  # noqa: S101 - just upserted
        return _auth_answer(api, user, is_new=is_new)


@router.post(
    "/auth/test-user",
    response_model=AuthOut,
    responses={
        403: {"model": ErrorOut, "description": "Real payments and not an admin's token"},
        **ERRORS,
        **BAD_BODY,
    },
    summary="Create a test user (10 ₽ prices) and return its token",
    description="Open in sandbox mode (no YooKassa credentials); with real credentials it needs "
    "an admin's token, whatever APP_ENV says. The id must contain `test` or be listed in "
    "TEST_USER_IDS. The token is always a user's, even for an id that is also in ADMIN_IDS.",
)
async def create_test_user(body: TestUserIn, principal: OptionalPrincipal, api: Ctx) -> AuthOut:
    """Create (or refresh) a test user and return a token for it."""
    if not api.allow_test_users and not (principal and principal.is_admin):
        raise ApiError(403, "With real payments only an admin can create test users")
    if not is_test_user(body.userId, api.test_user_ids):
        raise invalid("userId", "a test user's id contains 'test' or is listed in TEST_USER_IDS")
    profile = Profile(
        id=body.userId, first_name=body.firstName, last_name=None, username=None, language="ru"
    )
    async with api.sessionmaker.begin() as session:
        is_new = await upsert_user(session, profile, api.clock.now())
        user = await get_user(session, body.userId)
        assert user is not None  # noqa: S101 - just upserted
        if body.email:
            user.email = body.email
        # Whoever may mint a test user must not mint an admin: an id in both lists stays a user.
        return _auth_answer(api, user, is_new=is_new, may_admin=False)


@router.post(
    "/payments/create",
    response_model=CreateOut,
    responses={
        **ERRORS,
        **BAD_BODY,
        409: {"model": ErrorOut, "description": "`termsVersion` is not the current terms"},
        429: {"model": ErrorOut, "description": "Too many unfinished payments; see Retry-After"},
        503: {"model": ErrorOut, "description": "YooKassa did not answer; nothing was charged"},
    },
    summary="Create a subscription payment for the token's user",
    description=(
        "The price comes from the user's cohort (test users pay 10.00). The user is the "
        "token's subject: a `userId` in the body is ignored. With `autoRenew` (and the "
        "`termsVersion` shown), the consent is stored (channel `miniapp`) and YooKassa saves "
        "the card for renewals."
    ),
)
async def create_payment(body: CreateIn, principal: CurrentPrincipal, api: Ctx) -> CreateOut:
    """Start a subscription payment and return the YooKassa page to send the user to."""
    consent = _consent(body.autoRenew, body.termsVersion)
    try:
        result = await api.checkout.start_subscription(
            principal.user_id,
            body.product,
            return_url=body.returnUrl,
            source="api",
            auto_renew=consent,
        )
    except UnknownProduct:
        plans = ", ".join(p.code for p in api.catalog.rouble_plans)
        raise invalid("product", f"unknown product; use one of {plans}") from None
    except CheckoutError as exc:
        raise checkout_failure(exc) from None
    return CreateOut(paymentUrl=result.confirmation_url, paymentId=result.provider_id)


def _consent(auto_renew: bool, terms_version: str | None) -> AutoRenewConsent | None:
    """Return the auto-renewal consent a purchase carries: the current terms, from the app."""
    if not auto_renew:
        return None
    if not terms_version:
        raise invalid("termsVersion", "required with autoRenew: the version of the terms shown")
    if terms_version != TERMS_VERSION:
        raise ApiError(409, "The auto-renewal terms have changed; show them again")
    return AutoRenewConsent(text_version=TERMS_VERSION, channel="miniapp")


@router.get(
    "/payments/status",
    response_model=StatusOut,
    responses={**ERRORS, 404: {"model": ErrorOut, "description": "Not this user's payment"}},
    summary="Ask YooKassa for a payment's status (and apply it)",
)
async def payment_status(
    principal: CurrentPrincipal,
    api: Ctx,
    payment_id: Annotated[str, Query(alias="paymentId", min_length=1, max_length=64)],
) -> StatusOut:
    """Return the payment's status as YooKassa reports it; a lost webhook is recovered here."""
    try:
        view = await api.sessions.get(
            payment_id, user_id=principal.user_id, is_admin=principal.is_admin
        )
    except NotFound:
        raise ApiError(404, "Payment not found") from None
    applied = await api.fulfilment.refresh(view.payment_id, source="status")
    status = applied.status.value if applied.status else view.status
    if applied.outcome is Outcome.RETRY:
        log.info("status of %s answered from our records: YooKassa did not answer", view.payment_id)
    return StatusOut(status=status, paid=status in PAID)


def setup(app: FastAPI) -> None:
    """Add the /api/v2 routes."""
    app.include_router(router)
