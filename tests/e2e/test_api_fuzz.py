"""Schemathesis against `/openapi.json` of the running app: no server error, answers as documented.

The service runs in this test's event loop (composed by `make_shop`, as main.py composes it);
the schemathesis CLI runs beside it as a subprocess, so the loop keeps serving while it fuzzes.
It runs every phase (the schema's examples, coverage of each constraint, random fuzzing and
stateful sequences along the inferred links), deterministically, with an admin's token so the
paths that replace a payment's amount at YooKassa are reached too.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest

from payments.api.auth import sign_init_data
from tests.e2e.conftest import ADMIN_ID, ShopFactory

MAX_EXAMPLES = 25
RUN_TIMEOUT_SECONDS = 300
# No 5xx for any input, and every answer as documented: its status, content type, headers, body.
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    )
)


async def _admin_token(http: httpx.AsyncClient, bot_token: str) -> str:
    user = json.dumps({"id": ADMIN_ID, "first_name": "Admin"}, separators=(",", ":"))
    query = sign_init_data({"user": user, "auth_date": str(int(time.time()))}, bot_token)
    response = await http.get(f"/api/v2/auth/verify?{query}")
    assert response.status_code == 200, response.text
    token = response.json()["accessToken"]
    assert isinstance(token, str)
    return token


async def _schemathesis(args: list[str], cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT_SECONDS)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")


@pytest.mark.slow
async def test_schemathesis_finds_no_server_error_and_no_schema_mismatch(
    make_shop: ShopFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A pending limit out of reach, so valid orders get past it to YooKassa and back.
    shop = await make_shop(PENDING_PAYMENTS_LIMIT=100_000)
    base = shop.service.base_url
    async with httpx.AsyncClient(base_url=base) as http:
        schema = (await http.get("/openapi.json")).json()
        token = await _admin_token(http, shop.telegram.token)
    operations = {
        f"{method.upper()} {path}"
        for path, methods in schema["paths"].items()
        for method in methods
    }
    assert len(operations) >= 11
    junit = tmp_path / "junit.xml"

    started = time.monotonic()
    code, output = await _schemathesis(
        [
            f"{base}/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            CHECKS,
            "--max-examples",
            str(MAX_EXAMPLES),
            "--generation-deterministic",
            "--workers",
            "1",
            "--request-timeout",
            "20",
            "--no-color",
            "--report",
            "junit",
            "--report-junit-path",
            str(junit),
        ],
        tmp_path,
    )
    elapsed = time.monotonic() - started

    assert code == 0, output
    suite = ElementTree.parse(junit).getroot()  # noqa: S314 - the report of our own run
    assert suite.get("failures") == "0", output
    assert suite.get("errors") == "0", output
    tested = {case.get("name") for case in suite.iter("testcase")}
    assert operations <= tested, operations - tested
    assert "Stateful tests" in tested
    assert "generated" in output
    assert " passed" in output
    # Generated orders that the catalog accepts reached YooKassa: the run went past validation.
    assert shop.yookassa.payments
    unhandled = [r for r in caplog.records if r.name == "payments.api.app"]
    assert not unhandled, [r.getMessage() for r in unhandled]
    assert elapsed < RUN_TIMEOUT_SECONDS
