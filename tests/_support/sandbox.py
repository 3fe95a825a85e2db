"""Raw-HTTP helpers for tests that talk to a sandbox: tokens, headers, error shapes.

The fixtures (``sb``, ``http``, ``client``...) are in ``tests/conftest.py``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

from dmtools.auth import TokenManager, create_token_manager
from dmtools.sandbox import Sandbox
from dmtools.sandbox.server import SOCKET_TIMEOUT
from dmtools.sandbox.state import seed as seedmod


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


def seeded(seed: int, size: int, owners: set[str] | str) -> dict[str, dict[str, Any]]:
    """The seed's videos of ``owners``, by id (what the sandbox starts with)."""
    wanted = {owners} if isinstance(owners, str) else owners
    return {
        v["id"]: v for v in seedmod.build(seed=seed, videos=size).videos if v["owner"] in wanted
    }


def demo_manager(sb: Sandbox, scope: str = "manage_videos", **options: Any) -> TokenManager:
    """The demo user's token manager (password grant; ``options`` go to
    :func:`dmtools.auth.create_token_manager`): for token-manager tests, and for a
    :class:`dmtools.Client` built with options :func:`dmtools.testing.connect_sandbox` does not
    pass (``sleep``...)."""
    c = sb.credentials
    return create_token_manager(
        "password",
        client_id=c.public_key.client_id,
        client_secret=c.public_key.client_secret,
        username=c.user.username,
        password=c.user.password,
        scope=[scope],
        endpoints=sb.endpoints,
        **options,
    )


def stop_with_an_idle_connection(sb: Sandbox) -> float:
    """Stop ``sb`` (thread mode) while a keep-alive connection to it is open and idle; the
    seconds the stop took.

    Asserts that the stop closes the connection instead of waiting for it: the stop returns,
    and the connection's handler thread ends, within half the server's socket timeout (which
    would end an idle connection by itself), however busy the machine.
    """
    before = set(threading.enumerate())
    with requests.Session() as session:
        session.trust_env = False
        assert session.get(sb.url + "/channels", timeout=10).status_code == 200
        handlers = [
            t for t in set(threading.enumerate()) - before if t.name == "dmtools-sandbox-connection"
        ]
        assert handlers, "the keep-alive connection has no handler thread"
        stopping = time.monotonic()
        sb.stop()
        seconds = time.monotonic() - stopping
        assert seconds < SOCKET_TIMEOUT / 2
        for handler in handlers:
            handler.join(SOCKET_TIMEOUT / 2)
        assert not [t for t in handlers if t.is_alive()]
    return seconds
