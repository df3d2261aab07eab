"""BurLive API (`/api/v2`): Mini App auth, subscription payments and their status."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request

from db.models import User
from db.repositories.users import Profile, get_user, upsert_user
from payments.api.auth import CurrentPrincipal, InitDataError, OptionalPrincipal, verify_init_data
from payments.api.context import ApiContext, context
from payments.api.errors import ApiError, checkout_failure, invalid
from payments.api.schemas import AuthOut, CreateIn, CreateOut, ErrorOut, StatusOut, TestUserIn
from payments.checkout import CheckoutError, UnknownProduct
from payments.fulfilment import Outcome
from payments.pricing import is_test_user
from payments.sessions import NotFound
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

router = APIRouter(prefix="/api/v2", tags=["BurLive /api/v2"])


def _auth_answer(api: ApiContext, user: User, *, is_new: bool) -> AuthOut:
    is_admin = user.id.isascii() and user.id.isdigit() and int(user.id) in api.admin_ids
    return AuthOut(
        userId=user.id,
        isFirstOpen=is_new,
        onboardingCompleted=user.onboarding_completed or user.first_paid_at is not None,
        accessToken=api.tokens.issue(user.id, is_admin=is_admin, now=api.clock.now()),
    )


@router.get(
    "/auth/verify",
    response_model=AuthOut,
    responses={401: {"model": ErrorOut, "description": "Init data invalid or too old"}},
    summary="Telegram Mini App init data → access token",
    description=(
        "Pass the Mini App's `initData` as the query string, as Telegram gives it. The HMAC is "
        "checked with the bot token and `auth_date` must be recent. `onboardingCompleted` is "
        "true once the user has paid for something."
    ),
)
async def verify(request: Request, api: Ctx) -> AuthOut:
    """Check Telegram's signature on the init data and return a short-lived token."""
    if api.bot_token is None:
        raise ApiError(401, "Telegram sign-in is unavailable: the bot is not configured")
    try:
        tg_user = verify_init_data(
            request.url.query, api.bot_token, api.init_data_max_age, api.clock.now()
        )
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
        403: {"model": ErrorOut, "description": "Not in development and not an admin"},
        **ERRORS,
        **BAD_BODY,
    },
    summary="Create a test user (10 ₽ prices) and return its token",
    description="Available in development, or with an admin token. The id must contain "
    "`test` or be listed in TEST_USER_IDS.",
)
async def create_test_user(body: TestUserIn, principal: OptionalPrincipal, api: Ctx) -> AuthOut:
    """Create (or refresh) a test user and return a token for it."""
    if not api.allow_test_users and not (principal and principal.is_admin):
        raise ApiError(403, "Test users can be created in development or by an admin only")
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
        return _auth_answer(api, user, is_new=is_new)


@router.post(
    "/payments/create",
    response_model=CreateOut,
    responses={
        **ERRORS,
        **BAD_BODY,
        429: {"model": ErrorOut, "description": "Too many unfinished payments; see Retry-After"},
        503: {"model": ErrorOut, "description": "YooKassa did not answer; nothing was charged"},
    },
    summary="Create a subscription payment for the token's user",
    description=(
        "The price comes from the user's cohort (test users pay 10.00). The user is the "
        "token's subject: a `userId` in the body is ignored."
    ),
)
async def create_payment(body: CreateIn, principal: CurrentPrincipal, api: Ctx) -> CreateOut:
    """Start a subscription payment and return the YooKassa page to send the user to."""
    try:
        result = await api.checkout.start_subscription(
            principal.user_id, body.product, return_url=body.returnUrl, source="api"
        )
    except UnknownProduct:
        plans = ", ".join(p.code for p in api.catalog.plans)
        raise invalid("product", f"unknown product; use one of {plans}") from None
    except CheckoutError as exc:
        raise checkout_failure(exc) from None
    return CreateOut(paymentUrl=result.confirmation_url, paymentId=result.provider_id)


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
