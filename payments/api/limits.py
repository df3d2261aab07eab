"""Request size limits: an oversized body is answered 413 before anything reads or parses it.

A pure ASGI middleware, so nothing upstream buffers the body first: a declared Content-Length
over the limit is refused before a byte of the body is read; a body of unknown length (chunked)
is counted as it arrives and refused as soon as the count passes the limit, leaving the rest
unread by the app. Uvicorn then discards whatever more the client sends (no buffer grows) and
closes the connection after its keep-alive timeout; the connection is not closed at once, since
a client still writing its body would get a reset instead of the 413.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_MAX_BODY_BYTES = 64 * 1024
WEBHOOK_MAX_BODY_BYTES = 256 * 1024

_TOO_LARGE = json.dumps({"success": False, "message": "Request body too large"}).encode()


class BodyLimit:
    """Refuse request bodies over a limit: the default, or a larger one for named paths."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int = API_MAX_BODY_BYTES,
        paths: MutableMapping[str, int] | None = None,
    ) -> None:
        """Wrap the app; `paths` (exact path → limit) may still be filled after this."""
        self._app = app
        self._limit = limit
        self._paths = paths if paths is not None else {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 413 without reading the body."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        limit = self._paths.get(scope["path"], self._limit)
        declared = _content_length(scope)
        if declared is not None:
            if declared > limit:
                await _refuse(send)
                return
            await self._app(scope, receive, send)
            return
        # Unknown length (chunked): read up to the limit here, then replay it to the app.
        received: list[Message] = []
        size = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break  # the client went away; let the app see it
            size += len(message.get("body", b""))
            if size > limit:
                await _refuse(send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return received.pop(0) if received else await receive()

        await self._app(scope, replay, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP server refuses such a request before we see it
    return None


async def _refuse(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(_TOO_LARGE)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _TOO_LARGE})


def setup(app: FastAPI, limit: int = API_MAX_BODY_BYTES) -> None:
    """Add the limit to the app; routes that take larger bodies call `allow_body`."""
    paths: dict[str, int] = {}
    app.state.body_limits = paths
    app.add_middleware(BodyLimit, limit=limit, paths=paths)


def allow_body(app: FastAPI, path: str, limit: int) -> None:
    """Let `path` take bodies up to `limit` bytes (webhooks get more than the API)."""
    paths: dict[str, int] = app.state.body_limits  # made by setup(), in create_app()
    paths[path] = limit
