"""Video lists of the sandbox: envelope, paging caps, filters, sorts, visibility."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from _support.sandbox import api_error, bearer, password_token

from dmtools.sandbox import Sandbox


@pytest.fixture(scope="module")
def owner(sb: Sandbox) -> dict[str, str]:
    return bearer(password_token(sb))


def _list(
    sb: Sandbox,
    http: requests.Session,
    path: str = "/me/videos",
    headers: dict[str, str] | None = None,
    **params: Any,
) -> dict[str, Any]:
    response = http.get(sb.url + path, headers=headers or {}, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_envelope_and_default_limit(sb: Sandbox, http: requests.Session) -> None:
    body = _list(sb, http, "/videos")
    assert list(body) == ["page", "limit", "explicit", "total", "has_more", "list"]
    assert (body["page"], body["limit"], body["has_more"]) == (1, 10, True)
    assert len(body["list"]) == 10


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
        ({"page": 101, "limit": 1}, "page"),
        ({"page": 0}, "page"),
        ({"page": 11, "limit": 100}, "page"),
        ({"page": "two"}, "page"),
        ({"sort": "best"}, "sort"),
        ({"colour": "red"}, "colour"),
        ({"flags": "shiny"}, "flags"),
        ({"channel": "cooking"}, "channel"),
        ({"created_after": "yesterday"}, "created_after"),
    ],
)
def test_bad_list_parameters_are_invalid_parameter(
    sb: Sandbox, http: requests.Session, params: dict[str, Any], param: str
) -> None:
    response = http.get(sb.url + "/videos", params=params)
    assert response.status_code == 400
    error = api_error(response)
    assert error["type"] == "invalid_parameter" and error["error_data"]["param"] == param


def test_ceiling_of_1000_results(
    sb: Sandbox, http: requests.Session, owner: dict[str, str]
) -> None:
    last = _list(sb, http, headers=owner, page=10, limit=100)
    assert last["total"] == 1500 and last["has_more"] is False and len(last["list"]) == 100
    odd = _list(sb, http, headers=owner, page=33, limit=30)
    assert odd["has_more"] is False  # page 34 would cross the ceiling
    assert _list(sb, http, headers=owner, page=32, limit=30)["has_more"] is True


def test_owner_sees_private_and_unpublished_only_with_scope(
    sb: Sandbox, http: requests.Session, owner: dict[str, str]
) -> None:
    total = _list(sb, http, headers=owner, limit=1)["total"]
    private = _list(sb, http, headers=owner, private=1, limit=1)["total"]
    unpublished = _list(sb, http, headers=owner, unpublished=1, limit=1)["total"]
    assert total == 1500 and private > 0 and unpublished > 0
    no_scope = bearer(password_token(sb, scope="email"))
    public = _list(sb, http, headers=no_scope, limit=1)["total"]
    anonymous = _list(sb, http, f"/user/{sb.credentials.user.id}/videos", limit=1)
    assert public == anonymous["total"] < total
    assert _list(sb, http, "/videos", private=1)["total"] == 0


def test_recent_is_newest_first_with_stable_tie_break(
    sb: Sandbox, http: requests.Session, owner: dict[str, str]
) -> None:
    items: list[dict[str, Any]] = []
    for page in range(1, 11):
        items += _list(sb, http, headers=owner, page=page, limit=100, fields="id,created_time")[
            "list"
        ]
    keys = [(v["created_time"], v["id"]) for v in items]
    assert keys == sorted(keys, reverse=True)
    assert len({v["id"] for v in items}) == 1000
    times = [v["created_time"] for v in items]
    assert len(times) - len(set(times)) >= 3  # several videos share one second


def test_time_windows_partition_without_loss(
    sb: Sandbox, http: requests.Session, owner: dict[str, str]
) -> None:
    every = set()
    edges = [0, 1_600_000_000, 1_650_000_000, 1_700_000_000, 2_000_000_000]
    for after, before in zip(edges, edges[1:], strict=False):
        page = 1
        while True:
            body = _list(
                sb,
                http,
                headers=owner,
                created_after=after,
                created_before=before,
                limit=100,
                page=page,
                fields="id,created_time",
            )
            assert all(after <= v["created_time"] < before for v in body["list"])
            every |= {v["id"] for v in body["list"]}
            if not body["has_more"]:
                assert body["total"] <= 1000
                break
            page += 1
    assert len(every) == 1500


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"channel": "music"}, lambda v: v["channel"] == "music"),
        ({"languages": "fr,de"}, lambda v: v["language"] in ("fr", "de")),
        ({"tags": "music"}, lambda v: "music" in v["tags"]),
        (
            {"search": "tutorial"},
            lambda v: "tutorial" in (v["title"] + v["description"] + " ".join(v["tags"])).lower(),
        ),
        ({"longer_than": 10}, lambda v: v["duration"] > 600),
        ({"shorter_than": 1}, lambda v: v["duration"] < 60),
        ({"is_created_for_kids": "true"}, lambda v: v["is_created_for_kids"] is True),
        ({"private": "true"}, lambda v: v["private"] is True),
        ({"published": "false"}, lambda v: v["published"] is False),
        ({"flags": "private"}, lambda v: v["private"] is True),
        ({"flags": "unpublished"}, lambda v: v["published"] is False),
        ({"country": "fr"}, lambda v: v["country"] == "FR"),
    ],
)
def test_filters(
    sb: Sandbox,
    http: requests.Session,
    owner: dict[str, str],
    params: dict[str, Any],
    check: Any,
) -> None:
    fields = (
        "id,channel,language,tags,title,description,duration,is_created_for_kids,private,"
        "published,country"
    )
    body = _list(sb, http, headers=owner, limit=100, fields=fields, **params)
    assert 0 < body["total"] < 1500
    assert body["list"] and all(check(v) for v in body["list"])


def test_ids_owners_and_exclude(sb: Sandbox, http: requests.Session) -> None:
    some = [v["id"] for v in _list(sb, http, "/videos", limit=3)["list"]]
    assert {v["id"] for v in _list(sb, http, "/videos", ids=",".join(some))["list"]} == set(some)
    rest = _list(sb, http, "/videos", ids=",".join(some), exclude_ids=some[0])["list"]
    assert {v["id"] for v in rest} == set(some[1:])
    by_name = _list(sb, http, "/videos", owners="someone", limit=1)
    by_id = _list(sb, http, "/videos", owners=by_name["list"][0]["owner"], limit=1)
    assert by_name["total"] == by_id["total"] == 20


@pytest.mark.parametrize(
    ("sort", "key", "reverse"),
    [
        ("old", "created_time", False),
        ("visited", "views_total", True),
        ("least-visited", "views_total", False),
        ("id-asc", "id", False),
    ],
)
def test_sorts(
    sb: Sandbox,
    http: requests.Session,
    owner: dict[str, str],
    sort: str,
    key: str,
    reverse: bool,
) -> None:
    items = _list(
        sb, http, headers=owner, sort=sort, limit=100, fields="id,created_time,views_total"
    )["list"]
    values = [v[key] for v in items]
    assert values == sorted(values, reverse=reverse)


def test_views_are_long_tailed(sb: Sandbox, http: requests.Session, owner: dict[str, str]) -> None:
    top = _list(sb, http, headers=owner, sort="visited", limit=10, fields="views_total")["list"]
    middle = _list(
        sb, http, headers=owner, sort="least-visited", limit=100, page=8, fields="views_total"
    )["list"]  # ranks 701-800 of 1500
    assert top[0]["views_total"] > 100 * max(1, middle[50]["views_total"])
