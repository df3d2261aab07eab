"""The Telegram Mini App's files: the storefront (and the staff scanner) served at `/app/`.

Plain HTML, CSS and ES modules from `static/`, no build step. The page runs Telegram's own
`telegram-web-app.js` and nothing else from outside: its Content-Security-Policy lets scripts
come only from this service and https://telegram.org, and every request go only back here.
`/app/i18n/<lang>.ftl` hands the browser its Fluent messages: the language's `miniapp*.ftl`
files, concatenated (the same files the Python side loads, so one test keeps ru and en in step).
"""

from __future__ import annotations

import os
from os import PathLike
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

from payments.i18n import LOCALES, languages

STATIC = Path(__file__).parent / "static"
PREFIX = "/app"
TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js"
# Scripts from here and Telegram only; data, QR images (blob:) and API calls from here only.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self' https://telegram.org",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "object-src 'none'",
        # Telegram Web shows Mini Apps in a frame; the apps on phones and desktops do not.
        "frame-ancestors 'self' https://web.telegram.org",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # A new release must reach a phone that still has the page: revalidate every time.
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def messages(lang: str) -> str | None:
    """Return the Fluent source of the Mini App in a language, or None for an unknown one."""
    if lang not in languages():
        return None
    files = sorted((LOCALES / lang).glob("miniapp*.ftl"))
    return "\n".join(path.read_text(encoding="utf-8") for path in files)


def setup(app: FastAPI) -> None:
    """Serve the Mini App at /app/: the page, its messages, its scripts and styles."""

    @app.get(PREFIX, include_in_schema=False)
    async def _to_slash() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=308)

    @app.get(f"{PREFIX}/", include_in_schema=False)
    async def _page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html", headers=PAGE_HEADERS)

    @app.get(f"{PREFIX}/i18n/{{lang}}.ftl", include_in_schema=False)
    async def _texts(lang: str) -> PlainTextResponse:
        source = messages(lang)
        if source is None:
            return PlainTextResponse("unknown language", status_code=404)
        return PlainTextResponse(
            source,
            media_type="text/plain; charset=utf-8",
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )

    app.mount(PREFIX, _Static(directory=STATIC), name="miniapp")


class _Static(StaticFiles):
    """The static files, revalidated on every load and never sniffed into another type."""

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        """Add the page's headers to every file (the CSP also guards a directly opened file)."""
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(PAGE_HEADERS)
        return response
