"""Scheduler sweeps in the metrics: a run that fails is counted as an error and still raises."""

from __future__ import annotations

import pytest

from payments.metrics import REGISTRY, timed_job


def runs(job: str, outcome: str) -> float:
    return (
        REGISTRY.get_sample_value("zooticket_job_runs_total", {"job": job, "outcome": outcome}) or 0
    )


async def test_a_failing_run_counts_as_an_error_and_a_good_one_as_ok() -> None:
    async def broken() -> None:
        raise RuntimeError("the database went away")

    async def fine() -> int:
        return 3

    before = runs("probe", "error"), runs("probe", "ok")
    with pytest.raises(RuntimeError):  # the scheduler logs it, as it did before
        await timed_job("probe", broken)()
    assert await timed_job("probe", fine)() == 3
    assert (runs("probe", "error"), runs("probe", "ok")) == (before[0] + 1, before[1] + 1)
    took = REGISTRY.get_sample_value("zooticket_job_seconds_count", {"job": "probe"})
    assert took == 2
