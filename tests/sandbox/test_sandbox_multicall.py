"""Call envelopes on the sandbox: ``POST /`` with one ``{call, args, id}`` or an array of them."""

from __future__ import annotations

import json

import requests
from _support.sandbox import api_error, bearer, password_token

from dmtools.sandbox import Sandbox


def test_single_envelope_returns_result(sb: Sandbox, http: requests.Session) -> None:
    response = http.post(
        sb.url + "/", json={"call": "GET /echo", "args": {"message": "hi"}, "id": "e1"}
    )
    assert response.status_code == 200
    assert response.json() == {"id": "e1", "result": {"message": "hi"}}


def test_single_envelope_error_is_in_the_body(sb: Sandbox, http: requests.Session) -> None:
    response = http.post(sb.url + "/", json={"call": "GET /video/xnotfound"})
    assert response.status_code == 200
    error = response.json()["error"]
    assert (error["code"], error["type"]) == (404, "not_found")


def test_multi_call_edits_and_reads_with_the_request_token(
    sb: Sandbox, http: requests.Session
) -> None:
    token = password_token(sb)
    xid = http.get(sb.url + "/me/videos", headers=bearer(token)).json()["list"][0]["id"]
    calls = [
        {
            "call": f"POST /video/{xid}",
            "args": {"title": "Batch title", "tags": ["x", "y z"]},
            "id": 0,
        },
        {"call": f"/video/{xid}?fields=id,title,tags", "id": 1},
        {"call": "GET /me/videos", "args": {"limit": 2}, "id": 2},
        {"call": f"DELETE /video/{xid}x", "id": 3},
    ]
    # the JS SDK posts JSON with a form content type and the token in the query string
    response = http.post(
        sb.url + "/",
        data=json.dumps(calls),
        params={"access_token": token["access_token"]},
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    answers = response.json()
    assert [a["id"] for a in answers] == [0, 1, 2, 3]
    assert answers[1]["result"] == {"id": xid, "title": "Batch title", "tags": ["x", "y z"]}
    assert answers[2]["result"]["limit"] == 2
    assert answers[3]["error"]["type"] == "not_found"
    assert sb.commits()[-1]["fields"] == {"title": "Batch title", "tags": ["x", "y z"]}


def test_multi_call_limits(sb: Sandbox, http: requests.Session) -> None:
    eleven = [{"call": "GET /echo", "args": {"message": str(i)}} for i in range(11)]
    assert api_error(http.post(sb.url + "/", json=eleven))["type"] == "invalid_parameter"
    assert http.post(sb.url + "/", json=eleven[:10]).status_code == 200
    assert http.post(sb.url + "/", json=[]).status_code == 400
    assert http.post(sb.url + "/", data=b"{not json").status_code == 400
    bad = http.post(sb.url + "/", json=[{"call": "FETCH /me"}, {"nope": 1}]).json()
    assert [a["error"]["type"] for a in bad] == ["invalid_parameter", "invalid_parameter"]


def test_multi_call_with_expired_token_is_401(http: requests.Session) -> None:
    with Sandbox(videos=5) as sb:
        token = password_token(sb)
        sb.expire_tokens()
        response = http.post(sb.url + "/", json={"call": "GET /me"}, headers=bearer(token))
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_partner_envelope_under_rest(sb: Sandbox, http: requests.Session) -> None:
    response = http.post(sb.url + "/rest/", json={"call": "GET /channels"})
    assert response.json()["result"]["total"] == 17
