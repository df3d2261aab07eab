"""The HTTP socket is bound so that every accepted connection sends its answers at once.

asyncio sets TCP_NODELAY on an accepted socket only when the listening socket's `proto` says
TCP; a socket made with protocol 0 leaves Nagle's algorithm on, and each answer on a kept-alive
connection then waits for the client's delayed acknowledgement (~40 ms on Linux).
"""

from __future__ import annotations

import asyncio
import socket

from payments.api.server import bind_socket


async def test_accepted_connections_have_tcp_nodelay() -> None:
    sock = bind_socket("127.0.0.1", 0)
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def on_connect(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer: socket.socket = writer.get_extra_info("socket")
        accepted.set_result(peer.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(on_connect, sock=sock)
    try:
        port = sock.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        nodelay = await asyncio.wait_for(accepted, 5)
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
    assert nodelay != 0
