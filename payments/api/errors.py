"""API errors: one exception type, rendered as `{"success": false, "message", "errors"?}`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class ApiError(Exception):
    """An error answer with a status code, a message and, for 422, the failing fields."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: Sequence[Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Keep what the answer carries."""
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = [dict(e) for e in errors] if errors else None
        self.headers = dict(headers) if headers else None

    def body(self) -> dict[str, object]:
        """Return the JSON body."""
        body: dict[str, object] = {"success": False, "message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def invalid(field: str, message: str) -> ApiError:
    """Return a 422 that names the failing field."""
    return ApiError(422, "Validation failed", errors=[{"field": field, "message": message}])
