"""The sending lane: one per instance, it delivers the outbox within Telegram's budget.

Rows are claimed with one conditional UPDATE (PostgreSQL: the sub-select takes `FOR UPDATE
SKIP LOCKED`; SQLite: one writer at a time), so several instances share the work and never
send a row twice. A claim is a lease: a row whose instance died is put back after it expires,
except a broadcast row whose send had started (marked 'delivering'): it is given up, logged.
Transactional rows (priority 0) always go ahead of broadcasts (1). The budget: `rate`
messages a second over all chats (payments/outbox/budget.py; the bot's direct answers never
wait but are counted, and broadcast rows make room for them) and one a second per chat; a 429
puts only that row (and its chat) back for `retry_after`, the rest of the lane goes on. Rows
are claimed in the background while the hand is spent, so the database's round trips cost no
tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.reader import Reader
from payments.outbox.budget import CHARGE, Budget, Charge
from payments.outbox.outcomes import Deliver, Envelope, GiveUp, Outcome, RetryLater
from payments.outbox.rows import FLUSH_SECONDS, STOPPED, LaneRows, _Held, _State
from payments.outbox.senders import SharedRate
from payments.outbox.store import CHANNEL_TELEGRAM, PRIORITY_BROADCAST, PRIORITY_TRANSACTIONAL

log = logging.getLogger(__name__)

DEFAULT_RATE = 29.0
PER_CHAT_SECONDS = 1.0
CONCURRENCY = 16
LEASE_SECONDS = 120.0
POLL_SECONDS = 0.5
MAX_FAILURES = 5
# Rows held claimed in memory at once: about two seconds of the budget.
BATCH = 64
# Sent rows are recorded together: when this many are done, or this long after the last record.
# Backoff of a failed delivery that did not say when to retry (seconds, by attempt).
BACKOFF = (1.0, 5.0, 30.0, 120.0, 600.0)
STOPPED_IN_FLIGHT = (
    "stopped while being delivered (it may have reached Telegram): "
    "not sent again, so no one gets it twice"
)


class SendingLane(LaneRows):
    """Claim due outbox rows and deliver them through registered deliverers, within budget."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        rate: float = DEFAULT_RATE,
        per_chat_seconds: float = PER_CHAT_SECONDS,
        concurrency: int = CONCURRENCY,
        lease_seconds: float = LEASE_SECONDS,
        poll_seconds: float = POLL_SECONDS,
        max_failures: int = MAX_FAILURES,
        batch: int = BATCH,
        instance_id: str | None = None,
        reader: Reader | None = None,
        budget: Budget | None = None,
    ) -> None:
        """Deliver through `sessionmaker`'s database at `rate` messages a second overall.

        With a `reader`, an idle lane on SQLite looks for due rows with a plain read before it
        claims: a claim takes the one write lock, which an idle poll should not. On PostgreSQL
        the claim itself is that look: one statement skipping locked rows, with no BEGIN. `budget`
        (default: a new one of `rate`) is the instance's, shared with the bot's answers.
        """
        self._sessionmaker = sessionmaker
        bind = sessionmaker.kw.get("bind")
        self._dialect = "sqlite" if bind is None else bind.dialect.name
        self._autocommit = (
            bind.execution_options(isolation_level="AUTOCOMMIT")
            if bind is not None and self._dialect == "postgresql"
            else None
        )
        self._reader = reader
        self._rate = rate
        self._per_chat = per_chat_seconds
        self._concurrency = concurrency
        self._lease = lease_seconds
        self._poll = poll_seconds
        self._max_failures = max_failures
        self._batch = batch
        self.instance_id = instance_id or f"lane-{uuid.uuid4().hex[:12]}"
        self._deliverers: dict[str, Deliver] = {}
        self.budget = budget if budget is not None else Budget(rate)
        # Several instances' lanes share `rate` (payments/outbox/senders.py).
        self.sharing = SharedRate(bind, self.instance_id, rate, self.budget.set_rate)
        self._state = _State()
        self._wake = asyncio.Event()
        # Set by wake(): someone committed a message; claim now even with rows in hand.
        self._urgent = False
        self._last_flush = 0.0
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._pass_no = 0
        self._idle_pass = -1
        self._idle = asyncio.Condition()
        self._claiming: asyncio.Task[None] | None = None
        self._last_claimed = 0
        self._claim_after = 0.0
        self._last_reclaim = 0.0
        self._on_outcome: list[Callable[[Envelope, Outcome], None]] = []

    # ---- wiring -------------------------------------------------------------------------

    def register(self, kind: str, deliver: Deliver) -> None:
        """Deliver rows of `kind` with `deliver`; rows of kinds not registered stay pending."""
        self._deliverers[kind] = deliver

    def observe(self, callback: Callable[[Envelope, Outcome], None]) -> None:
        """Call `callback` after every delivery with its outcome (metrics)."""
        self._on_outcome.append(callback)

    @property
    def kinds(self) -> frozenset[str]:
        """Return the kinds this lane delivers."""
        return frozenset(self._deliverers)

    def wake(self) -> None:
        """Look for due rows now (after a commit that enqueued something urgent)."""
        self._urgent = True
        self._wake.set()

    # ---- life -------------------------------------------------------------------------

    def start(self) -> None:
        """Start delivering in the background."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="outbox-lane")
            self.sharing.start()

    async def stop(self, grace: float = 5.0) -> None:
        """Stop claiming, let deliveries in flight finish within `grace`, put held rows back."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        if self._claiming is not None:  # let a claim under way land in the hand, to be put back
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._claiming), grace)
        self._take_incoming()
        tasks = list(self._state.in_flight.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:  # each records its outcome (put back, or given up if it may be out)
                await asyncio.wait(pending, timeout=grace)
        await self._flush_sent(force=True)
        await self._release([held.envelope.id for held in self._state.held])
        self._state.held.clear()
        await self.sharing.stop()

    async def drain(self) -> None:
        """Wait until a pass of the running lane finds nothing due, held or in flight.

        Callers bound the wait themselves (`asyncio.timeout`).
        """
        while True:
            target = self._pass_no + 1
            self.wake()
            async with self._idle:
                await self._idle.wait_for(lambda: self._idle_pass >= target)  # noqa: B023 - awaited here
            # An idle pass may have raced a claim awaiting the database (seen on PostgreSQL):
            # done only when the database has nothing due or in this lane's hands either.
            if not await self._unsent():
                return
            await asyncio.sleep(self._poll / 10)

    # ---- the loop -----------------------------------------------------------------------

    async def _run(self) -> None:
        # Another instance's lane is sending: not before it has made room (senders.py).
        await self.sharing.joined()
        while not self._stopping:
            self._pass_no += 1
            this_pass = self._pass_no
            self._wake.clear()
            try:
                await self._flush_sent(force=False)
                await self._reclaim_expired()
                self._take_incoming()
                await self._note_idle(this_pass)
                self._refill(len(self._state.held))
                next_at = await self._dispatch()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox lane: pass failed; trying again")
                next_at = None
                await asyncio.sleep(self._poll)
            state = self._state
            if state.incoming or (self._claiming is None and self._urgent and self._room()):
                continue  # rows to merge, or a commit to claim: go round at once
            timeout = self._poll
            if state.done_sent:
                timeout = min(timeout, FLUSH_SECONDS)
            if self._claiming is None and not state.held:
                timeout = min(timeout, max(self._claim_after - time.monotonic(), 0.0))
            if next_at is not None:
                timeout = min(timeout, max(next_at - time.monotonic(), 0.0))
            if timeout > 0 and not self._wake.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)

    def _take_incoming(self) -> None:
        """Add the rows a finished claim brought to the hand."""
        state = self._state
        if state.incoming:
            state.held.extend(state.incoming)
            state.incoming = []

    async def _note_idle(self, this_pass: int) -> None:
        """Tell drain() when the last claim found nothing and nothing is in hand or pending."""
        state = self._state
        busy = state.held or state.incoming or state.in_flight or state.done_sent
        if self._claiming is None and self._last_claimed == 0 and not busy and not self._urgent:
            async with self._idle:
                self._idle_pass = this_pass
                self._idle.notify_all()

    def _refill(self, held: int) -> None:
        """Claim more rows in the background when the hand runs low or a message was committed.

        The claim's database round trip runs beside the dispatch, so the budget's tokens keep
        being taken meanwhile (a pass that waited for its claim lost those tokens for good).
        After a claim that found nothing, the next waits `poll` seconds unless woken.
        """
        if self._claiming is not None or self._stopping or not self._room():
            return
        if not self._urgent and (held >= self._batch // 2 or time.monotonic() < self._claim_after):
            return
        # A just-committed confirmation is claimed even with a broadcast in hand; but not into
        # a full hand (its turn comes after the next start): the expiry sweep wakes the lane
        # after every chunk it commits, and each wake claimed more, up to thousands in hand.
        self._urgent = False
        limit = max(self._batch - held, self._concurrency)
        self._claiming = asyncio.create_task(self._claim_into_hand(limit), name="outbox-claim")

    def _room(self) -> bool:
        """Say whether the hand has room for a claim: fewer than `batch` rows held."""
        return len(self._state.held) + len(self._state.incoming) < self._batch

    async def _claim_into_hand(self, limit: int) -> None:
        """Claim up to `limit` rows; after a claim that took fewer, the next waits `poll`.

        A claim that took fewer rows than it asked for took every row due: claiming again at
        once found nothing, one statement more for every confirmation in a sale rush. A
        message committed meanwhile wakes the lane (`wake`), which claims at once anyway.
        """
        full = False
        try:
            self._last_claimed, full = await self._claim(limit)
        except Exception:
            log.exception("outbox lane: claim failed; trying again")
            self._last_claimed = 0
        finally:
            if not full:
                self._claim_after = time.monotonic() + self._poll
            self._claiming = None
            self._wake.set()

    async def _dispatch(self) -> float | None:
        """Start deliveries for held rows whose chat may be written to now.

        Returns when the earliest held row becomes sendable (monotonic), or None.
        """
        state = self._state
        state.held.sort(key=lambda held: (held.priority, held.envelope.id))
        next_at: float | None = None
        kept: list[_Held] = []
        expired: list[int] = []
        started = 0
        for index, held in enumerate(state.held):
            now = time.monotonic()
            if held.lease_until - now < self._lease / 4:
                expired.append(held.envelope.id)  # held too long: give it back, never risk a double
                continue
            # A pass spends the budget on its held rows (64 broadcast rows: over two seconds);
            # rows a claim brought meanwhile, or a message committed meanwhile (wake), end it so
            # the next pass sorts them in (after one start at least: wakes in quick succession
            # must not stall the lane).
            news = bool(state.incoming) or (self._urgent and self._claiming is None)
            cut = news and started > 0
            if len(state.in_flight) >= self._concurrency or self._stopping or cut:
                kept.extend(state.held[index:])
                break
            chat = held.envelope.chat_id
            if held.channel == CHANNEL_TELEGRAM and chat is not None:
                ready = state.chat_ready.get(chat, 0.0)
                if chat in state.busy_chats or ready > now:
                    kept.append(held)
                    if chat not in state.busy_chats:
                        next_at = ready if next_at is None else min(next_at, ready)
                    continue
                if held.priority == PRIORITY_BROADCAST and not held.marked:
                    # Marked before its token, not between the token and the send: a write
                    # there (1-50 ms, more on a busy writer) bunched sends past Telegram's
                    # 30 a second though the tokens were evenly spaced.
                    if not await self._mark_delivering(held.envelope.id):
                        log.warning(
                            "outbox %d: lease lost before its send; not sent", held.envelope.id
                        )
                        continue  # the row is someone else's now: out of the hand
                    held.marked = True
                held.grants = await self.budget.take(urgent=held.priority == PRIORITY_TRANSACTIONAL)
                state.busy_chats.add(chat)
                state.chat_ready[chat] = time.monotonic() + self._per_chat
            self._start(held)
            started += 1
            self._refill(len(kept) + len(state.held) - index - 1)  # low hand: claim beside it
        state.held = kept
        if expired:
            await self._release(expired)
        if len(state.chat_ready) > 10_000:
            now = time.monotonic()
            state.chat_ready = {c: t for c, t in state.chat_ready.items() if t > now}
        return next_at

    def _start(self, held: _Held) -> None:
        envelope = held.envelope
        task = asyncio.create_task(self._deliver(held), name=f"outbox-{envelope.id}")
        self._state.in_flight[envelope.id] = task

    async def _deliver(self, held: _Held) -> None:
        envelope = held.envelope
        deliver = self._deliverers.get(envelope.kind)
        # This task's calls to Telegram: the first was paid in _dispatch, the rest pay as
        # they go (bot/factory.py's BudgetMiddleware), confirmations ahead of broadcasts.
        paid = 1 if held.channel == CHANNEL_TELEGRAM and envelope.chat_id is not None else 0
        CHARGE.set(
            Charge(
                prepaid=paid,
                urgent=held.priority == PRIORITY_TRANSACTIONAL,
                grants=held.grants,
            )
        )
        outcome: Outcome
        try:
            if deliver is None:
                outcome = RetryLater(self._poll, f"no deliverer for {envelope.kind}")
            else:
                outcome = await deliver(envelope)
        except asyncio.CancelledError:
            # Cancelled by stop() after its grace: a broadcast send under way (marked in
            # _dispatch) may have reached Telegram, so it is given up like one in flight at a
            # crash.
            outcome = GiveUp(STOPPED_IN_FLIGHT) if held.marked else RetryLater(0.0, STOPPED)
        except Exception as exc:
            log.exception("outbox %d (%s): deliverer failed", envelope.id, envelope.kind)
            outcome = RetryLater(self._backoff(envelope.attempts), f"error: {exc!r}")
        try:
            await self._settle(held, outcome)
        except Exception:
            log.exception("outbox %d: outcome %s not recorded", envelope.id, outcome)
        finally:
            state = self._state
            state.in_flight.pop(envelope.id, None)
            chat = envelope.chat_id
            if chat is not None:
                state.busy_chats.discard(chat)
                if held.channel == CHANNEL_TELEGRAM:
                    # A second from the answer too: jitter on the way cannot squeeze two sends
                    # to one chat into less than a second at Telegram's end.
                    after = time.monotonic() + self._per_chat
                    state.chat_ready[chat] = max(state.chat_ready.get(chat, 0.0), after)
            for callback in self._on_outcome:
                with contextlib.suppress(Exception):
                    callback(envelope, outcome)
            self._wake.set()

    def _backoff(self, attempts: int) -> float:
        return BACKOFF[min(max(attempts - 1, 0), len(BACKOFF) - 1)]


__all__ = ["SendingLane"]
