"""The error answers of the sandbox, shaped like the real API's.

REST errors are ``{"error": {"more_info", "code", "message", "type", "error_data"}}`` with
``code`` equal to the HTTP status; token-endpoint errors are the OAuth form
``{"error": "...", "error_description": "..."}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MORE_INFO = "https://developer.dailymotion.com/api#error-codes"


class ApiError(Exception):
    """An error answer of the REST API (raised by route handlers, rendered by the app)."""

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

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "more_info": MORE_INFO,
                "code": self.status,
                "message": self.message,
                "type": self.type,
                "error_data": self.error_data,
            }
        }


class OAuthError(Exception):
    """An error answer of a token endpoint (RFC 6749 §5.2 shape)."""

    def __init__(
        self,
        error: str,
        description: str,
        status: int = 400,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.headers: dict[str, str] = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.description}


def not_found(object_type: str, object_id: str) -> ApiError:
    return ApiError(
        404,
        "not_found",
        f"Can't find object {object_type} for `id' parameter",
        {
            "reason": "object_not_found",
            "object_type": object_type,
            "object_id": object_id,
            "param": "id",
        },
    )


def invalid_parameter(param: str, message: str, **data: Any) -> ApiError:
    return ApiError(400, "invalid_parameter", message, {"param": param, **data})


def missing_parameter(param: str, message: str | None = None) -> ApiError:
    return ApiError(
        400,
        "missing_required_parameter",
        message or f"Missing required parameter `{param}'.",
        {"param": param},
    )


def forbidden(route: str, scope: str | None = None, message: str | None = None) -> ApiError:
    """403 ``access_forbidden``; with ``scope`` the message and ``error_data`` name it."""
    if message is None:
        message = f"Insufficient rights for route {route}"
        if scope:
            message += f": scope required: {scope}"
    data = {"route": route}
    if scope:
        data["scope"] = scope
    return ApiError(403, "access_forbidden", message, data)


def invalid_token(expired: bool) -> ApiError:
    description = "The access token has expired." if expired else "The access token is invalid."
    return ApiError(
        401,
        "invalid_token",
        description,
        {"reason": "expired" if expired else "invalid"},
        headers={
            "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'
        },
    )
