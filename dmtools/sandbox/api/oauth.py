"""What every dialect's token endpoint shares (RFC 6749): the error, the request, the client.

* :class:`OAuthError`: an error answer ``{"error", "error_description"}`` (§5.2);
* :func:`token_form`: the request's parameters (a form body, or a JSON object of strings);
* :func:`authenticate_client`: the API key, from the form body or HTTP Basic (not both);
* :func:`answer`: runs a token request and renders it, errors included, with
  ``Cache-Control: no-store``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from dmtools.sandbox.api.errors import ApiError
from dmtools.sandbox.api.wire import flatten, json_response, read_json
from dmtools.sandbox.state.errors import GrantError
from dmtools.sandbox.state.settings import Settings
from dmtools.sandbox.state.tokens import Tokens

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


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

    @classmethod
    def of(cls, exc: GrantError, headers: Mapping[str, str] | None = None) -> OAuthError:
        """The answer to a refused grant (``invalid_client`` is a 401)."""
        status = 401 if exc.error == "invalid_client" else 400
        return cls(exc.error, exc.description, status, headers if status == 401 else None)

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.description}


def token_form(request: Request) -> dict[str, str]:
    """The token request's parameters: a form body, or a JSON object of strings.

    Raises:
        OAuthError: ``invalid_request`` (a method other than POST, a malformed body).
    """
    if request.method != "POST":
        raise OAuthError("invalid_request", "The token endpoint only accepts POST.")
    if request.mimetype != "application/json":
        return {k: (v if isinstance(v, str) else v[0]) for k, v in flatten(request.form).items()}
    try:
        data = read_json(request)
    except ApiError as exc:
        raise OAuthError("invalid_request", exc.message) from None
    if not isinstance(data, dict):
        raise OAuthError("invalid_request", "The request body must be form-encoded parameters.")
    form: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise OAuthError("invalid_request", f"Parameter {key!r} must be a string.")
        form[key] = str(value)
    return form


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_request", "Malformed HTTP Basic credentials.") from None
    user, _, password = decoded.partition(":")
    return unquote(user), unquote(password)


def authenticate_client(request: Request, form: dict[str, str], tokens: Tokens) -> dict[str, Any]:
    """The API key of a token request: HTTP Basic or ``client_id``/``client_secret``.

    Raises:
        OAuthError: ``invalid_request`` (no client id, both ways at once), ``invalid_client``.
    """
    basic = _basic(request)
    if basic and form.get("client_secret"):
        raise OAuthError(
            "invalid_request",
            "Send the client credentials either with HTTP Basic or in the form "
            "body (client_id, client_secret), not both.",
        )
    if basic:
        client_id, secret = basic
        if form.get("client_id") and form["client_id"] != client_id:
            raise OAuthError("invalid_request", "client_id differs from the Basic credentials.")
    else:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    if not client_id:
        raise OAuthError("invalid_request", "Missing client_id.")
    try:
        return tokens.client(client_id, secret)
    except GrantError as exc:
        headers = {"WWW-Authenticate": 'Basic realm="sandbox"'} if basic else {}
        raise OAuthError.of(exc, headers) from None


def answer(settings: Settings, grant: Callable[[], dict[str, Any]]) -> Response:
    """The token endpoint's answer: ``grant()``'s body, or its error in the RFC 6749 shape."""
    try:
        try:
            body = grant()
        except GrantError as exc:
            raise OAuthError.of(exc) from None
    except OAuthError as exc:
        status = 200 if settings.token_errors_as_200 else exc.status
        return json_response(exc.body(), status, {**NO_STORE, **exc.headers})
    return json_response(body, 200, NO_STORE)
