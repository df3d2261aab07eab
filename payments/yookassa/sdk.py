"""The `yookassa` SDK, the only module that imports it, loaded on first use.

The SDK (and `requests` under it) is imported on the gateway's first call, not at start-up
(`load_sdk()`): ~9 MiB and ~0.3 s that a service which takes no payment for a while does not pay.
Our subclasses make the SDK talk through the calling gateway's session (`SESSION`, a
`transport.LoopSession`: aiohttp on the event loop, the SDK in a greenlet), keep one SDK client
per configuration, and turn transport failures into `TransportError` (the SDK turns them into
AttributeError, yookassa.md §9).
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast


class TransportError(Exception):
    """No usable HTTP answer: connection refused, timeout, or a body that is not JSON."""


# The session the SDK call being made talks through; set by YooKassaGateway around each call.
SESSION: ContextVar[Any] = ContextVar("yookassa_session")
# The kept SDK client (the thread's: every call runs on the event loop's).
_clients = threading.local()


@dataclass(frozen=True)
class Sdk:
    """What the gateway uses of the SDK, loaded once by `load_sdk()`."""

    configuration: Any
    session: Any
    payment: Any
    refund: Any
    api_error: type[Exception]
    not_found: type[Exception]
    transient: tuple[type[Exception], ...]


_loaded: list[Sdk] = []
_loading = threading.Lock()


def sdk_loaded() -> bool:
    """Whether this process has imported the SDK yet."""
    return bool(_loaded)


def load_sdk() -> Sdk:
    """Import the SDK and build our subclasses of it, once per process."""
    with _loading:
        if not _loaded:
            _loaded.append(_load_sdk())
        return _loaded[0]


def _load_sdk() -> Sdk:
    import requests
    from yookassa import Configuration, Payment, Refund
    from yookassa.client import ApiClient
    from yookassa.domain.common import RequestObject
    from yookassa.domain.exceptions import (
        ApiError,
        InternalServerError,
        NotFoundError,
        ResponseProcessingError,
        TooManyRequestsError,
    )

    from payments.yookassa.transport import LoopSession

    class _Client(ApiClient):  # type: ignore[misc]
        """The SDK's client: kept connections, a timeout, honest transport errors.

        No SDK-side retries: `YooKassaGateway._call` retries, with the same idempotence key.
        """

        @staticmethod
        def get_response_info(response: requests.Response) -> dict[str, Any]:
            """The answer's details for the SDK's log, gathered only when it keeps one.

            The SDK gathers them for every answer, logger or not, and one of them,
            `apparent_encoding`, runs charset detection over the whole body (30-60 us of a
            re-fetch's 1 ms, holding the GIL). `raise_for_status` stays: `request` relies on it.
            """
            if Configuration.logger:
                return cast(dict[str, Any], ApiClient.get_response_info(response))
            response.raise_for_status()
            return {"status_code": response.status_code}

        def get_session(self) -> requests.Session:
            session: LoopSession = SESSION.get()
            return session

        def request(
            self,
            method: str = "",
            path: str = "",
            query_params: Any = None,
            headers: Any = None,
            body: Any = None,
        ) -> Any:
            if isinstance(body, RequestObject):
                body.validate()
                body = dict(body)
            request_headers = self.prepare_request_headers(headers)
            try:
                raw = self.execute(body, method, path, query_params, request_headers)
            except requests.HTTPError as exc:
                # The SDK calls raise_for_status() while logging: an error answer arrives here.
                if exc.response is None:
                    raise TransportError(type(exc).__name__) from exc
                raw = exc.response
            except requests.RequestException as exc:
                raise TransportError(type(exc).__name__) from exc
            try:
                if raw.status_code != 200:  # noqa: PLR2004 - YooKassa answers 200 on success only
                    self._ApiClient__handle_error(raw)
                return raw.json()
            except ValueError as exc:  # a body that is not JSON
                raise TransportError(f"HTTP {raw.status_code} without a JSON body") from exc

    def kept_client() -> _Client:
        """Return the kept client, made again only when the configuration changes.

        The SDK makes a client for every call (reading the configuration, building the
        user-agent header): a tenth of a re-fetch's CPU, all of it holding the GIL.
        """
        config = Configuration
        account = (config.account_id, config.secret_key, config.auth_token, config.api_url)
        kept: tuple[tuple[Any, ...], _Client] | None = getattr(_clients, "client", None)
        if kept is None or kept[0] != account:
            kept = _clients.client = (account, _Client())
        return kept[1]

    class _Payment(Payment):  # type: ignore[misc]
        def __init__(self) -> None:
            self.client = kept_client()

    class _Refund(Refund):  # type: ignore[misc]
        def __init__(self) -> None:
            self.client = kept_client()

    return Sdk(
        configuration=Configuration,
        session=LoopSession,
        payment=_Payment,
        refund=_Refund,
        api_error=ApiError,
        not_found=NotFoundError,
        transient=(InternalServerError, TooManyRequestsError, ResponseProcessingError),
    )
