"""The collector during start-up: off while `python main.py` starts, back on once it has."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

from payments.process import settle_heap

ROOT = Path(__file__).resolve().parents[2]


def test_settle_heap_turns_the_collector_back_on_over_a_frozen_heap() -> None:
    was_enabled = gc.isenabled()
    gc.disable()  # as `python main.py` starts
    try:
        settle_heap()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0  # what start-up left alive is out of the collector's way
    finally:
        gc.unfreeze()
        if not was_enabled:
            gc.disable()


def test_importing_main_leaves_the_collector_on() -> None:
    # Tests and benches import main and build many services in one process: only running it as
    # the entry point turns the collector off.
    probe = "import gc, main; print(gc.isenabled())"
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.split() == ["True"]
