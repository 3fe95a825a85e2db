"""Reading an error answer into the :mod:`dmtools.errors` tree (for every dialect).

Each API dialect reads its own error JSON (:meth:`dmtools.dialects.Dialect.read_error`, passed
here as ``read_body``); this module reads what every dialect shares: the OAuth 2.0 error form
of RFC 6749 (which token endpoints answer, sometimes with HTTP 200), the ``WWW-Authenticate``
header, ``Retry-After``, HTML or empty bodies; then one small table picks the class.

Example:
    >>> error_from_response(response, read_body=dialect.read_error)   # doctest: +SKIP
    NotFound('HTTP 404 not_found: ... (GET /video/xnotfound)')
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from dmtools.errors import (
    APIError,
    AuthenticationError,
    BodyReader,
    ErrorBody,
    LoginRequired,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    ValidationError,
    parse_retry_after,
)

__all__ = ["error_from_graphql", "error_from_response", "read_graphql_error", "read_oauth_error"]


class _ResponseLike(Protocol):
    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> bytes: ...

    @property
    def request(self) -> Any: ...


_WWW_AUTH = re.compile(r'error="(?P<error>[^"]*)"(?:,\s*error_description="(?P<desc>[^"]*)")?')
_TOKEN_REFUSED = {"invalid_token", "invalid_client", "unauthorized_client"}
_OAUTH_REFUSED = {"invalid_request", "unsupported_grant_type", "invalid_scope", "access_denied"}


#: The body of a response not decoded yet.
UNREAD: Any = object()


def json_body(content: bytes | None) -> Any:
    """A body as JSON, or None when there is none or it is not JSON."""
    try:
        return json.loads(content) if content else None
    except (ValueError, UnicodeDecodeError, TypeError):
        return None


def _payload(response: _ResponseLike) -> Any:
    return json_body(getattr(response, "content", None))


def _request_line(response: _ResponseLike) -> tuple[str, str]:
    request = getattr(response, "request", None)
    method = str(getattr(request, "method", "") or "")
    url = str(getattr(request, "url", "") or "")
    return method, urlsplit(url).path if url else ""


def read_oauth_error(status: int, payload: Any) -> ErrorBody | None:
    """The OAuth 2.0 error form of RFC 6749 (``{"error": "...", "error_description": ...}``),
    which every dialect's token endpoint answers with (sometimes with HTTP 200)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("error"), str):
        return None
    error = payload["error"]
    return ErrorBody(type=error, message=str(payload.get("error_description") or error))


def _class_for(status: int, error_type: str | None, invalid_input: bool) -> type[APIError]:
    if error_type == "invalid_grant":
        return LoginRequired
    if status == 401 or error_type in _TOKEN_REFUSED:
        return AuthenticationError
    if status == 403:
        return PermissionDenied
    if status == 404:
        return NotFound
    if status == 429:
        return RateLimited
    if status >= 500:
        return ServerError
    if invalid_input:
        return ValidationError
    if error_type in _OAUTH_REFUSED:
        return AuthenticationError
    return APIError


def error_from_response(
    response: _ResponseLike, *, read_body: BodyReader | None = None, payload: Any = UNREAD
) -> APIError | None:
    """The :class:`APIError` a response stands for, or None if it is a success.

    Args:
        response: the answer (a ``requests.Response`` or alike).
        read_body: the dialect's reader of its error JSON
            (:meth:`dmtools.dialects.Dialect.read_error`); without it only the shared forms
            are read: the OAuth error form (also with HTTP 200), ``WWW-Authenticate``, HTML
            or empty bodies.
        payload: the body as JSON if the caller has already decoded it (None: not JSON).
    """
    status = int(response.status_code)
    if payload is UNREAD:
        payload = _payload(response)
    body = (read_body(status, payload) if read_body else None) or read_oauth_error(status, payload)
    if body is None:
        if status < 400:
            return None
        body = ErrorBody()
    header = response.headers.get("WWW-Authenticate", "") if response.headers else ""
    found = _WWW_AUTH.search(header or "")
    error_type, message = body.type, body.message
    if found:
        error_type = error_type or found.group("error")
        message = message or (found.group("desc") or "")
    status = max(status, 400)  # an OAuth error delivered with 200 is still an error
    cls = _class_for(status, error_type, body.invalid_input)
    kwargs: dict[str, Any] = {"status": status, "type": error_type, "error_data": body.data}
    kwargs["method"], kwargs["path"] = _request_line(response)
    if cls is RateLimited:
        kwargs["retry_after"] = parse_retry_after(response.headers.get("Retry-After"))
    elif cls is PermissionDenied:
        kwargs["missing_scope"], kwargs["profile"] = body.scope, body.profile
    elif cls is ValidationError:
        kwargs["field"] = body.param
    return cls(message or _status_text(status, response), **kwargs)


def _status_text(status: int, response: _ResponseLike) -> str:
    content_type = response.headers.get("Content-Type", "") if response.headers else ""
    if "html" in content_type.lower():
        return f"the server answered {status} with an HTML page"
    return f"the server answered {status}"


# -- GraphQL (the Reporting API) ---------------------------------------------------------------

#: ``extensions.reason`` of a GraphQL error -> (HTTP status it stands for, class); any other
#: ``bad_request`` reason (a broken limit, a bad input, a parse or validation error) is a
#: ValidationError, anything else a plain APIError.
_GRAPHQL_REASONS: dict[str, tuple[int, type[APIError]]] = {
    "missing_scope": (403, PermissionDenied),
    "too_many_concurrent_reports": (429, RateLimited),
    "report_not_found": (404, NotFound),
    "file_not_found": (404, NotFound),
    "not_found": (404, NotFound),
    "missing_token": (401, AuthenticationError),
    "invalid_token": (401, AuthenticationError),
    "expired_token": (401, AuthenticationError),
}
_REPORT_SCOPE = re.compile(
    r"\b(create_reports|read_reports|delete_reports|access_revenue|access_ads|analytics\.manage)\b"
)


def read_graphql_error(status: int, payload: Any) -> ErrorBody | None:
    """The first error of a GraphQL ``errors`` array (``{"message", "path", "extensions":
    {"type", "reason"}}``), with how many there were; None when there is no such array."""
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if not isinstance(errors, list) or not errors:
        return None
    first: dict[str, Any] = errors[0] if isinstance(errors[0], dict) else {}
    found_extensions = first.get("extensions")
    extensions: dict[str, Any] = found_extensions if isinstance(found_extensions, dict) else {}
    reason = extensions.get("reason") or extensions.get("code") or extensions.get("type")
    message = str(first.get("message") or "the GraphQL request failed")
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})"
    kind = str(reason) if reason else None
    found = _REPORT_SCOPE.search(message) if kind == "missing_scope" else None
    return ErrorBody(
        type=kind,
        message=message,
        data={k: first[k] for k in ("path", "extensions") if k in first},
        invalid_input=extensions.get("type") == "bad_request" and kind not in _GRAPHQL_REASONS,
        scope=found.group(1) if found else None,
    )


def error_from_graphql(payload: Any, *, method: str = "POST", path: str = "") -> APIError | None:
    """The :class:`APIError` a GraphQL answer's ``errors`` array stands for (it comes with
    HTTP 200 for a refused report), classed by ``extensions.reason``; None without errors.

    Example:
        >>> error_from_graphql({"data": None, "errors": [{"message": "9 dimensions",
        ...     "extensions": {"type": "bad_request", "reason": "too_many_dimensions"}}]},
        ...     path="/graphql")
        ValidationError('HTTP 400 too_many_dimensions: 9 dimensions (POST /graphql)')
    """
    body = read_graphql_error(200, payload)
    if body is None:
        return None
    status, cls = _GRAPHQL_REASONS.get(body.type or "", (400, APIError))
    if cls is APIError and body.invalid_input:
        cls = ValidationError
    kwargs: dict[str, Any] = {"status": status, "type": body.type, "error_data": body.data}
    if cls is PermissionDenied:
        kwargs["missing_scope"] = body.scope
    elif cls is RateLimited:
        kwargs["retry_after"] = None
    return cls(body.message, method=method, path=path, **kwargs)
