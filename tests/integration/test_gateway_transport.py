"""How the gateway's HTTP session reaches YooKassa: query strings, proxies, certificates.

The session sends the SDK's calls through aiohttp on the event loop
(payments/yookassa/transport.py); these are the parts of requests' behaviour it must keep.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import http.server
import ipaddress
import ssl
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy.util import greenlet_spawn

from payments.types import PaymentStatus
from payments.yookassa.sdk import TransportError, load_sdk
from tests.fakes.yookassa_api import FakeYooKassa
from tests.integration.test_gateway import _gateway, _request


@pytest.fixture
async def yookassa() -> AsyncIterator[FakeYooKassa]:
    async with FakeYooKassa() as fake:
        yield fake


async def test_a_listing_sends_its_filters_in_the_query_string(yookassa: FakeYooKassa) -> None:
    """The reconciler's listing: status and creation time reach YooKassa as query parameters."""
    gateway = _gateway(yookassa)
    try:
        created = [await gateway.create_payment(_request(f"ZT_{n:010d}")) for n in range(3)]
        await yookassa.pay(created[0].id)
        since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        pending = await gateway.list_payments(PaymentStatus.PENDING, since)
        succeeded = await gateway.list_payments(PaymentStatus.SUCCEEDED, since)
    finally:
        await gateway.close()
    assert sorted(p.id for p in pending) == sorted(p.id for p in created[1:])
    assert [p.id for p in succeeded] == [created[0].id]


class ForwardProxy:
    """A plain HTTP forward proxy: it relays each request to its origin, one per connection,
    and keeps the request lines it was asked (absolute URLs, as clients send to a proxy)."""

    def __init__(self) -> None:
        """Not listening until `async with`."""
        self.asked: list[str] = []
        self._server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> ForwardProxy:
        """Listen on a free loopback port."""
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *_: object) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        method, target, version = head[0].split(" ")
        self.asked.append(f"{method} {target}")
        fields = [line for line in head[1:] if line]
        length = sum(
            int(line.split(":", 1)[1])
            for line in fields
            if line.lower().startswith("content-length:")
        )
        body = await reader.readexactly(length)
        kept = [f for f in fields if not f.lower().startswith(("connection:", "proxy-"))]
        origin = urlsplit(target)
        path = origin.path + (f"?{origin.query}" if origin.query else "")
        upstream_reader, upstream = await asyncio.open_connection(origin.hostname, origin.port)
        request = "\r\n".join([f"{method} {path} {version}", *kept, "Connection: close", "", ""])
        upstream.write(request.encode("latin-1") + body)
        await upstream.drain()
        writer.write(await upstream_reader.read())
        upstream.close()
        await writer.drain()
        writer.close()


async def test_behind_a_proxy_from_the_environment_calls_go_through_it(
    yookassa: FakeYooKassa, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shop that reaches the internet through HTTP(S)_PROXY reaches YooKassa through it."""
    for name in ("NO_PROXY", "no_proxy", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    async with ForwardProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        gateway = _gateway(yookassa)
        try:
            created = await gateway.create_payment(_request("ZT_0000000001"))
            assert (await gateway.get_payment(created.id)).status is PaymentStatus.PENDING
        finally:
            await gateway.close()
    assert proxy.asked == [
        f"POST {yookassa.api_url}/payments",
        f"GET {yookassa.api_url}/payments/{created.id}",
    ]
    assert yookassa.create_count == 1


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files in `folder`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "api.yookassa.test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "yookassa.pem", folder / "yookassa.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class TlsServer:
    """An HTTPS server in a thread of its own that answers every GET with `{"ok": true}`."""

    def __init__(self, cert: Path, key: Path) -> None:
        """Serve with this certificate until `stop()`."""
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(cert, key)

        class Answer(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                """Keep the test's output clean."""

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
        self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}/v3/me"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


async def _get(url: str) -> requests.Response:
    """GET `url` as the SDK would, through a session made now (it reads the environment)."""
    session = load_sdk().session(url, 1)
    try:
        answer = await greenlet_spawn(session.request, "GET", url, headers={}, verify=None)
    finally:
        await session.aclose()
    return cast(requests.Response, answer)


async def test_certificates_are_checked_against_the_environments_ca_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """YooKassa's certificate is verified: a server the CA bundle does not vouch for gets no
    request, and REQUESTS_CA_BUNDLE (a shop's own CA, say) decides what is trusted."""
    server = TlsServer(*_certificate(tmp_path))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    try:
        with pytest.raises(TransportError, match="Certificate"):
            await _get(server.url)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "yookassa.pem"))
        answer = await _get(server.url)
    finally:
        server.stop()
    assert answer.status_code == 200
    assert answer.json() == {"ok": True}
