"""A worker thread kept busy (an admin's /export writing its CSV, a chart, the YooKassa SDK) must
not slow the event loop down: every customer's update and webhook waits on the loop.

The loop gives the GIL up whenever it blocks in a system call (above all its wait for I/O), and
with Python's default switch interval (5 ms) it then waited up to 5 ms to get the GIL back from a
busy thread each time: a stretch of 20 such calls took over 100 ms instead of 4. A started
service shortens the interval.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import ShopFactory

CALLS = 20
ROUNDS = 20
BLOCKED_SECONDS = 0.0002  # one short blocking system call, as the loop's wait for I/O


@pytest.fixture
def default_interval() -> Iterator[None]:
    """Start from Python's default interval; give the test process its own back afterwards."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    yield
    sys.setswitchinterval(before)


def _spin(stop: threading.Event) -> None:
    total = 0
    while not stop.is_set():
        for i in range(1000):
            total += i * i


def _stretches_beside_a_busy_thread() -> list[float]:
    """Time stretches of CALLS short blocking calls while another thread computes."""
    stop = threading.Event()
    worker = threading.Thread(target=_spin, args=(stop,))
    worker.start()
    stretches: list[float] = []
    try:
        for _ in range(ROUNDS):
            began = time.perf_counter()
            for _ in range(CALLS):
                time.sleep(BLOCKED_SECONDS)
            stretches.append(time.perf_counter() - began)
    finally:
        stop.set()
        worker.join()
    return stretches


@pytest.mark.usefixtures("default_interval")
async def test_a_busy_worker_thread_does_not_hold_the_loop_back(make_shop: ShopFactory) -> None:
    await make_shop()

    stretches = _stretches_beside_a_busy_thread()

    # At the default interval a stretch takes about 120 ms here; at the service's, about 20.
    mean = sum(stretches) / len(stretches)
    assert mean < 0.06, f"mean {mean * 1000:.1f} ms, worst {max(stretches) * 1000:.1f} ms"
