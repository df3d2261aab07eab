"""The collector during start-up: off while `python main.py` starts, back on once it has."""

from __future__ import annotations

import gc
from pathlib import Path

from payments.process import YOUNG_COLLECTION_EVERY, settle_heap
from tests.python_probe import run_probe


def test_settle_heap_turns_the_collector_back_on_over_a_frozen_heap() -> None:
    was_enabled, thresholds = gc.isenabled(), gc.get_threshold()
    gc.disable()  # as `python main.py` starts
    try:
        settle_heap()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0  # what start-up left alive is out of the collector's way
        # Young collections every 5 000 new objects, not every 700 (a tenth of a rush's CPU).
        assert gc.get_threshold() == (YOUNG_COLLECTION_EVERY, *thresholds[1:])
        assert thresholds[0] < YOUNG_COLLECTION_EVERY
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        if not was_enabled:
            gc.disable()


def test_importing_main_leaves_the_collector_on() -> None:
    # Tests and benches import main and build many services in one process: only running it as
    # the entry point turns the collector off.
    probe = "import gc, main; print(gc.isenabled())"
    done = run_probe(probe)
    assert done.stdout.split() == ["True"]


_SETTLER_PROBE = """
import asyncio, gc, sys
sys.path.insert(0, sys.argv[1])
from payments.process import ImportSettler

async def turns():  # let the loop run what the collector asked of it
    for _ in range(3):
        await asyncio.sleep(0)

async def main():
    gc.collect()
    gc.freeze()  # start-up's heap, as settle_heap leaves it
    settler = ImportSettler(asyncio.get_running_loop())
    settler.start()
    gc.collect()
    await turns()
    quiet = settler.freezes  # a full collection with nothing new imported
    import rare_library  # a rare path's first use: 3 000 functions that live as long as the process
    seen_before = len(gc.get_objects())
    gc.collect()
    await turns()
    seen_after = len(gc.get_objects())
    gc.collect()
    await turns()
    settler.stop()
    print(quiet, settler.freezes, seen_before, seen_after)

asyncio.run(main())
"""


def test_a_rare_paths_first_import_is_frozen_out_of_the_collectors_walks(tmp_path: Path) -> None:
    # A fresh interpreter: freezing is process-wide, and the test run's own heap must not move.
    functions = "\n".join(f"def f{n}(x):\n    return x + {n}\n" for n in range(3000))
    (tmp_path / "rare_library.py").write_text(functions, encoding="utf-8")
    done = run_probe(_SETTLER_PROBE, str(tmp_path))
    quiet, freezes, seen_before, seen_after = done.stdout.split()
    assert (quiet, freezes) == ("0", "1")  # once, after the import, not again
    # What a full collection walks: the new library's objects before, next to nothing after.
    assert int(seen_before) > 3000
    assert int(seen_after) < 500
