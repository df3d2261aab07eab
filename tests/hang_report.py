"""Say where a hung test waits, before pytest-timeout ends its worker.

pytest-timeout (pyproject's `timeout`) stops a test that runs past its limit: it ends the xdist
worker, which xdist reports as crashed in that test and replaces, so the run finishes red with
the test named instead of holding CI until CI's own limit. What the worker printed is lost
with it, and a thread's stack shows only that the event loop waits (`select`), not what for.
So a little earlier this writes every thread's stack and every running loop's asyncio tasks,
each with where it is suspended, to a file the controlling process prints at the end of the run.
"""

from __future__ import annotations

import asyncio
import faulthandler
import gc
import linecache
import os
import shutil
import tempfile
import threading
from collections.abc import Generator
from pathlib import Path

import pytest

# How long before pytest-timeout's limit the report is written (at most half the limit): the
# tasks' part runs on the loop, so it needs the loop to be waiting, not stuck in a call.
AHEAD_SECONDS = 20.0
# The most frames written for one task.
MAX_FRAMES = 40
# The directory the workers write their reports to, made by the controlling process.
DIRECTORY = "ZOOTICKET_HANG_REPORTS"


def running_loops() -> list[asyncio.AbstractEventLoop]:
    """Return the event loops running in this process (any thread)."""
    return [
        obj
        for obj in gc.get_objects()
        if isinstance(obj, asyncio.AbstractEventLoop) and obj.is_running()
    ]


def report_file() -> Path:
    """Return this process's report file, in the directory the controlling process made."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return Path(os.environ.get(DIRECTORY, tempfile.gettempdir())) / f"hang-{worker}-{os.getpid()}"


def await_chain(awaitable: object) -> list[str]:
    """Return where a suspended coroutine waits: its frame, then each one it awaits in turn
    (a task's own stack shows only the outermost)."""
    lines: list[str] = []
    while awaitable is not None and len(lines) < MAX_FRAMES:
        frame = getattr(awaitable, "cr_frame", None) or getattr(awaitable, "gi_frame", None)
        if frame is None:
            lines.append(f"  waiting on {awaitable!r}")
            break
        code = frame.f_code
        source = linecache.getline(code.co_filename, frame.f_lineno).strip()
        lines.append(f'  File "{code.co_filename}", line {frame.f_lineno}, in {code.co_name}')
        lines.append(f"    {source}")
        awaitable = getattr(awaitable, "cr_await", None) or getattr(awaitable, "gi_yieldfrom", None)
    return lines


def write_tasks(loop: asyncio.AbstractEventLoop, test: str) -> None:
    """Write each task of `loop` and where it waits (runs on the loop itself)."""
    tasks = asyncio.all_tasks(loop)
    with report_file().open("a") as out:
        out.write(f"\n+++ {test}: its {len(tasks)} asyncio tasks +++\n")
        for task in tasks:
            out.write(f"--- {task.get_name()}\n")
            out.writelines(f"{line}\n" for line in await_chain(task.get_coro()))


def report(test: str) -> None:
    """Write every thread's stack, then ask every running loop to write its tasks."""
    with report_file().open("a") as out:
        out.write(f"\n+++ {test}: still running; its threads +++\n")
        out.flush()
        faulthandler.dump_traceback(file=out, all_threads=True)
    for loop in running_loops():
        loop.call_soon_threadsafe(write_tasks, loop, test)


def pytest_configure(config: pytest.Config) -> None:
    """In the controlling process, make the directory the workers report to."""
    if not hasattr(config, "workerinput"):
        os.environ[DIRECTORY] = tempfile.mkdtemp(prefix="zooticket-hangs-")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print what hung tests reported, then remove their reports."""
    if hasattr(terminalreporter.config, "workerinput") or DIRECTORY not in os.environ:
        return
    directory = Path(os.environ[DIRECTORY])
    for path in sorted(directory.glob("hang-*")):
        terminalreporter.write_sep("=", f"hung: {path.name}")
        terminalreporter.write(path.read_text(errors="replace"))
    shutil.rmtree(directory, ignore_errors=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """Report the test's threads and tasks if it is still running shortly before its limit."""
    marker = item.get_closest_marker("timeout")
    limit = marker.args[0] if marker and marker.args else item.config.getoption("timeout", None)
    limit = limit or item.config.getini("timeout")
    seconds = max(float(limit) - AHEAD_SECONDS, float(limit) / 2) if limit else 0.0
    if seconds <= 0:
        return (yield)
    timer = threading.Timer(seconds, report, args=(item.nodeid,))
    timer.daemon = True
    timer.start()
    try:
        return (yield)
    finally:
        timer.cancel()
