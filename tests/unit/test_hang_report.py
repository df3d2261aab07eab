"""A hung test in CI: the run ends, names it, and shows what its coroutines wait for."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

HUNG = """
import asyncio


async def wait_for_a_reply_that_never_comes() -> None:
    await asyncio.Event().wait()


async def test_hangs() -> None:
    await wait_for_a_reply_that_never_comes()


def test_passes() -> None:
    pass
"""


def test_a_hung_test_is_ended_and_where_it_waits_is_printed(tmp_path: Path) -> None:
    (tmp_path / "test_hung.py").write_text(HUNG)
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(  # noqa: S603 - this interpreter, on a test file written here
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.hang_report",
            *("-p", "no:cacheprovider", "-p", "no:schemathesis", "-p", "no:hypothesispytest"),
            *("-n", "1", "--timeout", "4", "-o", "timeout_method=thread"),
            *("-o", "asyncio_mode=auto", "-o", "asyncio_default_fixture_loop_scope=function"),
            "--rootdir",
            str(tmp_path),
            str(tmp_path / "test_hung.py"),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = run.stdout
    assert run.returncode == 1, out
    assert "1 failed, 1 passed" in out  # the run went on past the hung test
    assert "crashed while running" in out
    assert re.search(r"FAILED \S*test_hung.py::test_hangs", out)
    # Its report survived the worker: the test's task, and the line it waits on.
    assert "test_hung.py::test_hangs: its" in out
    assert "in wait_for_a_reply_that_never_comes" in out
    assert "await asyncio.Event().wait()" in out
