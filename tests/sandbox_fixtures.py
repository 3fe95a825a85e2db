"""Fixtures and helpers for tests that talk to a sandbox over real HTTP.

Import the fixtures you need into a test module: ``from sandbox_fixtures import sandbox, http``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pytest
import requests

from dmtools.sandbox import Sandbox

if TYPE_CHECKING:
    from dmtools.client import Client


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """A sandbox with the default demo data, shared by the tests of one module."""
    with Sandbox(videos=1500, seed=7) as sb:
        yield sb


@pytest.fixture()
def http() -> Iterator[requests.Session]:
    session = requests.Session()
    session.trust_env = False  # never a proxy or .netrc on loopback
    yield session
    session.close()


def password_token(
    sb: Sandbox, scope: str = "manage_videos", session: Any = requests, **extra: str
) -> dict[str, Any]:
    """Token JSON of the demo user (password grant, public key)."""
    key, user = sb.credentials.public_key, sb.credentials.user
    data = {
        "grant_type": "password",
        "client_id": key.client_id,
        "client_secret": key.client_secret,
        "username": user.username,
        "password": user.password,
        "scope": scope,
        **extra,
    }
    response = session.post(sb.url + "/oauth/token", data=data, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def partner_token(
    sb: Sandbox,
    scope: str = "read_videos edit_videos delete_videos upload_videos",
    session: Any = requests,
) -> dict[str, Any]:
    """Token JSON of the private key (client_credentials, partner endpoint)."""
    key = sb.credentials.private_key
    response = session.post(
        sb.url + "/oauth/v1/token",
        timeout=10,
        data={
            "grant_type": "client_credentials",
            "client_id": key.client_id,
            "client_secret": key.client_secret,
            "scope": scope,
        },
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def bearer(token: dict[str, Any] | str) -> dict[str, str]:
    value = token if isinstance(token, str) else token["access_token"]
    return {"Authorization": f"Bearer {value}"}


def api_error(response: requests.Response) -> dict[str, Any]:
    """The ``error`` object of an API error answer (asserting its documented shape)."""
    body = response.json()
    error = body["error"]
    assert set(error) == {"more_info", "code", "message", "type", "error_data"}, body
    assert error["code"] == response.status_code
    return dict(error)


def demo_client(sb: Sandbox, scope: Sequence[str] = ("manage_videos",)) -> Client:
    """The demo user of ``sb`` logged in (password grant, public key) with ``scope``."""
    import dmtools as dm

    key, user = sb.credentials.public_key, sb.credentials.user
    return dm.connect(
        "password",
        client_id=key.client_id,
        client_secret=key.client_secret,
        username=user.username,
        password=user.password,
        scope=list(scope),
        endpoints=sb.endpoints,
    )


def v2_token(
    sb: Sandbox,
    scope: str | None = "bundle.publisher account.read",
    *,
    key: Any = None,
    session: Any = requests,
) -> dict[str, Any]:
    """Token JSON of an API v2 token (client_credentials at ``/oauth2/v2/token``)."""
    key = key or sb.credentials.private_key
    form = {
        "grant_type": "client_credentials",
        "client_id": key.client_id,
        "client_secret": key.client_secret,
    }
    if scope is not None:
        form["scope"] = scope
    response = session.post(sb.url + "/oauth2/v2/token", data=form, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def v2_error(response: requests.Response, code: str | None = None) -> dict[str, Any]:
    """The ``error`` object of an API v2 error answer (asserting its documented shape)."""
    body = response.json()
    error = body["error"]
    assert set(error) == {
        "code",
        "message",
        "correlation_id",
        "details",
        "documentation_url",
    }, body
    assert isinstance(error["code"], str) and error["code"].isupper(), body
    assert isinstance(error["details"], dict) and error["message"], body
    if "X-Correlation-Id" in response.headers:  # route answers (not injected faults)
        assert response.headers["X-Correlation-Id"] == error["correlation_id"]
    if code is not None:
        assert error["code"] == code, body
    return dict(error)
