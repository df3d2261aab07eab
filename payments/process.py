"""The process around the service: a settled heap after start."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys

log = logging.getLogger(__name__)


# How long a thread may keep the GIL while another waits for it (Python's default: 5 ms). The
# event loop gives the GIL up whenever it blocks in a system call (above all its wait for I/O),
# and while a worker thread is busy (an admin's /export writing its CSV, a chart, the YooKassa
# SDK) it then waited up to the whole interval to get it back, each time: 20 short blocking
# calls beside a busy thread took 109 ms at 5 ms and about 20 ms at 0.5 ms
# (tests/e2e/test_loop_and_threads.py). py-spy of the PostgreSQL report bench found the worst
# loop steps during /export waiting so. The webhook bench, whose YooKassa calls run in worker
# threads, measured no difference (78 notifications a second either way).
SWITCH_INTERVAL = 0.0005


def favour_the_loop() -> None:
    """Let the event loop's thread get the GIL back quickly from busy worker threads."""
    sys.setswitchinterval(SWITCH_INTERVAL)


# How many container objects are made between two collections of the young generation.
# Python's 700 made the PostgreSQL rush's service collect 3 130 times in a minute: with the
# older generations' collections they came to 6.3 s of its 57 s of CPU (11 %), 26 full
# collections of 87 ms each among them. At 5 000: 184 young collections of 8 ms, 16 of the
# middle generation (41 ms), 2 full ones; 2.3 s in all. A request's objects mostly die by
# reference count before a collection; the few that wait for one are a megabyte at most.
YOUNG_COLLECTION_EVERY = 5000


def settle_heap() -> None:
    """Move everything made during start-up out of the garbage collector's sight, turn it on.

    The libraries leave about 320 000 objects behind at import (aiogram's models and their
    pydantic schemas, SQLAlchemy's mappers), and every full collection walked all of them:
    `make bench` measured that as a quarter of the cost of a bot update. They live as long as
    the process does, so `gc.freeze()` keeps full collections to the objects made while
    serving. No collection first: among some 370 000 objects it found about 2 200 unreachable
    ones (0.7 MiB, left over from building classes at import) and cost 0.2 to 0.35 CPU seconds
    before the first answer; frozen, they stay that size for the life of the process. The
    entry point calls this once; tests, which build many services in one process, do not.
    `python main.py` starts with the collector off (main.py's first lines), so this also turns
    it back on.

    It also collects the young generation every YOUNG_COLLECTION_EVERY new container objects
    instead of Python's 700 (see there).
    """
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, *gc.get_threshold()[1:])
    gc.enable()


class ImportSettler:
    """Freeze what the first import of a rare path leaves behind, as start-up's heap is.

    The rare paths import their libraries when first used (tests/unit/test_lazy_imports.py):
    an admin's first chart brings matplotlib, numpy and PIL, the first ticket qrcode and
    cryptography, the first payment the YooKassa SDK and requests. Their modules, classes and
    functions, some 70 000 objects, live as long as the process, and every full collection
    after that walked them: during the report bench's /export, a full collection of 70-106 ms
    every 5-7 s on the event loop's thread or a worker thread (either stops the loop), over
    about 97 000 objects, most of them those libraries'. Frozen: 3-8 ms over about 5 000.

    So when a full collection ends with more modules loaded than at the last freeze, the loop
    is asked to `gc.freeze()` at its next turn: the collection has just cleared the garbage,
    and the libraries move out of the collector's sight with the rest of start-up's heap. What
    else is alive then (requests in flight) is frozen too: a few objects, a handful of times
    in a process's life. No collection of its own and no timer: it rides on the collector's.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Take the modules loaded now as settled (start-up's heap is frozen by settle_heap)."""
        self._loop = loop
        self._frozen_at = len(sys.modules)
        self._asked = False
        self.freezes = 0

    def start(self) -> None:
        """Watch the collector's full collections."""
        gc.callbacks.append(self._collected)

    def stop(self) -> None:
        """Stop watching."""
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._collected)

    def _collected(self, phase: str, info: dict[str, int]) -> None:
        # Any thread, in the middle of the collector's work: only ask the loop.
        if phase != "stop" or info["generation"] != 2 or self._asked:
            return
        if len(sys.modules) > self._frozen_at:
            self._asked = True
            with contextlib.suppress(RuntimeError):  # the loop is closed: nothing to settle
                self._loop.call_soon_threadsafe(self._freeze)

    def _freeze(self) -> None:
        self._frozen_at = len(sys.modules)
        self._asked = False
        gc.freeze()
        self.freezes += 1
        log.debug("froze the heap after new imports (%d modules)", self._frozen_at)
