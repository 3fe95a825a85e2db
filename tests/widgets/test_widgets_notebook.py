"""The notebook helpers behind the panels and the example notebooks (dmtools.notebook)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import IPython
import pytest

import dmtools.widgets as widgets
from dmtools import notebook
from dmtools.config import Endpoints
from dmtools.errors import InputError
from dmtools.notebook import (
    connect_from_env_or_sandbox,
    local_sandbox,
    login_summary,
    scopes_for,
    stop_local_sandbox,
    writes_allowed,
)
from dmtools.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=20, seed=3) as sandbox:
        yield sandbox


def _env(sb: Sandbox, **values: str) -> dict[str, str]:
    return {"DMTOOLS_SANDBOX_URL": sb.url, **values}


def test_env_client_credentials_uses_the_private_key_and_the_access_scopes(sb: Sandbox) -> None:
    key = sb.credentials.private_key
    client = connect_from_env_or_sandbox(
        "delete",
        environ=_env(sb, DMTOOLS_CLIENT_ID=key.client_id, DMTOOLS_CLIENT_SECRET=key.client_secret),
    )
    assert client.is_partner
    assert client.scopes == ("read_videos", "edit_videos", "delete_videos")
    assert login_summary(client).startswith("Logged in as ")


def test_env_with_a_username_defaults_to_the_password_grant(sb: Sandbox) -> None:
    key, user = sb.credentials.public_key, sb.credentials.user
    client = connect_from_env_or_sandbox(
        "edit",
        environ=_env(
            sb,
            DMTOOLS_CLIENT_ID=key.client_id,
            DMTOOLS_CLIENT_SECRET=key.client_secret,
            DMTOOLS_USERNAME=user.username,
            DMTOOLS_PASSWORD=user.password,
        ),
    )
    assert not client.is_partner and client.scopes == ("manage_videos",)
    summary = login_summary(client)
    assert "with manage_videos, token expires at" in summary
    assert user.password not in summary and key.client_secret not in summary


def test_explicit_scope_wins_over_the_access_level(sb: Sandbox) -> None:
    key = sb.credentials.private_key
    client = connect_from_env_or_sandbox(
        "delete",
        scope=["read_videos"],
        environ=_env(sb, DMTOOLS_CLIENT_ID=key.client_id, DMTOOLS_CLIENT_SECRET=key.client_secret),
    )
    assert client.scopes == ("read_videos",)


@pytest.mark.parametrize(
    "values,message",
    [
        ({"DMTOOLS_CLIENT_ID": "k"}, "DMTOOLS_CLIENT_SECRET is not"),
        (
            {"DMTOOLS_CLIENT_ID": "k", "DMTOOLS_CLIENT_SECRET": "s", "DMTOOLS_GRANT": "implicit"},
            "DMTOOLS_GRANT='implicit'",
        ),
        (
            {"DMTOOLS_CLIENT_ID": "k", "DMTOOLS_CLIENT_SECRET": "s", "DMTOOLS_USERNAME": "demo"},
            "DMTOOLS_USERNAME and DMTOOLS_PASSWORD",
        ),
    ],
)
def test_incomplete_environment_is_refused_before_any_request(
    sb: Sandbox, values: dict[str, str], message: str
) -> None:
    before = len(sb.request_log())
    with pytest.raises(InputError, match=message):
        connect_from_env_or_sandbox(environ=_env(sb, **values))
    assert len(sb.request_log()) == before


def test_access_levels_per_kind_of_key() -> None:
    assert scopes_for("read-only", "public") == ()
    assert scopes_for("edit", "public") == ("manage_videos",)
    assert scopes_for("read-only", "private") == ("read_videos",)
    with pytest.raises(InputError, match="unknown access level"):
        scopes_for("admin", "public")
    with pytest.raises(InputError, match="unknown key kind"):
        scopes_for("edit", "secret")


def test_writes_are_allowed_on_a_sandbox_and_on_the_real_api_only_on_request() -> None:
    real = SimpleNamespace(endpoints=Endpoints.dailymotion())
    sandbox = SimpleNamespace(endpoints=Endpoints.sandbox("http://127.0.0.1:9"))
    assert writes_allowed(sandbox, environ={})  # type: ignore[arg-type]
    assert not writes_allowed(real, environ={})  # type: ignore[arg-type]
    assert not writes_allowed(real, environ={"DMTOOLS_ALLOW_WRITES": "yes"})  # type: ignore[arg-type]
    assert writes_allowed(real, environ={"DMTOOLS_ALLOW_WRITES": "1"})  # type: ignore[arg-type]


def test_without_credentials_the_demo_user_logs_in_to_one_shared_local_sandbox(
    tmp_path: Path,
) -> None:
    stop_local_sandbox()
    try:
        first = local_sandbox(videos=15)
        assert local_sandbox() is first
        no_saved_login = {"DMTOOLS_CONFIG_DIR": str(tmp_path)}
        client = connect_from_env_or_sandbox("edit", environ=no_saved_login)
        assert client.endpoints == first.endpoints
        assert "Logged in as Demo Channel (local sandbox) with manage_videos" in login_summary(
            client
        )
    finally:
        stop_local_sandbox()
    assert notebook._sandbox is None


def test_widgets_are_used_only_in_a_kernel_with_ipywidgets(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not widgets.widgets_available()  # plain pytest: no IPython kernel
    monkeypatch.setattr(IPython, "get_ipython", lambda: SimpleNamespace(kernel=object()))
    assert widgets.widgets_available()
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "ipywidgets" else real_find_spec(name, *a),
    )
    assert not widgets.widgets_available()


def test_dmtools_api_v2_logs_in_with_the_private_key_from_the_environment(sb: Sandbox) -> None:
    key = sb.credentials.private_key
    env = _env(sb, DMTOOLS_CLIENT_ID=key.client_id, DMTOOLS_CLIENT_SECRET=key.client_secret) | {
        "DMTOOLS_API": "v2"
    }
    client = connect_from_env_or_sandbox("delete", environ=env)
    assert client.dialect.name == "v2" and client.base_url == sb.url + "/v2"
    assert set(client.scopes) == {"account.read", "video.read", "video.manage"}
    assert login_summary(client).startswith("Logged in as demo-news (local sandbox)")


def test_dmtools_api_v2_without_credentials_uses_the_local_sandboxs_private_key(
    tmp_path: Path,
) -> None:
    stop_local_sandbox()
    try:
        first = local_sandbox(videos=15)
        env = {"DMTOOLS_CONFIG_DIR": str(tmp_path), "DMTOOLS_API": "v2"}
        client = connect_from_env_or_sandbox("read-only", environ=env)
        assert client.endpoints == first.endpoints and client.dialect.name == "v2"
        assert client.client_id == first.credentials.private_key.client_id
        assert "video.manage" not in client.scopes and "video.read" in client.scopes
    finally:
        stop_local_sandbox()
