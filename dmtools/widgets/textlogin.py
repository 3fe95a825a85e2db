"""The plain-text login: prompts (``getpass`` for secrets) where widgets cannot render."""

from __future__ import annotations

import getpass
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dmtools.auth.credentials import ACCESS_LEVELS, GRANT_KIND, scopes_for
from dmtools.config import Endpoints, is_loopback_url
from dmtools.errors import DailymotionError, InputError
from dmtools.notebook import local_sandbox, login_summary
from dmtools.secrets import Secret

from ._shared import error_text

if TYPE_CHECKING:
    from dmtools.auth import AuthorizationCodeFlow, LoginSpec
    from dmtools.client import Client
    from dmtools.sandbox import Sandbox

__all__ = ["TextLogin"]

log = logging.getLogger("dmtools.widgets")

Prompt = Callable[[str], str]


class TextLogin:
    """Log in by answering questions in the notebook (or a terminal).

    Secrets are read with ``getpass`` (only dots reach the output) and kept as
    :class:`~dmtools.secrets.Secret`. The client is :attr:`client` once logged in.

    Args:
        sandbox: the sandbox offered by the first question (default: the local one).
        endpoints: where to log in otherwise (default: the real API).
        ask: reads a plain answer (default ``input``).
        ask_secret: reads a secret answer (default ``getpass.getpass``).
        say: shows a line to the user (default ``print``).
        timeout: seconds to wait for the consent page's answer (authorization code).

    Example:
        >>> login = dm.login_panel(fallback=True)     # asks the questions  # doctest: +SKIP
        >>> client = login.client                                           # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        sandbox: Sandbox | None = None,
        endpoints: Endpoints | None = None,
        ask: Prompt = input,
        ask_secret: Prompt = getpass.getpass,
        say: Callable[[str], Any] = print,
        timeout: float = 600.0,
    ) -> None:
        self.client: Client | None = None
        self.error: BaseException | None = None
        self._sandbox = sandbox
        self._endpoints = endpoints or Endpoints.dailymotion()
        self._ask, self._ask_secret, self._say = ask, ask_secret, say
        self._timeout = timeout

    def __repr__(self) -> str:
        state = "logged in" if self.client is not None else "not logged in"
        return f"<dmtools TextLogin: {state}>"

    def _choose(self, question: str, choices: tuple[str, ...]) -> str:
        shown = "/".join(choices)
        answer = self._ask(f"{question} [{shown}] (default {choices[0]}): ").strip().lower()
        if not answer:
            return choices[0]
        matches = [c for c in choices if c.startswith(answer)]
        if len(matches) != 1:
            raise InputError(f"{answer!r} is not one of {shown}")
        return matches[0]

    def run(self) -> Client | None:
        """Ask the questions and log in; report the outcome in one line."""
        try:
            self.client = self._login()
        except (DailymotionError, OSError) as exc:
            self.error = exc
            self._say(f"Login failed: {error_text(exc)}")
            return None
        self._say(login_summary(self.client) + ".")
        return self.client

    def _login(self) -> Client:
        from dmtools.client import connect

        spec = self._spec()
        if spec.grant == "authorization_code":
            return connect(spec, code_flow=self._consented(spec))
        return connect(spec)

    def _spec(self) -> LoginSpec:
        """Ask the questions; the login they describe."""
        from dmtools.auth import LoginSpec

        use_sandbox = self._choose("Use the local sandbox?", ("no", "yes")) == "yes"
        kind = self._choose("Kind of API key", ("public", "private"))
        grant = (
            "client_credentials"
            if kind == "private"
            else self._choose("Grant", ("authorization_code", "password"))
        )
        access = self._choose("Access", tuple(ACCESS_LEVELS))
        scopes = scopes_for(access, GRANT_KIND[grant])
        if use_sandbox:
            sb = self._sandbox or local_sandbox()
            creds = sb.credentials
            key = creds.private_key if kind == "private" else creds.public_key
            self._say(f"Using the local sandbox at {sb.url} (sandbox credentials).")
            user: dict[str, Any] = {}
            if grant == "password":
                user = {"username": creds.user.username, "password": Secret(creds.user.password)}
            return LoginSpec(
                grant,
                key.client_id,
                Secret(key.client_secret),
                scopes=scopes,
                endpoints=sb.endpoints,
                redirect_uri=creds.public_key.redirect_uri
                if grant != "client_credentials"
                else None,
                **user,
            )
        client_id = self._ask("API key: ").strip()
        secret = Secret(self._ask_secret("API secret: "))
        extra: dict[str, Any] = {}
        if grant == "password":
            extra["username"] = self._ask("Username: ").strip()
            extra["password"] = Secret(self._ask_secret("Password: "))
        elif grant == "authorization_code":
            question = "Callback URL registered for the key (Enter: a local listener): "
            extra["redirect_uri"] = self._ask(question).strip() or None
        return LoginSpec(
            grant, client_id, secret, scopes=scopes, endpoints=self._endpoints, **extra
        )

    def _consented(self, spec: LoginSpec) -> AuthorizationCodeFlow:
        """Run the consent page: a local listener, or the address the browser ended on."""
        flow = spec.code_flow()
        redirect = spec.redirect_uri
        local = None
        if redirect is None or is_loopback_url(redirect):
            local = flow.start_local_server(timeout=self._timeout)
            url = local.url
        else:
            url = flow.authorization_url()
        self._say(f"Open this page, log in and allow access:\n{url}")
        hint = " (or just press Enter if the page said you are logged in): " if local else ": "
        try:
            pasted = Secret(
                self._ask_secret("Then paste the address your browser ended on" + hint).strip()
            )
            if pasted:
                flow.complete(pasted.reveal())
            elif local is not None:
                local.wait(self._timeout + 5.0)
            else:
                raise InputError("no address was pasted")
        finally:
            if local is not None:
                local.cancel()
        return flow
