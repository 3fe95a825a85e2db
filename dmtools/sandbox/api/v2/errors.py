"""Error answers of API v2, and the translation of state and shared errors into them.

Every v2 error is ``{"error": {"code", "message", "correlation_id", "details",
"documentation_url"}}`` with a string ``code`` (an :class:`ApiError`'s ``type``): the codes of
the reference and its sandbox decisions are ``UNAUTHENTICATED`` (401), ``MISSING_PERMISSIONS``
(403), ``INVALID_PARAMETER`` and ``MISSING_REQUIRED_PARAMETER`` (400, or 422 by setting),
``RESOURCE_NOT_FOUND`` (404), ``QUOTA_EXCEEDED`` (403) and ``RATE_LIMITED`` (429). Errors
raised with the lower-case kinds of the shared routes and of fault rules (``not_found``,
``rate_limit_exceeded``, ``server_error``...) are given the v2 code of their kind or status.
"""

from __future__ import annotations

import uuid
from typing import Any

from werkzeug.wrappers import Response

from dmtools.sandbox.api.errors import ApiError
from dmtools.sandbox.api.wire import json_response
from dmtools.sandbox.state.errors import (
    NotFound,
    QuotaExceeded,
    RuleViolation,
    StaleVersion,
    TokenRejected,
)

DOCUMENTATION_URL = "https://developers.dailymotion.com/reference/api-errors"

#: Lower-case error kinds (shared routes, faults, the strict JSON parser) -> v2 codes.
_KINDS = {
    "invalid_parameter": "INVALID_PARAMETER",
    "missing_required_parameter": "MISSING_REQUIRED_PARAMETER",
    "invalid_request": "INVALID_PARAMETER",
    "not_found": "RESOURCE_NOT_FOUND",
    "access_forbidden": "MISSING_PERMISSIONS",
    "invalid_token": "UNAUTHENTICATED",
    "rate_limit_exceeded": "RATE_LIMITED",
    "method_not_allowed": "METHOD_NOT_ALLOWED",
    "request_entity_too_large": "PAYLOAD_TOO_LARGE",
    "misdirected_request": "MISDIRECTED_REQUEST",
    "precondition_failed": "PRECONDITION_FAILED",
}
#: Status -> code for kinds not in the table above (a fault rule's own ``type``...).
_STATUSES = {
    400: "INVALID_PARAMETER",
    401: "UNAUTHENTICATED",
    403: "MISSING_PERMISSIONS",
    404: "RESOURCE_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    412: "PRECONDITION_FAILED",
    413: "PAYLOAD_TOO_LARGE",
    422: "INVALID_PARAMETER",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}
#: State field names -> v2 parameter names (where a state rule names a column).
_PARAMS = {
    "explicit": "is_explicit",
    "channel": "category",
    "is_created_for_kids": "is_for_kids",
    "url": "source.file_url",
    "source_url": "source.file_url",
}


def code_of(error: ApiError) -> str:
    """The v2 code of an error: its own if upper-case, else by kind, else by status."""
    if error.type.isupper():
        return error.type
    return (
        _KINDS.get(error.type)
        or _STATUSES.get(error.status)
        or ("INTERNAL_ERROR" if error.status >= 500 else "INVALID_PARAMETER")
    )


def error_body(error: ApiError) -> dict[str, Any]:
    """The v2 error JSON of an :class:`ApiError` (a new correlation id each time)."""
    return {
        "error": {
            "code": code_of(error),
            "message": error.message,
            "correlation_id": str(uuid.uuid4()),
            "details": error.error_data,
            "documentation_url": DOCUMENTATION_URL,
        }
    }


def render(error: ApiError) -> Response:
    body = error_body(error)
    headers = {**error.headers, "X-Correlation-Id": body["error"]["correlation_id"]}
    return json_response(body, error.status, headers)


def invalid(param: str, reason: str, message: str, status: int = 400, **details: Any) -> ApiError:
    """400 (or 422) ``INVALID_PARAMETER`` naming the parameter and the rule it breaks."""
    return ApiError(
        status, "INVALID_PARAMETER", message, {"param": param, "reason": reason, **details}
    )


def missing(param: str, status: int = 400) -> ApiError:
    """400 (or 422) ``MISSING_REQUIRED_PARAMETER``."""
    return ApiError(
        status,
        "MISSING_REQUIRED_PARAMETER",
        f"Missing required parameter '{param}'.",
        {"param": param, "reason": "required"},
    )


def not_found(object_type: str, object_id: str) -> ApiError:
    """404 ``RESOURCE_NOT_FOUND`` (``object_type`` ``Video``, ``Profile``...)."""
    return ApiError(
        404,
        "RESOURCE_NOT_FOUND",
        f"{object_type} with ID '{object_id}' not found.",
        {
            "object_id": object_id,
            "reason": "object_not_found",
            "object_type": object_type,
            "param": "id",
        },
    )


def unauthenticated(reason: str) -> ApiError:
    """401 ``UNAUTHENTICATED``; ``reason`` is missing_token, expired_token or invalid_token."""
    messages = {
        "missing_token": "This call needs an access token (Authorization: Bearer <token>).",
        "expired_token": "The access token has expired.",
        "invalid_token": "The access token is invalid (malformed JWT or bad signature).",
    }
    challenge = 'Bearer realm="api"'
    if reason != "missing_token":
        challenge += f', error="invalid_token", error_description="{messages[reason]}"'
    return ApiError(
        401,
        "UNAUTHENTICATED",
        messages[reason],
        {"reason": reason},
        {"WWW-Authenticate": challenge},
    )


def missing_scope(scope: str) -> ApiError:
    """403 ``MISSING_PERMISSIONS`` naming the scope the call needs."""
    return ApiError(
        403,
        "MISSING_PERMISSIONS",
        f"The access token lacks the scope '{scope}'.",
        {"required_scope": scope},
    )


def profile_forbidden(profile_id: str, scope: str) -> ApiError:
    """403 ``MISSING_PERMISSIONS``: the profile is not one of the key's channels."""
    return ApiError(
        403,
        "MISSING_PERMISSIONS",
        f"This API key has no access to profile '{profile_id}'.",
        {"required_scope": scope, "profile_id": profile_id, "reason": "profile_not_allowed"},
    )


def translate(exc: Exception, validation_status: int = 400) -> ApiError | None:
    """The v2 error of a state error (None for other exceptions)."""
    if isinstance(exc, TokenRejected):
        return unauthenticated("expired_token" if exc.expired else "invalid_token")
    if isinstance(exc, NotFound):
        return not_found(exc.kind.capitalize(), exc.key)
    if isinstance(exc, StaleVersion):
        return ApiError(
            412,
            "PRECONDITION_FAILED",
            f"The video changed since it was read (now version {exc.current}).",
            {"param": "If-Match", "etag": f'"{exc.current}"'},
        )
    if isinstance(exc, QuotaExceeded):
        return ApiError(
            403, "QUOTA_EXCEEDED", exc.message, {"reason": exc.reason, "limit": exc.limit}
        )
    if isinstance(exc, RuleViolation):
        param = _PARAMS.get(exc.field, exc.field)
        if exc.missing:
            return missing(param, validation_status)
        message = exc.message.replace(f"`{exc.field}'", f"'{param}'").replace("`", "'")
        return invalid(param, "invalid_value", message, validation_status)
    return None
