"""The load generator of make bench's webhook part, run in a process of its own.

It POSTs JSON bodies over `concurrency` kept-alive HTTP/1.1 connections and prints, as JSON,
the seconds the whole batch took and each body's latency (in the order of the bodies). It runs
apart from the server under test so that the client's own work does not share (and slow) the
server's event loop: YooKassa's notifications come from another machine, not from inside the
shop. It is a bare asyncio client, so the client costs as little as a client can.

Usage: bench_load.py URL CONCURRENCY < bodies.json   (a JSON list of strings)
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time
from urllib.parse import urlsplit

OK = 200


async def post_all(url: str, bodies: list[bytes], concurrency: int) -> tuple[float, list[float]]:
    """POST every body; return (seconds for all, latency of each body)."""
    parts = urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
    latencies = [0.0] * len(bodies)
    queue = list(reversed(range(len(bodies))))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while queue:
                index = queue.pop()
                body = bodies[index]
                head = (
                    f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                ).encode()
                began = time.perf_counter()
                writer.write(head + body)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                answer = await reader.readexactly(length)
                latencies[index] = time.perf_counter() - began
                status = int(status_line.split()[1])
                if status != OK:
                    raise RuntimeError(f"webhook answered {status}: {answer!r}")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies


def main() -> None:
    """Read the bodies from stdin, load the URL, print {"seconds", "latencies"}."""
    url, concurrency = sys.argv[1], int(sys.argv[2])
    bodies = [body.encode() for body in json.load(sys.stdin)]
    seconds, latencies = asyncio.run(post_all(url, bodies, concurrency))
    sys.stdout.write(json.dumps({"seconds": seconds, "latencies": latencies}))


if __name__ == "__main__":
    main()
