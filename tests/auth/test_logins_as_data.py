"""Logins as data: one LoginSpec for every front end, its environment rules in one place, and
another API generation as one more value of it (its token URL, renewal lead, scopes and
stored sessions come from its dialect), over real HTTP against a sandbox."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

import dmtools as dm
from dmtools.auth import (
    LoginSpec,
    MemoryTokenStore,
    TokenManager,
    create_token_manager,
    open_session,
    scopes_for,
)
from dmtools.auth.saved import Profile, open_store, stored_client
from dmtools.config import Endpoints
from dmtools.dialects.legacy import LegacyDialect
from dmtools.errors import InputError, SessionExpired
from dmtools.sandbox import Sandbox
from dmtools.secrets import Secret
from dmtools.testing import connect_sandbox

V2_TOKEN = "/oauth2/v2/token"


class V2Login(LegacyDialect):
    """API v2's login, as a dialect says it (the rest of the dialect is legacy here): client
    credentials only, its own token URL and base, JWTs renewed 360 s ahead, v2 scopes."""

    name: ClassVar[str] = "v2-login"
    renew_ahead: ClassVar[float] = 360.0
    access_scopes: ClassVar[Mapping[str, Mapping[str, tuple[str, ...]]]] = {
        "read-only": {"public": (), "private": ("video.read",)},
        "edit": {"public": (), "private": ("video.manage",)},
        "delete": {"public": (), "private": ("video.manage",)},
    }

    @property
    def grants(self) -> frozenset[str]:
        return frozenset({"client_credentials"})

    def base_url(self, endpoints: Endpoints, *, partner: bool) -> str:
        return endpoints.v2_api_url

    def token_url(self, endpoints: Endpoints, *, grant: str) -> str:
        return endpoints.v2_token_url


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=30, seed=5) as sandbox:
        yield sandbox


def _env(**values: str) -> dict[str, str]:
    return {f"DMTOOLS_{k}": v for k, v in values.items()}


def _token_paths(sb: Sandbox, since: int) -> list[str]:
    return [e["path"] for e in sb.request_log(since) if "token" in e["path"]]


def _last(sb: Sandbox) -> int:
    log = sb.request_log()
    return int(log[-1]["seq"]) if log else 0


# -- the environment's rules, in one place ----------------------------------------------------


def test_the_grant_defaults_to_password_with_a_username_else_client_credentials() -> None:
    user = LoginSpec.from_env(_env(CLIENT_ID="k", CLIENT_SECRET="s", USERNAME="u", PASSWORD="p"))
    key = LoginSpec.from_env(_env(CLIENT_ID="k", CLIENT_SECRET="s"), access="delete")
    assert (user.grant, user.kind, user.username) == ("password", "public", "u")
    assert (key.grant, key.kind, key.partner) == ("client_credentials", "private", True)
    assert key.scopes == ("read_videos", "edit_videos", "delete_videos")
    assert user.scopes == ()  # read-only with a public key: public data only
    assert user.endpoints == Endpoints.dailymotion() and user.dialect == "legacy"


def test_the_sandbox_url_the_api_and_exact_scopes_come_from_the_environment() -> None:
    spec = LoginSpec.from_env(
        _env(CLIENT_ID="k", CLIENT_SECRET="s", SANDBOX_URL="http://127.0.0.1:9", API="legacy"),
        scope="manage_videos email",
    )
    assert spec.endpoints == Endpoints.sandbox("http://127.0.0.1:9")
    assert spec.scopes == ("manage_videos", "email")
    assert spec.token_url == "http://127.0.0.1:9/oauth/v1/token"


def test_given_values_win_over_the_environment_and_missing_ones_are_asked_in_order() -> None:
    asked: list[tuple[str, bool]] = []
    answers = {"API secret": "s3cret-value", "Password": "pw-value-123"}

    def ask(prompt: str, secret: bool) -> str:
        asked.append((prompt, secret))
        return answers[prompt]

    env = _env(CLIENT_ID="from-env", GRANT="client_credentials", USERNAME="env-user")
    spec = LoginSpec.from_env(env, ask=ask, grant="password", client_id="given", username="me")
    assert (spec.grant, spec.client_id, spec.username) == ("password", "given", "me")
    assert asked == [("API secret", True), ("Password", True)]
    assert spec.client_secret == "s3cret-value" and spec.password == "pw-value-123"
    assert "s3cret-value" not in repr(spec) and "pw-value-123" not in repr(spec)


@pytest.mark.parametrize(
    "env, message",
    [
        ({}, "DMTOOLS_CLIENT_ID is not set"),
        ({"CLIENT_ID": "k"}, "DMTOOLS_CLIENT_SECRET is not"),
        ({"CLIENT_ID": "k", "CLIENT_SECRET": "s", "GRANT": "implicit"}, "DMTOOLS_GRANT='implicit'"),
        ({"CLIENT_ID": "k", "CLIENT_SECRET": "s", "USERNAME": "u"}, "DMTOOLS_PASSWORD"),
        ({"CLIENT_ID": "k", "CLIENT_SECRET": "s", "API": "v9"}, "unknown API dialect"),
    ],
)
def test_an_incomplete_environment_is_refused_naming_what_is_missing(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        LoginSpec.from_env(_env(**env))


# -- the spec itself ---------------------------------------------------------------------------


def test_a_spec_wraps_its_secrets_and_checks_itself() -> None:
    spec = LoginSpec("password", "key", "plain-secret-1", username="u", password="plain-pw-1")  # type: ignore[arg-type]
    assert isinstance(spec.client_secret, Secret) and isinstance(spec.password, Secret)
    assert "plain" not in repr(spec) and "plain" not in str(spec)
    with pytest.raises(InputError, match="takes no username"):
        LoginSpec("client_credentials", "key", Secret("s"), username="u")
    with pytest.raises(InputError, match="needs username"):
        LoginSpec("password", "key", Secret("s"))
    with pytest.raises(InputError, match="client_secret"):
        LoginSpec("client_credentials", "key", Secret(""))
    with pytest.raises(InputError, match="does not accept grant 'password'"):
        LoginSpec("password", "k", Secret("s"), username="u", dialect=V2Login())
    with pytest.raises(InputError, match="not both"):
        dm.connect(spec, client_id="other")
    with pytest.raises(TypeError, match="usrname"):
        dm.connect("password", client_id="k", client_secret="s", usrname="u")  # type: ignore[call-arg]


def test_the_code_flow_is_made_by_the_spec_with_its_values() -> None:
    spec = LoginSpec(
        "authorization_code",
        "key",
        Secret("s"),
        scopes=("manage_videos",),
        endpoints=Endpoints.sandbox("http://127.0.0.1:9"),
        redirect_uri="http://127.0.0.1:9/callback",
    )
    flow = spec.code_flow()
    assert (flow.client_id, flow.scope, flow.redirect_uri) == (
        "key",
        ("manage_videos",),
        "http://127.0.0.1:9/callback",
    )
    assert flow.endpoints == spec.endpoints
    with pytest.raises(InputError, match="authorization_code"):
        spec.replace(grant="password", username="u").code_flow()


def test_every_front_end_spec_logs_in_through_one_function(sb: Sandbox) -> None:
    c = sb.credentials
    env = _env(
        CLIENT_ID=c.public_key.client_id,
        CLIENT_SECRET=c.public_key.client_secret,
        USERNAME=c.user.username,
        PASSWORD=c.user.password,
        SANDBOX_URL=sb.url,
    )
    spec = LoginSpec.from_env(env, access="edit")
    with dm.connect(spec) as a, connect_sandbox(sb) as b:
        assert a.account_id == b.account_id and a.scopes == b.scopes == ("manage_videos",)
    with dm.connect(
        "password",
        client_id=c.public_key.client_id,
        client_secret=c.public_key.client_secret,
        username=c.user.username,
        password=c.user.password,
        scope=["manage_videos"],
        endpoints=sb.endpoints,
    ) as keywords:
        assert keywords.account_id == a.account_id


# -- one token-manager type --------------------------------------------------------------------


def test_a_saved_session_without_the_secret_is_a_token_manager_that_cannot_renew(
    sb: Sandbox, tmp_path: Path
) -> None:
    store = MemoryTokenStore()
    spec = LoginSpec.from_env(
        _env(
            CLIENT_ID=sb.credentials.public_key.client_id,
            CLIENT_SECRET=sb.credentials.public_key.client_secret,
            USERNAME="demo",
            PASSWORD=sb.credentials.user.password,
            SANDBOX_URL=sb.url,
        ),
        access="edit",
    )
    with dm.connect(spec, token_store=store) as client:
        profile = Profile.of(spec, store="file", scopes=client.scopes)
    token = store.load(profile.key)
    assert token is not None and profile.key == spec.store_key
    manager = TokenManager.saved(
        token, client_id=spec.client_id, endpoints=sb.endpoints, partner=False, store=store
    )
    assert isinstance(manager, TokenManager) and not manager.renewable
    assert manager.access_token() == token.access_token
    mark = _last(sb)
    with pytest.raises(SessionExpired, match="cannot renew"):
        manager.handle_unauthorized(manager.access_token())
    assert _token_paths(sb, mark) == []  # nothing sent: no secret to renew with
    assert "not renewable" in repr(manager)

    env = {"DMTOOLS_CONFIG_DIR": str(tmp_path / "conf")}  # the CLI's saved login, no secret
    file_store, _ = open_store("file", env)
    file_store.save(profile.key, token)
    saved = stored_client(profile, env)
    assert saved is not None and saved.account_id == client.account_id
    assert isinstance(saved._manager, TokenManager) and not saved._manager.renewable  # type: ignore[attr-defined]


# -- another API generation is one more value --------------------------------------------------


def _v2_spec(sb: Sandbox, **changes: Any) -> LoginSpec:
    key = sb.credentials.private_key
    spec = LoginSpec(
        "client_credentials",
        key.client_id,
        Secret(key.client_secret),
        scopes=("video.read", "account.read"),
        endpoints=sb.endpoints,
        dialect=V2Login(),
    )
    return spec.replace(**changes) if changes else spec


def test_a_v2_login_gets_its_jwt_from_the_v2_token_url_and_calls_the_v2_api(sb: Sandbox) -> None:
    mark = _last(sb)
    spec = _v2_spec(sb)
    assert spec.token_url == sb.url + V2_TOKEN
    with dm.connect(spec) as client:
        me = client.get("/me")
        assert client.base_url == sb.url + "/v2"
        assert client._manager.leeway == 360.0  # type: ignore[attr-defined]
    assert me.get("user_id")
    assert _token_paths(sb, mark) == [V2_TOKEN]
    presets = scopes_for("edit", "private", V2Login())
    assert presets == ("video.manage",)


def test_a_v2_session_renews_by_fetching_again_and_is_stored_apart(sb: Sandbox) -> None:
    store = MemoryTokenStore()
    manager = open_session(_v2_spec(sb), token_store=store)
    assert manager.token is not None and manager.token.refresh_token is None
    legacy = LoginSpec(
        "client_credentials",
        sb.credentials.private_key.client_id,
        Secret(sb.credentials.private_key.client_secret),
        endpoints=sb.endpoints,
    )
    assert legacy.store_key != _v2_spec(sb).store_key
    assert store.load(legacy.store_key) is None  # a legacy login never picks up a JWT
    mark = _last(sb)
    manager.refresh()
    again = open_session(_v2_spec(sb), token_store=store)  # reused, nothing sent
    assert _token_paths(sb, mark) == [V2_TOKEN]
    assert again.access_token() == manager.access_token()


def test_the_keyword_form_and_create_token_manager_stay(sb: Sandbox) -> None:
    c = sb.credentials
    manager = create_token_manager(
        "client_credentials",
        client_id=c.private_key.client_id,
        client_secret=c.private_key.client_secret,
        scope="read_videos",
        endpoints=sb.endpoints,
    )
    assert manager.is_partner and manager.scopes == ("read_videos",)
