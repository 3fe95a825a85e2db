"""Error payloads of every shape the API (and the sandbox) sends map to the right exception.

The API's error JSON is read by its dialect (here the legacy one); the OAuth form,
``WWW-Authenticate``, ``Retry-After`` and HTML pages are read the same for every dialect."""

from __future__ import annotations

import json
import pickle

import pytest
import requests

from dmtools import errors
from dmtools.dialects.legacy import LEGACY


def _response(
    status: int,
    body: object = None,
    *,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    url: str = "https://api.dailymotion.com/video/x1?access_token=SECRET",
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = raw if raw is not None else json.dumps(body).encode()
    response.headers.update(headers or {"Content-Type": "application/json"})
    response.request = requests.Request("GET", url).prepare()
    return response


def raise_for_error(response: requests.Response) -> None:
    errors.raise_for_error(response, read_body=LEGACY.read_error)


def _api_error(status: int, type_: str, message: str, data: dict | None = None) -> dict:
    return {
        "error": {
            "more_info": "https://developer.dailymotion.com/api#error-codes",
            "code": status,
            "message": message,
            "type": type_,
            "error_data": data or {},
        }
    }


def test_not_found_keeps_status_type_message_and_data_but_not_the_query() -> None:
    body = _api_error(
        404,
        "not_found",
        "Can't find object video for `id' parameter",
        {"object_id": "x1", "param": "id"},
    )
    with pytest.raises(errors.NotFound) as info:
        raise_for_error(_response(404, body))
    exc = info.value
    assert (exc.status, exc.type, exc.error_data["object_id"]) == (404, "not_found", "x1")
    assert exc.path == "/video/x1" and exc.method == "GET"
    assert "SECRET" not in str(exc) and "SECRET" not in repr(exc.__dict__)


def test_validation_error_names_the_field() -> None:
    body = _api_error(400, "invalid_parameter", "title too long", {"param": "title"})
    with pytest.raises(errors.ValidationError) as info:
        raise_for_error(_response(400, body))
    assert info.value.field == "title"


def test_permission_denied_names_the_missing_scope() -> None:
    body = _api_error(
        403,
        "access_forbidden",
        "Unsufficient scope for `POST /user/x1/videos', scope required: manage_videos",
    )
    with pytest.raises(errors.PermissionDenied) as info:
        raise_for_error(_response(403, body))
    assert info.value.missing_scope == "manage_videos"


def test_expired_token_is_read_from_www_authenticate() -> None:
    header = 'Bearer error="invalid_token", error_description="The access token has expired."'
    response = _response(401, None, raw=b"", headers={"WWW-Authenticate": header})
    with pytest.raises(errors.AuthenticationError) as info:
        raise_for_error(response)
    assert info.value.type == "invalid_token"
    assert info.value.message == "The access token has expired."


@pytest.mark.parametrize("status", [200, 400])
def test_oauth_invalid_grant_means_login_required_even_with_http_200(status: int) -> None:
    body = {"error": "invalid_grant", "error_description": "Invalid refresh token."}
    with pytest.raises(errors.LoginRequired) as info:
        raise_for_error(_response(status, body))
    assert info.value.message == "Invalid refresh token."
    assert isinstance(info.value, errors.AuthenticationError)


def test_rate_limited_reads_retry_after_seconds() -> None:
    body = _api_error(429, "rate_limit_exceeded", "slow down")
    response = _response(
        429, body, headers={"Retry-After": "7", "Content-Type": "application/json"}
    )
    with pytest.raises(errors.RateLimited) as info:
        raise_for_error(response)
    assert info.value.retry_after == 7.0


def test_html_error_page_becomes_a_server_error_with_a_readable_message() -> None:
    response = _response(
        502,
        None,
        raw=b"<html><body>Bad gateway</body></html>",
        headers={"Content-Type": "text/html"},
    )
    with pytest.raises(errors.ServerError) as info:
        raise_for_error(response)
    assert "HTML" in info.value.message and info.value.status == 502


def test_success_raises_nothing() -> None:
    raise_for_error(_response(200, {"id": "x1"}))


def test_retry_after_parsing() -> None:
    assert errors.parse_retry_after("120") == 120.0
    assert errors.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert errors.parse_retry_after("soon") is None
    assert errors.parse_retry_after(None) is None
    assert errors.parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now=40.0) == 60.0


def test_api_errors_survive_pickling() -> None:
    exc = errors.RateLimited("slow", retry_after=3.0, status=429, type="rate_limit_exceeded")
    clone = pickle.loads(pickle.dumps(exc))
    assert type(clone) is errors.RateLimited and clone.retry_after == 3.0 and str(clone) == str(exc)


def test_input_error_lists_every_problem() -> None:
    problems = [errors.Problem("x1", "title", "too long"), errors.Problem("x2", "channel", "bad")]
    exc = errors.InputError("2 bad cells", problems)
    assert "row x1, column 'title': too long" in str(exc)
    assert "row x2" in str(exc) and isinstance(exc, ValueError)
