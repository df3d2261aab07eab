"""The HTTP session the YooKassa SDK talks through: requests' interface, aiohttp on the loop.

Imported by `sdk.load_sdk()` only, with the SDK, so requests and the SDK stay out of start-up.

The SDK is synchronous. The gateway runs each call in a greenlet on the event loop
(SQLAlchemy's `greenlet_spawn`, as its asyncio extension runs a synchronous driver), and this
session's `request` waits for aiohttp with `await_only`: the greenlet hands the loop back until
YooKassa's answer is in, then the SDK reads a `requests.Response` of it. Before, each call ran
in a worker thread through requests: 0.74 ms of CPU a call with 16 in flight, most of it
handing the GIL and the calls' results between the threads and the loop; this way 0.21 ms
(a scratch script against the local YooKassa, 400 re-fetches, three rounds each).
"""

from __future__ import annotations

import json
import os
import ssl
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import requests
from requests.structures import CaseInsensitiveDict
from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_encoding_from_headers, get_environ_proxies
from sqlalchemy.util import await_only

from payments.yookassa.sdk import TransportError


class LoopSession(requests.Session):
    """One gateway's connections to YooKassa, kept, `limit` at most at once.

    The SDK opens a new session, and so a new connection and TLS handshake, for every call; this
    one keeps its connections. A connection YooKassa dropped meanwhile is a transport error
    that the gateway retries with the same idempotence key.

    The environment (HTTPS_PROXY/NO_PROXY, REQUESTS_CA_BUNDLE) is read once, for YooKassa's
    endpoint, when the session is made, and decides as it did for requests: the proxy used and
    the certificates trusted (certifi's bundle unless one is named).
    """

    def __init__(self, endpoint: str, limit: int) -> None:
        """Take the proxy and CA bundle the environment sets for `endpoint`, once."""
        super().__init__()
        self.proxies.update(get_environ_proxies(endpoint))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            self.verify = bundle
        self.trust_env = False
        scheme = urlsplit(endpoint).scheme
        self._proxy: str | None = self.proxies.get(scheme) or self.proxies.get("all")
        self._limit = limit
        self._http: aiohttp.ClientSession | None = None
        self._tls: dict[bool | str, ssl.SSLContext | bool] = {}

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        """Send the SDK's request and wait for the answer (from a greenlet on the loop)."""
        method, url = args
        return await_only(self._send(str(method), str(url), **kwargs))

    async def _send(  # noqa: PLR0913 - the SDK's own arguments
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        json: Any = None,  # noqa: A002 - requests' name, which the SDK passes
        verify: bool | str | None = None,
        timeout: float | None = None,  # noqa: ARG002, ASYNC109 - the gateway's deadline covers it
    ) -> requests.Response:
        tls = self._context(self.verify if verify is None else verify)
        try:
            async with self._client().request(
                method,
                url,
                params=params,
                data=None if json is None else _json_bytes(json),
                headers=headers,
                proxy=self._proxy,
                ssl=tls,
                allow_redirects=False,
            ) as answer:
                content = await answer.read()
        except aiohttp.ClientError as exc:
            raise TransportError(type(exc).__name__) from exc
        response = requests.Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(answer.headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.reason = answer.reason or ""
        response.url = url
        response._content = content  # noqa: SLF001 - how requests' own adapter fills it
        return response

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None:
            connector = aiohttp.TCPConnector(limit=self._limit, limit_per_host=0)
            # No timeout of aiohttp's own: the gateway's deadline covers every attempt.
            timeout = aiohttp.ClientTimeout(total=None)
            self._http = aiohttp.ClientSession(connector=connector, timeout=timeout)
        return self._http

    def _context(self, verify: bool | str) -> ssl.SSLContext | bool:
        """What aiohttp is told to trust for a `verify` setting: True, False or a bundle's path."""
        tls = self._tls.get(verify)
        if tls is None:
            if verify is False:
                tls = False
            else:
                bundle = DEFAULT_CA_BUNDLE_PATH if verify is True else verify
                folder = os.path.isdir(bundle)
                tls = ssl.create_default_context(
                    cafile=None if folder else bundle, capath=bundle if folder else None
                )
            self._tls[verify] = tls
        return tls

    async def aclose(self) -> None:
        """Close the kept connections."""
        if self._http is not None:
            await self._http.close()
            self._http = None

    def close(self) -> None:
        """Keep the connections: the SDK calls this after every request."""


def _json_bytes(value: Any) -> bytes:
    """The body requests would send for `json=value`."""
    return json.dumps(value, allow_nan=False).encode()
