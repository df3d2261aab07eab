"""Run a probe in a fresh interpreter of our own, from the checkout, as an operator starts one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_probe(code: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `python -c code args…` in the checkout; its output as text (raises on failure with
    `check`)."""
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )
