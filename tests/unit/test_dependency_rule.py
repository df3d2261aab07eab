"""The dependency rule of README's Architecture section, checked on every import of the tree.

Every `.py` file of the application (bot/, db/ with its migrations, handlers/, payments/,
settings.py, main.py) is parsed and each of its imports is checked, including imports inside
functions and under `TYPE_CHECKING`, relative imports and `importlib.import_module("...")` calls
with a literal name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = frozenset({"bot", "db", "handlers", "payments", "settings", "settings_values", "main"})
SCANNED = ("bot", "db", "handlers", "payments", "settings.py", "settings_values.py", "main.py")
# The one module that imports the YooKassa SDK (the file that exists is the one checked).
YOOKASSA_GATEWAY = ("payments/yookassa/sdk.py",)


@dataclass(frozen=True)
class Rule:
    """Files under `scope` (a folder with a trailing slash, a file, or "" for all) must not
    import any of `forbidden` (top-level module names), except the files in `exempt`."""

    name: str
    scope: str
    forbidden: frozenset[str]
    exempt: tuple[str, ...] = ()


RULES = (
    Rule("db/ imports nothing of ours", "db/", OURS - {"db"}),
    Rule(
        "payments/ never imports aiogram, bot/, handlers/, settings or main",
        "payments/",
        frozenset({"aiogram", "bot", "handlers", "settings", "settings_values", "main"}),
    ),
    Rule(
        "bot/ never imports handlers/, settings or main",
        "bot/",
        frozenset({"handlers", "settings", "settings_values", "main"}),
    ),
    Rule("settings.py imports nothing of ours", "settings.py", OURS - {"settings_values"}),
    Rule("settings_values.py imports nothing of ours", "settings_values.py", OURS),
    Rule("nothing imports main", "", frozenset({"main"}), exempt=("main.py",)),
    Rule(
        "only payments/yookassa/sdk.py imports yookassa",
        "",
        frozenset({"yookassa"}),
        exempt=YOOKASSA_GATEWAY,
    ),
)


@dataclass(frozen=True)
class Import:
    """One imported module name and where."""

    module: str
    line: int

    @property
    def top(self) -> str:
        return self.module.split(".")[0]


def _package_of(path: str) -> list[str]:
    """Return the package a relative import starts from (for an __init__.py, its own)."""
    return path.split("/")[:-1]


def imports_of(source: str, path: str) -> Iterator[Import]:
    """Yield every module a file imports, wherever the import statement stands."""
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _package_of(path)
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield Import(module, node.lineno)
        elif (
            isinstance(node, ast.Call)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (
                    isinstance(node.func, ast.Name)
                    and node.func.id in {"import_module", "__import__"}
                )
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield Import(node.args[0].value, node.lineno)


def _tree() -> list[str]:
    files: list[str] = []
    for entry in SCANNED:
        path = ROOT / entry
        found = [path] if path.is_file() else sorted(path.rglob("*.py"))
        files += [p.relative_to(ROOT).as_posix() for p in found]
    return files


def _in_scope(rule: Rule, path: str) -> bool:
    if path in rule.exempt:
        return False
    return (
        path.startswith(rule.scope)
        if rule.scope.endswith("/") or not rule.scope
        else path == rule.scope
    )


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_dependency_rule(rule: Rule) -> None:
    broken = []
    checked = 0
    for path in _tree():
        if not _in_scope(rule, path):
            continue
        checked += 1
        for found in imports_of((ROOT / path).read_text(encoding="utf-8"), path):
            if found.top in rule.forbidden:
                broken.append(f"{path}:{found.line}: imports {found.module}")
    assert checked, f"rule {rule.name!r} matched no file: is its scope {rule.scope!r} stale?"
    assert not broken, f"dependency rule broken: {rule.name}\n" + "\n".join(broken)


def test_the_gateway_constant_names_the_module_that_owns_the_sdk() -> None:
    """A stale YOOKASSA_GATEWAY would exempt nothing, or a file that no longer exists."""
    owners = [path for path in YOOKASSA_GATEWAY if (ROOT / path).is_file()]
    assert len(owners) == 1, f"exactly one of {YOOKASSA_GATEWAY} should exist, found {owners}"
    source = (ROOT / owners[0]).read_text(encoding="utf-8")
    assert any(found.top == "yookassa" for found in imports_of(source, owners[0]))


def test_imports_are_found_wherever_they_stand() -> None:
    source = """
import aiogram.types
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from bot.texts import t
def later() -> None:
    from settings import Settings
    importlib.import_module("handlers.my")
from . import money
from ..db import models
"""
    found = {(i.module, i.line) for i in imports_of(source, "payments/api/app.py")}
    assert found >= {
        ("aiogram.types", 2),
        ("bot.texts", 5),
        ("settings", 7),
        ("handlers.my", 8),
        ("payments.api", 9),
        ("payments.db", 10),
    }
