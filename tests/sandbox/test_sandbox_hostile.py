"""Hostile requests never make the sandbox fail: each gets the API's own error answer.

Every body the JSON parser or a handler could choke on (deep nesting, huge or non-finite
numbers, lone surrogates, duplicate keys, wrong top-level types, non-UTF-8 bytes, objects
where values belong, lists longer than SQLite's parameter limit, out-of-range values) is
sent over HTTP to every kind of endpoint: token endpoints answer the OAuth error JSON, REST,
call envelopes and the admin API the REST error JSON. Never a 500, never a logged traceback,
nothing written, and the server keeps serving.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from _support.sandbox import bearer, partner_token, password_token

from dmtools.sandbox import Sandbox

HOSTILE_JSON: dict[str, bytes] = {
    "deep_array": b"[" * 100_000 + b"]" * 100_000,
    "deep_object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "one_level_too_deep": b'{"title":' + b"[" * 64 + b"]" * 64 + b"}",
    "huge_integer": b'{"title": 1' + b"0" * 30 + b"}",
    "very_long_integer": b'{"title": ' + b"9" * 5000 + b"}",
    "overflowing_float": b'{"title": 1e400}',
    "nan": b'{"title": NaN}',
    "infinity": b'{"title": -Infinity}',
    "lone_surrogate_value": b'{"title": "a\\ud800b"}',
    "lone_surrogate_key": b'{"\\udfff": "x"}',
    "duplicate_keys": b'{"title": "a", "title": "b"}',
    "not_utf8": b'{"title": "\xff\xfe"}',
    "utf8_bom": b'\xef\xbb\xbf{"title": "a"}',
    "utf16": '{"title": "a"}'.encode("utf-16"),
    "truncated": b'{"title": "a',
}

#: (method, path, family): ``{vid}`` is a video of the demo user, ``{pvid}`` of the private key.
ROUTES = [
    ("POST", "/oauth/token", "oauth"),
    ("POST", "/oauth/v1/token", "oauth"),
    ("POST", "/rest/oauth/v1/token", "oauth"),
    ("POST", "/video/{vid}", "rest"),
    ("POST", "/rest/video/{pvid}", "rest"),
    ("POST", "/me/videos", "rest"),
    ("DELETE", "/video/{vid}", "rest"),
    ("POST", "/echo", "rest"),
    ("POST", "/", "call"),
    ("POST", "/rest", "call"),
    ("POST", "/__sandbox__/settings", "admin"),
    ("POST", "/__sandbox__/video/{vid}", "admin"),
    ("POST", "/__sandbox__/faults", "admin"),
    ("POST", "/__sandbox__/videos", "admin"),
]


class Target:
    """The sandbox, tokens and videos the requests use."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.user = password_token(sb)["access_token"]
        self.partner = partner_token(sb)["access_token"]
        me = requests.get(sb.url + "/me/videos", headers=bearer(self.user), timeout=10).json()
        self.vid = me["list"][0]["id"]
        channel = sb.credentials.private_key.channels[0]
        theirs = requests.get(sb.url + f"/user/{channel}/videos", timeout=10).json()
        self.pvid = theirs["list"][0]["id"]

    def send(self, method: str, path: str, body: bytes | None = None, **kw: Any) -> Any:
        path = path.format(vid=self.vid, pvid=self.pvid)
        headers = {
            "Authorization": "Bearer " + (self.partner if path.startswith("/rest") else self.user),
            "X-Sandbox-Admin": self.sb.admin_token,
            "Content-Type": "application/json",
            **kw.pop("headers", {}),
        }
        return requests.request(
            method, self.sb.url + path, data=body, headers=headers, timeout=30, **kw
        )


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    with Sandbox(videos=40, seed=11) as sb:
        yield Target(sb)


@pytest.fixture(autouse=True)
def no_server_errors(target: Target, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """After each test: no ERROR logged by the sandbox, no write committed, still serving."""
    caplog.set_level(logging.WARNING, logger="dmtools.sandbox")
    target.sb.clear_logs()
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    assert target.sb.commits() == []
    assert max((r["status"] for r in target.sb.request_log()), default=0) < 500
    assert requests.get(target.sb.url + "/channels", timeout=10).status_code == 200


def assert_error(response: requests.Response, family: str, status: int = 400) -> dict[str, Any]:
    """The error answer of ``family`` ("oauth": RFC 6749 JSON; otherwise the REST JSON)."""
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    if family == "oauth":
        assert set(body) == {"error", "error_description"}, body
        assert response.headers["Cache-Control"] == "no-store"
        return dict(body)
    error = body["error"]
    assert set(error) == {"more_info", "code", "message", "type", "error_data"}, body
    assert error["code"] == status
    return dict(error)


@pytest.mark.parametrize("name", list(HOSTILE_JSON))
@pytest.mark.parametrize(("method", "path", "family"), ROUTES)
def test_a_hostile_json_body_gets_the_api_error_on_every_endpoint(
    target: Target, method: str, path: str, family: str, name: str
) -> None:
    response = target.send(method, path, HOSTILE_JSON[name])
    error = assert_error(response, family)
    if family == "oauth":
        assert error["error"] == "invalid_request"
        assert error["error_description"].startswith("Malformed JSON body")
    else:
        assert error["type"] == "invalid_parameter"
        assert error["error_data"]["param"] == ("call" if family == "call" else "body")


def test_the_refusal_says_why(target: Target) -> None:
    reasons = {
        "deep_array": "nested more than 64 levels deep",
        "nan": "NaN is not a JSON number",
        "overflowing_float": "out of range",
        "huge_integer": "out of range (64 bits)",
        "lone_surrogate_value": "lone surrogate",
        "duplicate_keys": "appears twice",
        "not_utf8": "not UTF-8",
    }
    for name, reason in reasons.items():
        message = target.send("POST", "/video/{vid}", HOSTILE_JSON[name]).json()["error"]
        assert reason in message["message"], (name, message)


def test_sixty_four_levels_of_nesting_are_still_json(target: Target) -> None:
    nested = b'{"message":' + b"[" * 63 + b"]" * 63 + b"}"
    answer = target.send("POST", "/echo", nested)
    assert answer.status_code == 400  # a list is not a parameter value, but it parsed
    assert "string, number, boolean" in answer.json()["error"]["message"]


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"5", b"true"])
@pytest.mark.parametrize(("method", "path", "family"), ROUTES)
def test_a_body_that_is_not_an_object_is_refused(
    target: Target, method: str, path: str, family: str, body: bytes
) -> None:
    response = target.send(method, path, body)
    if family == "call" and body.startswith(b"["):  # an array of calls: one error per call
        assert response.status_code == 200
        assert [a["error"]["code"] for a in response.json()] == [400, 400]
        return
    assert_error(response, family)


def test_null_is_no_parameter_for_rest_and_an_error_for_tokens_and_calls(
    target: Target,
) -> None:
    assert target.send("POST", "/video/{vid}", b"null").status_code == 200  # a read
    assert_error(target.send("POST", "/oauth/token", b"null"), "oauth")
    assert_error(target.send("POST", "/", b"null"), "call")


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"url": "http://[::1"}, "url"),
        ({"url": "http://host:99999999/video.mp4"}, "url"),
        ({"url": "ftp://host/video.mp4"}, "url"),
        ({"title": {"a": 1}}, "title"),
        ({"title": ["a", "b"]}, "title"),
        ({"title": 1.5}, "title"),
        ({"tags": [[1]]}, "tags"),
        ({"tags": [{"x": 1}]}, "tags"),
        ({"tags": [1, 2]}, "tags"),
        ({"published": 2}, "published"),
        ({"channel": True}, "channel"),
        ({"fields": [["id"]]}, "fields"),
        ({"fields": {"id": 1}}, "fields"),
    ],
)
def test_values_of_the_wrong_shape_in_a_json_edit_are_refused_naming_them(
    target: Target, params: dict[str, Any], param: str
) -> None:
    error = assert_error(target.send("POST", "/video/{vid}", json_body(params)), "rest")
    assert error["type"] == "invalid_parameter" and error["error_data"]["param"] == param


def json_body(value: Any) -> bytes:
    return json.dumps(value).encode()


@pytest.mark.parametrize(
    "query",
    [
        "created_after=1e30",
        "created_after=inf",
        "created_before=-inf",
        "created_after=nan",
        "created_before=99999999999999999999999999",
        "longer_than=1e400",
        "shorter_than=nan",
        "page=99999999999999999999999",
        "limit=1e2",
        "sort=nope",
        "channel=nope",
        "flags=nope",
    ],
)
def test_out_of_range_list_parameters_are_invalid_parameter(target: Target, query: str) -> None:
    for path in ("/videos", "/me/videos"):
        error = assert_error(target.send("GET", f"{path}?{query}"), "rest")
        assert error["type"] == "invalid_parameter"
        assert error["error_data"]["param"] == query.split("=")[0]


def test_list_filters_of_any_length_are_answered(target: Target) -> None:
    long = ["x" + str(n) for n in range(40_000)]  # beyond SQLite's 32,766 bound parameters
    calls = [
        {"call": "GET /videos", "args": {"ids": [target.vid, *long]}, "id": "ids"},
        {"call": "GET /videos", "args": {"exclude_ids": long}, "id": "exclude"},
        {"call": "GET /videos", "args": {"owners": ["demo"] * 30_000}, "id": "owners"},
        {"call": "GET /videos", "args": {"tags": ["t"] * 30_000}, "id": "tags"},
        {"call": "GET /videos", "args": {"search": "a" * 60_000}, "id": "long word"},
        {"call": "GET /videos", "args": {"search": " a" * 40_000}, "id": "many words"},
        {"call": "GET /videos", "args": {"languages": ["en"] * 30_000}, "id": "languages"},
        {"call": "GET /videos", "args": {"tags": [f"t{n}" for n in range(30_000)]}, "id": "t"},
        {"call": "GET /videos", "args": {"search": " ".join(map(str, range(20_000)))}, "id": "s"},
    ]
    answers = {}
    for call in calls:  # one envelope each: together they pass the 1 MiB body limit
        response = target.send("POST", "/", json_body(call))
        assert response.status_code == 200, response.text[:300]
        answers[call["id"]] = response.json()
    assert all("result" in a for a in answers.values()), answers
    assert [v["id"] for v in answers["ids"]["result"]["list"]] == [target.vid]
    assert answers["exclude"]["result"]["total"] > 0
    assert answers["long word"]["result"]["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"grant_type": ["password"]},
        {"grant_type": "password", "username": {"a": 1}},
        {"grant_type": "password", "password": None},
        {"grant_type": "password", "client_id": True},
    ],
)
def test_token_parameters_that_are_not_strings_are_invalid_request(
    target: Target, body: dict[str, Any]
) -> None:
    error = assert_error(target.send("POST", "/oauth/token", json_body(body)), "oauth")
    assert error["error"] == "invalid_request"


def test_odd_credentials_are_refused_cleanly(target: Target) -> None:
    for secret in ("é" * 10, "\x00", "x" * 100_000):
        response = target.send(
            "POST",
            "/oauth/v1/token",
            json_body(
                {
                    "grant_type": "client_credentials",
                    "client_id": target.sb.credentials.private_key.client_id,
                    "client_secret": secret,
                }
            ),
        )
        assert assert_error(response, "oauth", 401)["error"] == "invalid_client"
    basic = target.send(
        "POST",
        "/oauth/v1/token",
        b"grant_type=client_credentials",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Basic " + "w6k6w6k=",  # "é:é" in UTF-8
        },
    )
    assert assert_error(basic, "oauth", 401)["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/__sandbox__/video/{vid}", {"views_total": 2**63}),
        ("/__sandbox__/video/{vid}", {"views_total": "many"}),
        ("/__sandbox__/video/{vid}", {"title": {"a": 1}}),
        ("/__sandbox__/video/{vid}", {"tags": "one"}),
        ("/__sandbox__/video/{vid}", {"tags": [1]}),
        ("/__sandbox__/video/{vid}", {"published": None}),
        ("/__sandbox__/video/{vid}", {"owner": 5}),
        ("/__sandbox__/video/{vid}", {"no_such_column": 1}),
        ("/__sandbox__/faults", {"latency": 1e300}),
        ("/__sandbox__/faults", {"rules": [{"kind": "hold", "seconds": 1e300}]}),
        ("/__sandbox__/faults", {"rules": [{"kind": "status", "retry_after": 1e12}]}),
        ("/__sandbox__/faults", {"rules": "status"}),
        ("/__sandbox__/settings", {"token_lifetime": 2**62}),
        ("/__sandbox__/settings", {"list_ceiling": -1}),
        ("/__sandbox__/settings", {"strict_hosts": "yes"}),
        ("/__sandbox__/videos", {"n": 1.5}),
        ("/__sandbox__/videos", {"n": 1, "owner": ["demo"]}),
        ("/__sandbox__/rate_limit", {"rate": "fast"}),
        ("/__sandbox__/rate_limit", {"rate": 0}),
        ("/__sandbox__/token_lifetime", {"seconds": None}),
    ],
)
def test_admin_values_the_state_cannot_hold_are_refused(
    target: Target, path: str, body: dict[str, Any]
) -> None:
    before = target.sb.get_video(target.vid)
    error = assert_error(target.send("POST", path, json_body(body)), "admin")
    assert error["type"] == "invalid_parameter"
    assert target.sb.get_video(target.vid) == before
    assert target.sb.settings()["token_lifetime"] == 36000


@pytest.mark.parametrize(
    "path",
    ["/video/%ED%A0%80", "/user/%00", "/video/..%2F..%2Fetc", "/user/" + "a" * 5000, "/%FF"],
)
def test_odd_paths_are_not_found(target: Target, path: str) -> None:
    assert assert_error(target.send("GET", path), "rest", 404)["type"] == "not_found"


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"],
)
def test_garbage_form_bodies_are_unknown_parameters_or_ignored(
    target: Target, content_type: str
) -> None:
    garbage = b"--x\r\nContent-Disposition: form-data; name=\xff\r\n\r\n\x00\x01" * 50
    response = target.send("POST", "/video/{vid}", garbage, headers={"Content-Type": content_type})
    assert response.status_code in (200, 400), response.text[:300]
    if response.status_code == 400:
        assert_error(response, "rest")


@pytest.mark.parametrize(
    "query",
    [
        {"search": "review daily"},
        {"search": "Review"},
        {"tags": "documentary,travel"},
        {"tags": "MUSIC"},
        {"languages": "en,fr,de"},
        {"owners": "demo,someone"},
        {"exclude_ids": "x1,x2"},
    ],
    ids=str,
)
def test_long_list_filters_answer_like_short_ones(
    target: Target, query: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan for long lists (one JSON parameter) matches the one for short lists."""
    from dmtools.sandbox.state import queries

    def ids() -> list[str]:
        params = {"limit": 100, "fields": "id", **query}
        answer = requests.get(target.sb.url + "/videos", params=params, timeout=10).json()
        return [v["id"] for v in answer["list"]]

    short = ids()
    monkeypatch.setattr(queries, "PER_ITEM_MAX", 0)  # the sandbox runs in this process
    monkeypatch.setattr(queries, "_IN_MAX", 0)
    assert ids() == short
    monkeypatch.setattr(queries, "LIKE_MAX", 0)
    assert ids() == short
    assert short  # each query matches something, so the comparison means something
