"""Error answers of the legacy Platform API, and the translation of state errors into them.

REST errors are ``{"error": {"more_info", "code", "message", "type", "error_data"}}`` with
``code`` equal to the HTTP status; token-endpoint errors are the OAuth form
``{"error": "...", "error_description": "..."}`` (:class:`~dmtools.sandbox.api.oauth.OAuthError`,
shared by every dialect).
"""

from __future__ import annotations

from typing import Any

from dmtools.sandbox.api.errors import ApiError
from dmtools.sandbox.state.errors import (
    GrantError,
    NotFound,
    RuleViolation,
    StaleVersion,
    StateError,
    TokenRejected,
)

MORE_INFO = "https://developer.dailymotion.com/api#error-codes"


def error_body(error: ApiError) -> dict[str, Any]:
    """The legacy error JSON of an :class:`ApiError`."""
    return {
        "error": {
            "more_info": MORE_INFO,
            "code": error.status,
            "message": error.message,
            "type": error.type,
            "error_data": error.error_data,
        }
    }


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


def stale(current: int) -> ApiError:
    """412: an ``If-Match`` write found another version."""
    return ApiError(
        412,
        "precondition_failed",
        f"The video changed since it was read (now version {current}).",
        {"param": "If-Match", "etag": f'"{current}"'},
    )


def translate(exc: StateError) -> ApiError:
    """The legacy REST answer to an error of the state layer (token endpoints answer
    :class:`~dmtools.sandbox.state.GrantError` with ``OAuthError.of``)."""
    if isinstance(exc, NotFound):
        return not_found(exc.kind, exc.key)
    if isinstance(exc, StaleVersion):
        return stale(exc.current)
    if isinstance(exc, RuleViolation):
        if exc.missing:
            return missing_parameter(exc.field, exc.message)
        return invalid_parameter(exc.field, exc.message)
    if isinstance(exc, TokenRejected):
        return invalid_token(exc.expired)
    if isinstance(exc, GrantError):
        return ApiError(400, exc.error, exc.description)
    return ApiError(400, "invalid_parameter", str(exc))
