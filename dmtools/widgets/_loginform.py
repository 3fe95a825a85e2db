"""The login panel's form: filling it (sandbox, ``DMTOOLS_*``) and reading it back, with the
secrets taken out of the widgets at once (see :mod:`dmtools.widgets.login`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dmtools.auth.credentials import GRANT_KIND, LoginSpec, env_grant
from dmtools.config import Endpoints
from dmtools.errors import InputError
from dmtools.notebook import RunningSandbox, env_sandbox
from dmtools.secrets import Secret

if TYPE_CHECKING:
    from dmtools.sandbox import Sandbox

SANDBOX_PLACEHOLDER = "(sandbox credentials)"
KEPT_PLACEHOLDER = "(entered: type again to change)"
ENV_SECRETS = {"client_secret": "DMTOOLS_CLIENT_SECRET", "password": "DMTOOLS_PASSWORD"}


class LoginForm:
    """What :class:`~dmtools.widgets.login.LoginPanel` knows about its fields."""

    client_id: Any
    client_secret: Any
    username: Any
    password: Any
    redirect_uri: Any
    api: Any
    key_kind: Any
    grant: Any
    scopes: Any
    _env: Mapping[str, str]
    _kept: dict[str, Secret]
    _sandbox: Sandbox | RunningSandbox | None
    _endpoints: Endpoints
    _lab: RunningSandbox | None

    def _use_environment(
        self,
        environ: Mapping[str, str] | None,
        sandbox: Sandbox | None,
        endpoints: Endpoints | None,
    ) -> None:
        """Read the ``DMTOOLS_*`` settings: the lab's sandbox and where to log in."""
        env = os.environ if environ is None else environ
        self._env = env
        self._lab = env_sandbox(env)
        self._given_sandbox: Sandbox | RunningSandbox | None = sandbox or self._lab
        self._sandbox = None
        url = env.get("DMTOOLS_SANDBOX_URL")
        self._endpoints = endpoints or (Endpoints.sandbox(url) if url else Endpoints.dailymotion())

    def _fill_env(self) -> None:
        """Fill the form from ``DMTOOLS_*`` (never a secret: those stay in the environment)."""
        env = self._env
        grant = env_grant(env) if self.api.value == "legacy" else "client_credentials"
        if not env.get("DMTOOLS_CLIENT_ID") or grant not in GRANT_KIND:
            return
        self.key_kind.value = GRANT_KIND[grant]
        self.grant.value = grant
        self.client_id.value = env["DMTOOLS_CLIENT_ID"]
        self.username.value = env.get("DMTOOLS_USERNAME") or ""
        self.redirect_uri.value = env.get("DMTOOLS_REDIRECT_URI") or ""
        for name, field in (("client_secret", self.client_secret), ("password", self.password)):
            if env.get(ENV_SECRETS[name]):
                field.placeholder = f"(from {ENV_SECRETS[name]})"

    def _fill_sandbox(self) -> None:
        """Show the sandbox's key and user; its secrets stay in Python."""
        assert self._sandbox is not None
        creds = self._sandbox.credentials
        key = creds.private_key if self.key_kind.value == "private" else creds.public_key
        self.client_id.value = key.client_id if key is not None else ""
        self.username.value = creds.user.username
        self.redirect_uri.value = creds.public_key.redirect_uri or ""
        for field in (self.client_secret, self.password):
            field.value = ""
            field.placeholder = SANDBOX_PLACEHOLDER
        for field in self._key_fields:
            field.disabled = True

    @property
    def _key_fields(self) -> tuple[Any, ...]:
        """The fields a sandbox fills (and locks)."""
        return (self.client_id, self.client_secret, self.username, self.password, self.redirect_uri)

    def _take(self, name: str, field: Any) -> Secret | None:
        """The secret typed in ``field`` (or kept from an earlier attempt, or else the one of
        the environment); empties the field."""
        typed = field.value
        field.value = ""
        if typed:
            self._kept[name] = Secret(typed)
            field.placeholder = KEPT_PLACEHOLDER
        del typed
        return self._kept.get(name) or Secret.wrap(self._env.get(ENV_SECRETS[name]) or None)

    def _forget_secrets(self) -> None:
        self._kept.clear()
        for field in (self.client_secret, self.password):
            if field.placeholder == KEPT_PLACEHOLDER:
                field.placeholder = ""

    def _spec(self) -> LoginSpec:
        """The login the form describes; the secret fields are emptied.

        Raises:
            InputError: a field is missing, or the grant does not fit the kind of key.
        """
        grant, kind = self.grant.value, self.key_kind.value
        secret = self._take("client_secret", self.client_secret)
        password = self._take("password", self.password) if grant == "password" else None
        if GRANT_KIND[grant] != kind:
            raise InputError(f"this grant needs a {GRANT_KIND[grant]} API key")
        scopes = self.scopes.value.split()
        if self._sandbox is not None:
            return self._sandbox_spec(grant, kind, scopes)
        client_id = self.client_id.value.strip()
        username = self.username.value.strip() if grant == "password" else None
        if not client_id:
            raise InputError("enter the API key")
        if secret is None:
            raise InputError("enter the API secret")
        if grant == "password" and not username:
            raise InputError("enter the username of the Dailymotion account")
        if grant == "password" and password is None:
            raise InputError("enter the password of the Dailymotion account")
        return LoginSpec(
            grant,
            client_id,
            secret,
            username=username,
            password=password,
            scopes=tuple(scopes),
            endpoints=self._endpoints,
            dialect=self.api.value,
            redirect_uri=self.redirect_uri.value.strip() or None,
        )

    def _sandbox_spec(self, grant: str, kind: str, scopes: list[str]) -> LoginSpec:
        """The login of the sandbox's key (its secrets never entered the form)."""
        assert self._sandbox is not None
        creds = self._sandbox.credentials
        key = creds.private_key if kind == "private" else creds.public_key
        if key is None:
            raise InputError(
                "this sandbox's private key is not in the environment "
                "(DMTOOLS_SANDBOX_PRIVATE_CLIENT_ID and _SECRET); use its public key"
            )
        user: dict[str, Any] = {}
        if grant == "password":
            user = {"username": creds.user.username, "password": Secret(creds.user.password)}
        return LoginSpec(
            grant,
            key.client_id,
            Secret(key.client_secret),
            scopes=tuple(scopes),
            endpoints=self._sandbox.endpoints,
            dialect=self.api.value,
            redirect_uri=key_redirect(key),
            **user,
        )


def key_redirect(key: Any) -> str | None:
    """The callback URL of a sandbox key (public keys have one, private keys none)."""
    return getattr(key, "redirect_uri", None)
