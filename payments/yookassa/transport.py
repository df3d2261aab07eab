"""The HTTP session the YooKassa SDK talks through: requests' interface over urllib3's pool.

Imported by `sdk.load_sdk()` only, with the SDK, so requests and urllib3 stay out of start-up.

The SDK calls `session.request(method, url, params=, headers=, json=, verify=)` and reads a
`requests.Response`. requests builds that call through a prepared request, a merge of session
and request settings, a cookie jar filled from every answer and an adapter: about 350 us of
CPU a call here, over the 250 us urllib3 itself takes, all of it holding the GIL the event loop
needs. YooKassa sets no cookies and we follow no redirects, so `KeptSession` sends the SDK's
request through urllib3's pool itself and hands back a `requests.Response` of the answer. Behind
a proxy from the environment it lets requests do the whole call, as it always did.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any
from urllib.parse import urlencode

import requests
import urllib3
from requests.structures import CaseInsensitiveDict
from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_encoding_from_headers, get_environ_proxies

from payments.yookassa.sdk import TransportError

# What the SDK passes to session.request beside the method and the URL.
_SDK_ARGUMENTS = frozenset({"params", "headers", "json", "verify", "timeout"})


class KeptSession(requests.Session):
    """A session per worker thread, kept between calls.

    The SDK opens a new session, and so a new connection and TLS handshake, for every call,
    and closes it afterwards. Keeping one per thread reuses the connection to YooKassa; a
    connection YooKassa dropped meanwhile is a transport error that the gateway retries with
    the same idempotence key. Each request waits no longer than `deadline.timeout`, the
    calling thread's remaining time.

    The environment (HTTPS_PROXY/NO_PROXY, REQUESTS_CA_BUNDLE) is read once, for YooKassa's
    endpoint, when the session is made: with `trust_env` requests walks every environment
    variable and looks for a .netrc on each call, a quarter of a re-fetch's CPU time.
    """

    def __init__(self, endpoint: str, deadline: threading.local) -> None:
        """Take the proxy and CA bundle the environment sets for `endpoint`, once."""
        super().__init__()
        self.proxies.update(get_environ_proxies(endpoint))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            self.verify = bundle
        self.trust_env = False
        self._deadline = deadline
        self._pools: dict[bool | str, urllib3.PoolManager] = {}

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        """Send the SDK's request directly, or through requests for anything else."""
        kwargs.setdefault("timeout", getattr(self._deadline, "timeout", 15.0))
        if self.proxies or len(args) != 2 or not _SDK_ARGUMENTS.issuperset(kwargs):  # noqa: PLR2004
            return super().request(*args, **kwargs)
        method, url = args
        return self._send(str(method), str(url), **kwargs)

    def _send(  # noqa: PLR0913 - the SDK's own arguments
        self,
        method: str,
        url: str,
        *,
        timeout: float,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        json: Any = None,  # noqa: A002 - requests' name, which the SDK passes
        verify: bool | str | None = None,
    ) -> requests.Response:
        if params:
            url = f"{url}?{urlencode(params, doseq=True)}"
        body = None if json is None else _json_bytes(json)
        sent = dict(self.headers)
        sent.update(headers or {})
        try:
            raw = self._pool(self.verify if verify is None else verify).request(
                method,
                url,
                body=body,
                headers=sent,
                timeout=urllib3.Timeout(connect=timeout, read=timeout),
                retries=False,
                redirect=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise TransportError(type(exc).__name__) from exc
        response = requests.Response()
        response.status_code = raw.status
        response.headers = CaseInsensitiveDict(raw.headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.reason = raw.reason or ""
        response.url = url
        response._content = raw.data  # noqa: SLF001 - how requests' own adapter fills it
        return response

    def _pool(self, verify: bool | str) -> urllib3.PoolManager:
        """This session's pool for a `verify` setting: True, False or a CA bundle's path."""
        pool = self._pools.get(verify)
        if pool is None:
            if verify is False:
                pool = urllib3.PoolManager(cert_reqs="CERT_NONE")
            else:
                bundle = DEFAULT_CA_BUNDLE_PATH if verify is True else verify
                folder = os.path.isdir(bundle)
                pool = urllib3.PoolManager(
                    cert_reqs="CERT_REQUIRED",
                    ca_certs=None if folder else bundle,
                    ca_cert_dir=bundle if folder else None,
                )
            self._pools[verify] = pool
        return pool

    def close(self) -> None:
        """Keep the connections: the SDK calls this after every request."""


def _json_bytes(value: Any) -> bytes:
    """The body requests would send for `json=value`."""
    return json.dumps(value, allow_nan=False).encode()
