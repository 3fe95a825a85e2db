"""The error an API route raises: status, kind, message, data, headers (no wire format).

Each dialect renders an :class:`ApiError` in its own error body (the legacy one in
:mod:`dmtools.sandbox.api.legacy.errors`); routes shared by every dialect (the admin API,
the upload server) and the server's own answers are rendered by the default dialect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ApiError(Exception):
    """An error answer: HTTP ``status``, a ``type`` (``"invalid_parameter"``...), a message.

    Example:
        >>> ApiError(404, "not_found", "No such video.").status
        404
    """

    def __init__(
        self,
        status: int,
        error_type: str,
        message: str,
        error_data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = error_type
        self.message = message
        self.error_data: dict[str, Any] = dict(error_data or {})
        self.headers: dict[str, str] = dict(headers or {})


def invalid_body(message: str) -> ApiError:
    """400 ``invalid_parameter`` about the request body."""
    return ApiError(400, "invalid_parameter", message, {"param": "body"})
