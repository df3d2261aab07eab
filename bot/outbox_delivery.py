"""The Telegram deliverers of the outbox: a row's payload back into its note, said in chat.

The texts are bot/notifier.py's; here Telegram's errors are not swallowed but answered to the
lane as an Outcome: 429 → RetryLater(retry_after, rate_limited), blocked → Blocked, network
or 5xx → RetryLater, any other refusal → GiveUp. Every Telegram call beyond the row's first
takes one more token of the instance's budget (bot/factory.py's BudgetMiddleware).
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import (
    RestartingTelegram,
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import WAIT_ON_RETRY_AFTER
from bot.notifier import TelegramNotifier
from payments.catalog import Catalog
from payments.i18n import prepare
from payments.outbox.notes import DELIVERED, from_payload
from payments.outbox.outcomes import Blocked, Deliver, Envelope, GiveUp, Outcome, RetryLater, Sent

log = logging.getLogger(__name__)

# Backoff of a network error or a 5xx, by attempt (seconds).
TRANSIENT_BACKOFF = (2.0, 10.0, 30.0, 120.0, 600.0)


class _Strict(TelegramNotifier):
    """TelegramNotifier whose sends raise, so the lane learns what happened."""

    raises = True


class TelegramDelivery:
    """Deliverers for every note kind, built on one Bot and the shop's catalog."""

    def __init__(
        self,
        *,
        bot: Bot,
        catalog: Catalog,
        tz: ZoneInfo,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        """Keep what the notifier's texts need."""
        self._bot = bot
        self._catalog = catalog
        self._tz = tz
        self._sessionmaker = sessionmaker

    def deliverers(self) -> dict[str, Deliver]:
        """Return a deliverer for every note kind (subscription_activated, tickets_qr, …)."""
        return {kind: self._deliverer(kind) for kind in DELIVERED}

    def _deliverer(self, kind: str) -> Deliver:
        async def deliver(envelope: Envelope) -> Outcome:
            WAIT_ON_RETRY_AFTER.set(False)  # this delivery's task only: the lane reschedules
            notifier = _Strict(
                bot=self._bot,
                catalog=self._catalog,
                tz=self._tz,
                sessionmaker=self._sessionmaker,
            )
            try:
                note = from_payload(kind, envelope.payload)
            except (KeyError, TypeError, ValueError) as exc:
                return GiveUp(f"payload not readable: {exc!r}")
            # The first note in a language after a start builds its texts in a worker thread
            # (payments.i18n), not in the notifier's first t() on the event loop.
            await prepare(note.recipient.language)
            try:
                await getattr(notifier, kind)(note)
            except TelegramAPIError as exc:
                return outcome_of(exc, envelope.attempts)
            return Sent()

        return deliver


def outcome_of(exc: TelegramAPIError, attempts: int) -> Outcome:
    """Say what a Telegram error means for the row: retry when, mark blocked, or give up."""
    if isinstance(exc, TelegramRetryAfter):
        return RetryLater(float(exc.retry_after), f"429: {exc.message}", rate_limited=True)
    if isinstance(exc, TelegramForbiddenError):
        return Blocked()
    if isinstance(exc, TelegramNetworkError | TelegramServerError | RestartingTelegram):
        wait = TRANSIENT_BACKOFF[min(max(attempts - 1, 0), len(TRANSIENT_BACKOFF) - 1)]
        return RetryLater(wait, f"{type(exc).__name__}: {exc.message}")
    return GiveUp(f"{type(exc).__name__}: {exc.message}")
