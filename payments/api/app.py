"""The FastAPI application: JSON errors everywhere, routes added by each subsystem's setup()."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from payments.api import docs as api_docs
from payments.api import health, limits
from payments.api.errors import ApiError

log = logging.getLogger(__name__)

TAGS = [
    {"name": "ZooTicket /v1", "description": "Ticket payments: sessions and payments."},
    {
        "name": "ZooTicket Mini App /api/v2",
        "description": "The Telegram Mini App: sign-in, subscription payments, their status.",
    },
    {
        "name": "Mini App",
        "description": "The Mini App's storefront: the caller, the catalog at their prices, "
        "free seats, their orders, tickets (with QR images) and subscription.",
    },
    {
        "name": "Gate",
        "description": "The staff scanner: today's lists, check-in, offline sync (staff only).",
    },
    {"name": "system", "description": "Health checks."},
]


def _error(status: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"success": False, "message": message, **extra}, status_code=status)


def create_app(*, title: str = "zooticket-bot", sandbox: bool = True, docs: bool = True) -> FastAPI:
    """Create the app with health routes and JSON error handlers; callers add the rest.

    Without `docs` there is no /docs or /openapi.json (404): a production shop does not
    hand strangers a map of its API unless API_DOCS_ENABLED says so.
    """
    description = (
        "ZooTicket (zooticket-bot): the REST API of the zoo's ticket and subscription shop. "
        "`/v1`: ticket payments for web clients; `/api/v2`: the Telegram Mini App's sign-in, "
        "subscription payments and their status. Payments go through YooKassa."
    )
    if sandbox:
        description += " SANDBOX MODE: payments go to the embedded YooKassa sandbox."
    app = FastAPI(
        title=title,
        version="1.0.0",
        description=description,
        openapi_tags=TAGS,
        openapi_url="/openapi.json" if docs else None,
        # Served by payments/api/docs.py from local files, not from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    if docs:
        api_docs.setup(app)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = _error(exc.status_code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(part) for part in err["loc"] if part != "body"),
                "message": str(err["msg"]).removeprefix("Value error, "),
            }
            for err in exc.errors()
        ]
        return _error(422, "Validation failed", errors=errors)

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        response = JSONResponse(exc.body(), status_code=exc.status)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return _error(500, "Internal server error")

    health.setup(app)
    limits.setup(app)
    return app
