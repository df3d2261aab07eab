"""Shared pieces of the rush, report and outbox parts: sizes, databases, the service as a process.

`BENCH_QUICK=1` shrinks every size so a smoke run takes a minute or two instead of half an hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from settings import Settings  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
PG_URL = os.environ.get("TEST_DATABASE_URL")
REDIS_URL = os.environ.get("TEST_REDIS_URL")


def sized(full: int, quick: int) -> int:
    """Return the full size, or the smoke-run size under BENCH_QUICK=1."""
    return quick if QUICK else full


def pct(values: list[float], share: float) -> float:
    """Return a percentile of seconds, in milliseconds (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def free_port() -> int:
    """Return a TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log(text: str) -> None:
    """Write one progress line to stderr (stdout carries the part's JSON)."""
    sys.stderr.write(f"bench: {text}\n")
    sys.stderr.flush()


@contextlib.asynccontextmanager
async def database(kind: str, tmp: Path, name: str) -> AsyncIterator[str]:
    """Yield the URL of a fresh, empty database: a SQLite file, or a new PostgreSQL database."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp / f'{name}.db'}"
        return
    if PG_URL is None:
        raise RuntimeError("PostgreSQL needs TEST_DATABASE_URL (scripts/with-services.sh)")
    admin_dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    db_name = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f"CREATE DATABASE {db_name}")
    finally:
        await admin.close()
    try:
        yield f"{PG_URL.rsplit('/', 1)[0]}/{db_name}"
    finally:
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
        finally:
            await admin.close()


def kinds() -> list[str]:
    """The databases to measure: SQLite, and PostgreSQL when the services run gives one.

    BENCH_DATABASES=postgresql (or sqlite) measures one of them only.
    """
    wanted = os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",")
    return [k for k in ("sqlite", "postgresql") if k in wanted and (k == "sqlite" or PG_URL)]


def service_env(values: dict[str, str]) -> dict[str, str]:
    """The environment of a service process: ours without any setting, plus `values`."""
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env.update(values)
    return env


@dataclass
class ServiceProcess:
    """`python main.py` in its own process, as an operator runs it (kill -9 included)."""

    env: dict[str, str]
    cwd: Path
    lag_file: Path | None = None  # set: run the service with a loop probe writing here
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None
    started_at: float = 0.0

    @property
    def log_path(self) -> Path:
        """Where the service's output goes (its working folder, gone when the part ends)."""
        return self.cwd / "service.log"

    @property
    def base_url(self) -> str:
        """The service's HTTP address."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 300.0) -> float:  # noqa: ASYNC109
        """Start the process and wait for /health; return seconds until it answered.

        On a busy shared machine `import main` alone has taken a minute, hence the long wait.
        """
        env = service_env({**self.env, "HTTP_PORT": str(self.port), "HTTP_HOST": "127.0.0.1"})
        self.started_at = time.perf_counter()
        command = [str(ROOT / "main.py")]
        if self.lag_file is not None:
            command = [__file__, "serve", str(self.lag_file)]
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            *command,
            cwd=self.cwd,
            env=env,
            stdout=open(self.log_path, "ab"),  # noqa: ASYNC230, SIM115
            stderr=asyncio.subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    raise RuntimeError(f"service exited: {self.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.base_url}/health")).status_code == 200:  # noqa: PLR2004
                        return time.perf_counter() - self.started_at
                await asyncio.sleep(0.05)
        raise RuntimeError(f"no /health within {timeout} s: {self.tail()}")

    def cpu_seconds(self) -> float:
        """CPU time the service process has used so far (user + system)."""
        if self.process is None:
            return 0.0
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text("ascii").rsplit(")", 1)[1]
        except OSError:
            return 0.0
        user, system = fields.split()[11:13]
        return (int(user) + int(system)) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        """The service process's resident memory in MiB (0 when it is gone)."""
        return self.memory().get("VmRSS", 0.0)

    def memory(self) -> dict[str, float]:
        """The service's resident memory and its parts (RssAnon, RssFile, RssShmem) in MiB."""
        if self.process is None:
            return {}
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text("ascii")
        except OSError:
            return {}
        return {
            name: int(value.split()[0]) / 1024
            for name, _, value in (line.partition(":") for line in status.splitlines())
            if name in ("VmRSS", "RssAnon", "RssFile", "RssShmem")
        }

    def lags(self, since: float, until: float) -> list[float]:
        """The loop probe's overshoots (seconds) between two time.time() moments.

        A stall still going on at `until` (or one that began before `since`) has written no
        line yet: the gaps between lines, and up to both ends, count as lags too.
        """
        if self.lag_file is None or not self.lag_file.exists():
            return []
        taken, moments = [], [since]
        for line in self.lag_file.read_text("ascii").splitlines():
            parts = line.split()
            if len(parts) == 2 and since <= float(parts[0]) <= until:  # noqa: PLR2004
                taken.append(float(parts[1]))
                moments.append(float(parts[0]))
        moments.append(until)
        gaps = [
            later - earlier - 0.01 for earlier, later in zip(moments, moments[1:], strict=False)
        ]
        return taken + gaps

    def tail(self) -> str:
        """The last lines the service logged."""
        path = self.log_path
        return path.read_text("utf-8", "replace")[-3000:] if path.exists() else ""

    def keep_log(self, name: str) -> Path | None:
        """Copy the service's whole log to artifacts/bench/ and return where (None: no log).

        The run's temporary folder goes when the part ends; twice the log of a failed run went
        with it, and with it the cause.
        """
        source = self.log_path
        if not source.exists():
            return None
        folder = ROOT / "artifacts" / "bench"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.log"
        shutil.copyfile(source, target)
        return target

    async def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        if self.process and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def stop(self) -> None:
        """SIGTERM and wait for the graceful stop."""
        if self.process and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                await self.kill()


class HealthProbe:
    """GET /health every 10 ms from a thread of its own; records each answer's time."""

    def __init__(self, url: str, period: float = 0.01) -> None:
        """Prepare; use as a context manager."""
        self.url, self.period = url, period
        self.times: list[float] = []
        self.starts: list[float] = []  # time.time() of each request, to see gaps in probing
        self.failures = 0
        self._asking_since: float | None = None  # perf_counter of the request in flight
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=60) as client:
            while not self._stop.is_set():
                began = time.perf_counter()
                self.starts.append(time.time())
                self._asking_since = began
                try:
                    ok = client.get(self.url).status_code == 200  # noqa: PLR2004
                except httpx.HTTPError:
                    ok = False
                self._asking_since = None
                self.times.append(time.perf_counter() - began)
                self.failures += not ok
                self._stop.wait(self.period)

    def __enter__(self) -> HealthProbe:
        """Start probing."""
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop probing."""
        self._stop.set()
        self._thread.join()

    def reset(self) -> list[float]:
        """Return the answer times so far (a request still unanswered counts as its wait so
        far) and start a new window."""
        taken, self.times = self.times, []
        asking = self._asking_since
        if asking is not None:
            taken.append(time.perf_counter() - asking)
        return taken


@contextlib.contextmanager
def catalog_file(tmp: Path, capacity: int, slots: list[str]) -> Iterator[Path]:
    """Write a copy of the built-in catalog with these slots and this capacity per slot."""
    text = (ROOT / "payments" / "catalog_default.toml").read_text("utf-8")
    lines = []
    for line in text.splitlines():
        if line.startswith("slots = "):
            lines.append("slots = [" + ", ".join(f'"{s}"' for s in slots) + "]")
        elif line.startswith("capacity_per_slot = "):
            lines.append(f"capacity_per_slot = {capacity}")
        else:
            lines.append(line)
    path = tmp / "catalog.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    yield path


class RssSampler:
    """Samples a process's resident memory every 5 ms from a thread; keeps the peak."""

    def __init__(self, service: ServiceProcess) -> None:
        """Prepare; use as a context manager."""
        self.service = service
        self.peak = 0.0
        self.at_peak: dict[str, float] = {}  # the parts of the resident memory at its peak
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            memory = self.service.memory()
            if memory.get("VmRSS", 0.0) > self.peak:
                self.peak, self.at_peak = memory["VmRSS"], memory
            self._stop.wait(0.005)

    def __enter__(self) -> RssSampler:
        """Start sampling."""
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join()


async def serve(lag_file: Path) -> None:
    """Run the service as main.run() does, with a 10 ms loop probe writing `time lag` lines."""
    from main import run  # noqa: PLC0415 - only the service process needs it
    from settings import load_settings  # noqa: PLC0415

    with lag_file.open("a", encoding="ascii", buffering=1) as out:

        async def probe() -> None:
            while True:
                began = time.perf_counter()
                await asyncio.sleep(0.01)
                out.write(f"{time.time():.4f} {time.perf_counter() - began - 0.01:.5f}\n")

        await run(load_settings(), beside=probe)


if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    asyncio.run(serve(Path(sys.argv[2])))
