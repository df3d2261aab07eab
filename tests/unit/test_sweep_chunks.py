"""The expiry sweep's chunks on SQLite: each sized to take about CHUNK_AIM of the event loop.

A chunk holds the loop from its UPDATE to its commit, so it must stay short; and each chunk
costs a commit and its statements however few payments it holds, so it should not be shorter
than it may be. Sized only by doubling and halving, chunks that took 14 ms stayed there (under
CHUNK_SECONDS, not under half of it), and the sweep of 100 000 payments took 1.9-2.1 s on the
bench host instead of 1.7-2.0 s.
"""

from __future__ import annotations

import pytest

from payments.jobs import CHUNK_AIM, CHUNK_SECONDS, EXPIRE_FIRST_CHUNK, next_chunk


def sizes(per_payment: float, limit: int, steps: int = 30) -> list[int]:
    """The sizes of a sweep's chunks when each payment costs `per_payment` seconds."""
    size, seen = EXPIRE_FIRST_CHUNK, []
    for _ in range(steps):
        seen.append(size)
        size = next_chunk(size, size * per_payment, limit)
    return seen


@pytest.mark.parametrize("per_payment", [2e-6, 16e-6, 17.5e-6, 60e-6, 1e-3])
def test_chunks_settle_at_the_aim_and_under_the_bound(per_payment: float) -> None:
    settled = sizes(per_payment, limit=1_000_000)[-5:]
    for size in settled:
        assert 0.9 * CHUNK_AIM <= size * per_payment <= CHUNK_SECONDS, (size, per_payment)


def test_a_quick_chunk_at_most_doubles_the_next_and_a_slow_one_at_most_halves_it() -> None:
    assert next_chunk(100, 1e-6, 2000) == 200
    assert next_chunk(100, 0.0, 2000) == 200  # a clock too coarse to tell
    assert next_chunk(1000, 0.3, 2000) == 500  # one chunk held up (a full collection, say)
    assert next_chunk(1, 10.0, 2000) == 1


def test_no_chunk_is_larger_than_the_limit() -> None:
    assert max(sizes(1e-7, limit=2000)) == 2000
    assert next_chunk(1500, 1e-3, 2000) == 2000


def test_a_sweep_slowed_for_a_while_recovers_its_size() -> None:
    size = sizes(16e-6, limit=100_000)[-1]
    slowed = next_chunk(size, size * 16e-6 * 4, 100_000)  # the host busy for one chunk
    assert slowed == size // 2
    again = slowed
    for _ in range(3):
        again = next_chunk(again, again * 16e-6, 100_000)
    assert again == pytest.approx(size, rel=0.05)
