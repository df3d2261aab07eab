"""Users: upsert on every contact, look-ups, blocked marks."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import String, Table, bindparam, case, false, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import User
from db.repositories.dialect import insert_for_dialect
from db.writes import one_statement, write, write_alone


@dataclass(frozen=True, slots=True)
class Profile:
    """What a Telegram update tells about its sender."""

    id: str
    first_name: str | None
    last_name: str | None
    username: str | None
    language: str


@functools.cache
def _upsert_statement(dialect: str, returning: bool) -> Any:
    """Build the upsert once per dialect: constructing ON CONFLICT … excluded is costly.

    Its constants are SQL literals and each time a parameter of its own ("now", "seen"): a
    multi-row form of it once miscounted a parameter shared by two columns or a constant one.
    """
    columns = cast(Table, User.__table__).c
    table = insert_for_dialect(dialect, User)
    stmt = table.values(
        id=bindparam("id"),
        first_name=bindparam("first_name"),
        last_name=bindparam("last_name"),
        username=bindparam("username"),
        language=bindparam("language"),
        created_at=bindparam("now", type_=columns.created_at.type),
        last_seen_at=bindparam("seen", type_=columns.last_seen_at.type),
        is_blocked=false(),
        onboarding_completed=false(),
        language_chosen=false(),
    )
    stmt = _refreshing(stmt)
    return stmt.returning(User.created_at) if returning else stmt


def _refreshing(stmt: Any) -> Any:
    """The upsert `stmt` refreshing a user already known: names and last seen from the new
    row, the language unless the customer picked one, and no longer blocked."""
    columns = cast(Table, User.__table__).c
    return stmt.on_conflict_do_update(
        index_elements=[columns.id],
        set_={
            "first_name": stmt.excluded.first_name,
            "last_name": stmt.excluded.last_name,
            "username": stmt.excluded.username,
            # A language the customer picked stays; otherwise it follows Telegram's.
            "language": case(
                (columns.language_chosen, columns.language), else_=stmt.excluded.language
            ),
            "last_seen_at": stmt.excluded.last_seen_at,
            "is_blocked": false(),
        },
    )


# The columns a batch's upsert takes from each profile, one array each (`_upsert_arrays`).
_PROFILE_COLUMNS = ("id", "first_name", "last_name", "username", "language")


@functools.cache
def _upsert_arrays() -> Any:
    """PostgreSQL's upsert of a batch of any size as one statement: each column's values come
    as an array (`<column>s`), unnested into rows; it returns each row's id, language and
    whether the customer picked that language.

    The same text for every batch, so it is compiled once (db/plan.py) and prepared once. The
    multi-row VALUES form it replaced was rendered anew for each batch and ran through the ORM
    session: 1.05-1.19 ms of the event loop a batch against 0.46-0.62 ms (a sale rush's batches
    hold one to six new customers).
    """
    # Imported here: a service on SQLite never loads PostgreSQL's dialect (start-up, memory).
    from sqlalchemy.dialects.postgresql import ARRAY

    columns = cast(Table, User.__table__).c
    incoming = (
        func.unnest(*(bindparam(f"{name}s", type_=ARRAY(String)) for name in _PROFILE_COLUMNS))
        .table_valued(*_PROFILE_COLUMNS)
        .render_derived()
    )
    rows = select(
        *(incoming.c[name] for name in _PROFILE_COLUMNS),
        bindparam("now", type_=columns.created_at.type),
        bindparam("seen", type_=columns.last_seen_at.type),
        false(),
        false(),
        false(),
    )
    stmt = insert_for_dialect("postgresql", User.__table__).from_select(
        [
            *_PROFILE_COLUMNS,
            "created_at",
            "last_seen_at",
            "is_blocked",
            "onboarding_completed",
            "language_chosen",
        ],
        rows,
        include_defaults=False,
    )
    return _refreshing(stmt).returning(columns.id, columns.language, columns.language_chosen)


async def upsert_user(
    session: AsyncSession, profile: Profile, now: datetime, *, want_new: bool = True
) -> bool:
    """Insert or refresh a user from their profile; return whether the row is new.

    With want_new=False the statement returns nothing (one round trip less) and the result
    is always False.
    """
    dialect = session.get_bind().dialect.name
    params = {
        "id": profile.id,
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "username": profile.username,
        "language": profile.language,
        "now": now,
        "seen": now,
    }
    result = await session.execute(_upsert_statement(dialect, want_new), params)
    if not want_new:
        return False
    return bool(result.scalar_one() == now)


async def upsert_users(
    sessionmaker: async_sessionmaker[AsyncSession], profiles: Sequence[Profile], now: datetime
) -> dict[str, str]:
    """Insert or refresh many users at once, committed; return the languages they picked.

    A user who picked a language in the bot keeps it whatever Telegram says; the result maps
    each such user of the batch to their language. On PostgreSQL one statement (the batch as
    arrays, `_upsert_arrays`) that commits by itself: the whole transaction in one round trip.
    On SQLite an executemany and a read in the writer's transaction.
    """
    # One row per user: a multi-row ON CONFLICT DO UPDATE cannot touch a row twice.
    unique = list({p.id: p for p in profiles}.values())
    bind = sessionmaker.kw.get("bind")
    if bind is not None and bind.dialect.name == "postgresql":
        params: dict[str, Any] = {
            f"{name}s": [getattr(p, name) for p in unique] for name in _PROFILE_COLUMNS
        }
        written = await write_alone(
            sessionmaker, _upsert_arrays(), params | {"now": now, "seen": now}
        )
        return {str(row.id): str(row.language) for row in written.rows if row.language_chosen}
    rows = [
        {
            "id": p.id,
            "first_name": p.first_name,
            "last_name": p.last_name,
            "username": p.username,
            "language": p.language,
            "now": now,
            "seen": now,
        }
        for p in unique
    ]
    async with one_statement(sessionmaker) as session:
        await session.execute(_upsert_statement(session.get_bind().dialect.name, False), rows)
        chosen = await session.execute(
            select(User.id, User.language).where(
                User.id.in_([p.id for p in unique]), User.language_chosen.is_(True)
            )
        )
        return {str(row.id): str(row.language) for row in chosen.all()}


async def choose_language(session: AsyncSession, user_id: str, language: str) -> None:
    """Store the language a user picked; it wins over Telegram's language code from now on."""
    await session.execute(
        update(User).where(User.id == user_id).values(language=language, language_chosen=True)
    )


async def get_user(session: AsyncSession, user_id: str) -> User | None:
    """Return a user by id."""
    return await session.get(User, user_id)


async def mark_blocked(session: AsyncSession, user_id: str) -> None:
    """Remember that a user blocked the bot, so broadcasts skip them."""
    await session.execute(update(User).where(User.id == user_id).values(is_blocked=True))


async def mark_first_paid(session: AsyncSession, user_id: str, now: datetime) -> None:
    """Record when a user first paid (a later payment leaves the first moment as it was)."""
    await write(session, _FIRST_PAID, {"user_id": user_id, "now": now})


# Built once: every first succeeded payment runs it inside its write transaction.
_USERS = cast(Table, User.__table__)
_FIRST_PAID = (
    update(_USERS)
    .where(_USERS.c.id == bindparam("user_id"), _USERS.c.first_paid_at.is_(None))
    .values(first_paid_at=bindparam("now", type_=_USERS.c.first_paid_at.type))
)
