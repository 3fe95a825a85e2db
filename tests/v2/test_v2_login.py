"""Logging in to API v2: ``dm.connect(..., api="v2")``, the private key, client_credentials only."""

from __future__ import annotations

import pytest

import dmtools as dm
from dmtools.auth import LoginSpec
from dmtools.config import Endpoints
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox


def _key(sb: Sandbox) -> tuple[str, str]:
    key = sb.credentials.private_key
    return key.client_id, key.client_secret


def test_connect_api_v2_logs_in_with_the_private_key_and_loads_a_profile(sb: Sandbox) -> None:
    client_id, secret = _key(sb)
    profiles = list(sb.credentials.private_key.profiles)
    mark = len(sb.request_log())
    with dm.connect(
        api="v2", client_id=client_id, client_secret=secret, endpoints=sb.endpoints
    ) as c:
        assert c.dialect.name == "v2" and c.base_url == sb.url + "/v2"
        assert c.me()["id"] == profiles[0]
        df = dm.load_videos(c, owner=profiles[1], fields=["id", "title", "owner"], progress=False)
    paths = [r["path"] for r in sb.request_log(mark)]
    assert paths[0] == "/oauth2/v2/token"
    assert set(df["owner"]) == {profiles[1]} and len(df) > 0
    assert all(p.startswith(("/v2/", "/oauth2/")) for p in paths)


def test_api_and_dialect_and_the_environment_choose_the_same_login(sb: Sandbox) -> None:
    client_id, secret = _key(sb)
    env = {
        "DMTOOLS_CLIENT_ID": client_id,
        "DMTOOLS_CLIENT_SECRET": secret,
        "DMTOOLS_SANDBOX_URL": sb.url,
        "DMTOOLS_API": "v2",
    }
    spec = LoginSpec.from_env(env, access="edit")
    assert spec.api.name == "v2" and spec.token_url == sb.url + "/oauth2/v2/token"
    assert spec.scopes == ("account.read", "video.read", "video.manage")
    with dm.connect(spec) as by_env, connect_sandbox(sb, api="v2") as by_helper:
        assert by_env.dialect is by_helper.dialect
        assert "video.manage" in by_env.scopes and "video.manage" in by_helper.scopes
    with dm.connect(
        "client_credentials",
        dialect="v2",
        client_id=client_id,
        client_secret=secret,
        endpoints=sb.endpoints,
    ) as by_dialect:
        assert by_dialect.dialect.name == "v2"
    with pytest.raises(dm.InputError, match="disagree"):
        dm.connect(api="v2", dialect="legacy", client_id="k", client_secret="s")


@pytest.mark.parametrize("grant", ["password", "authorization_code", "refresh_token"])
def test_any_other_grant_is_refused_before_any_request(grant: str) -> None:
    nowhere = Endpoints.sandbox("http://127.0.0.1:9")  # nothing listens: no request is sent
    with pytest.raises(dm.InputError, match="v2 API does not accept grant"):
        dm.connect(
            grant,
            api="v2",
            client_id="k",
            client_secret="s",
            username="u" if grant == "password" else None,
            password="p" if grant == "password" else None,
            refresh_token="r" if grant == "refresh_token" else None,
            endpoints=nowhere,
        )


def test_the_legacy_api_still_needs_a_named_grant() -> None:
    with pytest.raises(dm.InputError, match="name the grant"):
        dm.connect(client_id="k", client_secret="s")


def test_real_service_endpoints_name_the_v2_hosts() -> None:
    spec = LoginSpec("client_credentials", "k", "s", dialect="v2")
    assert spec.token_url == "https://oauth2.dailymotion.com/v2/token"
    assert spec.api.base_url(spec.endpoints, partner=True) == "https://api.dailymotion.com/v2"
    assert spec.store_key != spec.replace(dialect="legacy").store_key


def test_v2_sessions_are_stored_apart_and_reused(sb: Sandbox) -> None:
    store = dm.MemoryTokenStore()
    key = sb.credentials.private_key
    mark = len(sb.request_log())
    with connect_sandbox(sb, api="v2", token_store=store) as first:
        first.me()
    with connect_sandbox(sb, grant="client_credentials", scope="read_videos", token_store=store):
        pass
    with connect_sandbox(sb, api="v2", token_store=store) as again:  # reused: no token request
        again.me()
    tokens = [r["path"] for r in sb.request_log(mark) if "token" in r["path"]]
    assert tokens == ["/oauth2/v2/token", "/oauth/v1/token"]
    assert {r["client_id"] for r in sb.request_log(mark)} == {key.client_id}
