"""What the Mini App's API modules share: the prefix, the error answers, the caller's row."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from db.models import User
from db.repositories.users import get_user
from payments.api.auth import Principal
from payments.api.context import ApiContext, context
from payments.api.errors import ApiError
from payments.api.schemas import ErrorOut

Ctx = Annotated[ApiContext, Depends(context)]
PREFIX = "/api/v2/app"
TAG = "Mini App"
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No valid token, or its user is unknown"},
}
NOT_YOURS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"model": ErrorOut, "description": "No such thing of this customer"},
    422: {"model": ErrorOut, "description": "Validation failed; `errors` names the field"},
}


async def customer(api: ApiContext, principal: Principal) -> User:
    """Return the caller's row (their language, name and e-mail); 401 if it is gone."""
    async with api.sessionmaker() as session:
        user = await get_user(session, principal.user_id)
    if user is None:
        raise ApiError(401, "The token's user is unknown; sign in again")
    return user


def language(user: User) -> str:
    """Return the language the caller reads: their bot language (users.language)."""
    return "en" if user.language == "en" else "ru"
