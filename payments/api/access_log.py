"""Keep sign-in data out of uvicorn's access log: `/auth/*` lines lose their query strings."""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
# A path under /auth/ and its query string, up to the next blank or quote of the log line.
_AUTH_QUERY = re.compile(r"(/auth/[^\s?\"']*)\?[^\s\"']*")


def _strip(value: object) -> object:
    if isinstance(value, str) and "/auth/" in value:
        return _AUTH_QUERY.sub(r"\1", value)
    return value


class HideAuthQueries(logging.Filter):
    """Drop the query string of `/auth/*` requests from access log records.

    `GET /api/v2/auth/verify?<initData>` is how the seed signs in: the query string is the
    Telegram-signed login itself, good for a day, and must not land in log files.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's path (uvicorn passes it as an argument) or its message."""
        if isinstance(record.args, tuple):
            record.args = tuple(_strip(arg) for arg in record.args)
        elif isinstance(record.msg, str):
            record.msg = _strip(record.msg)
        return True


def hide_auth_queries() -> None:
    """Install the filter on uvicorn's access logger (once per process)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, HideAuthQueries) for existing in logger.filters):
        logger.addFilter(HideAuthQueries())
