"""Log filters that keep login data and secrets out of every log line.

`HideAuthQueries` drops the query strings of `/auth/*` paths from uvicorn's access log;
`RedactSecrets` masks the configured secrets (bot token, YooKassa key, ...) wherever a message
or a traceback would carry them, e.g. a library's error text quoting the Bot API URL.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

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


MASK = "***"
# Shorter values would mask ordinary words; every real secret here is far longer.
MIN_SECRET_LENGTH = 8


class RedactSecrets(logging.Filter):
    """Replace each known secret value in a record's message and traceback with `***`."""

    def __init__(self, secrets: Iterable[str]) -> None:
        """Keep the values to mask, longest first (one may contain another)."""
        super().__init__()
        values = {value for value in secrets if len(value) >= MIN_SECRET_LENGTH}
        self._secrets = sorted(values, key=len, reverse=True)

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place (its formatted message and its exception text)."""
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = self._redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        return True
