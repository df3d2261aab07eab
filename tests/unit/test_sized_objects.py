"""Every class of ours with a `__len__` says whether it is true on its own (`__bool__`).

Python takes an object with `__len__` 0 as false, and aiogram's Dispatcher takes its parts
with `storage or MemoryStorage()` and `events_isolation or DisabledEventIsolation()`. Twice an
idle part of ours (nothing held, so len() 0) was silently swapped for aiogram's default: the
per-user isolation (a double tap made two orders) and the FSM storage (every instance kept
its users' state in memory). A class that counts something must decide its truth itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("bot", "db", "handlers", "payments")


def _sized_classes() -> dict[str, set[str]]:
    """Each class of ours with a `__len__` ("path Name") → the names of its methods."""
    sized: dict[str, set[str]] = {}
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.ClassDef):
                    methods = {
                        item.name
                        for item in node.body
                        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                    }
                    if "__len__" in methods:
                        sized[f"{path.relative_to(ROOT)} {node.name}"] = methods
    return sized


def test_every_sized_class_of_ours_defines_its_truth() -> None:
    sized = _sized_classes()
    # The scan reads our tree: the two classes that count what they hold are in it.
    assert {
        "bot/fsm_cache.py LockedCacheStorage",
        "bot/isolation.py ForgetfulEventIsolation",
    } <= set(sized)
    assert [name for name, methods in sized.items() if "__bool__" not in methods] == []
