"""``dmtools login``, ``whoami`` and ``logout``."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dmtools.cli import _session
from dmtools.cli._common import guarded, info, out
from dmtools.errors import InputError

if TYPE_CHECKING:
    from dmtools.auth import AuthorizationCodeFlow, Token
    from dmtools.config import Endpoints
    from dmtools.secrets import Secret

LOGIN_EXAMPLES = """\b
Examples:
  # a private API key (client credentials) from the environment
  export DMTOOLS_CLIENT_ID=... DMTOOLS_CLIENT_SECRET=...
  dmtools login --grant client_credentials --access delete
\b
  # a public API key, signing in on the consent page in a browser
  dmtools login --grant authorization_code --client-id KEY
\b
  # the demo user of a sandbox started with `dmtools sandbox`
  dmtools login --sandbox-url http://127.0.0.1:8123 --grant password --username demo
\b
Secrets (client secret, password, pasted callback URL) are read from DMTOOLS_CLIENT_SECRET
and DMTOOLS_PASSWORD or asked for with hidden input; they are never options and never saved.
"""

WHOAMI_EXAMPLES = """\b
Examples:
  dmtools whoami
  dmtools whoami --json
"""

LOGOUT_EXAMPLES = """\b
Examples:
  dmtools logout
"""

GRANTS = ("client_credentials", "password", "authorization_code")


def _secret(value: str | None, prompt: str) -> Secret:
    from dmtools.secrets import Secret

    if value:
        return Secret(value)
    answer = typer.prompt(prompt, hide_input=True, default="", show_default=False, err=True)
    if not answer:
        raise InputError(f"{prompt.lower()} is needed")
    return Secret(answer)


def _plain(value: str | None, prompt: str) -> str:
    if value:
        return value
    answer = str(typer.prompt(prompt, default="", show_default=False, err=True)).strip()
    if not answer:
        raise InputError(f"{prompt.lower()} is needed")
    return answer


def _code_login(
    flow: AuthorizationCodeFlow, *, paste: bool, browser: bool, timeout: float
) -> Token:
    """Run the consent-page login: local listener (default) or paste the redirected URL."""
    if paste:
        url = flow.authorization_url()
        info("Open this URL in a browser, sign in and allow access:")
        info(f"  {url}")
        redirected = _secret(None, "Paste the URL your browser was sent to")
        return flow.complete(redirected.reveal())
    login = flow.start_local_server(timeout=timeout)
    info(f"Sign in on the consent page (waiting for the answer on {login.redirect_uri}):")
    info(f"  {login.url}")
    if browser:
        import webbrowser

        if not webbrowser.open(login.url):
            info("(could not open a browser: open the URL above by hand)")
    try:
        return login.wait(timeout + 5.0)
    finally:
        login.cancel()


@guarded
def login(
    grant: Annotated[
        str | None,
        typer.Option(
            "--grant",
            "-g",
            help="client_credentials (private key), password or "
            "authorization_code (public key). Default: DMTOOLS_GRANT, else password with a "
            "username, else client_credentials.",
        ),
    ] = None,
    sandbox_url: Annotated[
        str | None,
        typer.Option(
            "--sandbox-url",
            metavar="URL",
            help="Log in to a sandbox running at this loopback URL "
            "(default: DMTOOLS_SANDBOX_URL, else the real API).",
        ),
    ] = None,
    client_id: Annotated[
        str | None,
        typer.Option(
            "--client-id", help="The API key (not secret). Default: DMTOOLS_CLIENT_ID, else asked."
        ),
    ] = None,
    username: Annotated[
        str | None,
        typer.Option(
            "--username",
            "-u",
            help="Account for the password grant. Default: DMTOOLS_USERNAME, else asked.",
        ),
    ] = None,
    access: Annotated[
        str,
        typer.Option(help="read-only, edit or delete: the scopes to ask for, for the kind of key."),
    ] = "edit",
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope", help="Exact scope to ask for instead of --access (repeat for several)."
        ),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            help="Where the token is kept: auto (the system keyring if it is safe, else a 0600 "
            "file), keyring or file. Default: DMTOOLS_TOKEN_STORE, else auto."
        ),
    ] = None,
    redirect_uri: Annotated[
        str | None,
        typer.Option(
            help="Callback URL registered for the key (authorization_code). Default: "
            "DMTOOLS_REDIRECT_URI, else a listener on 127.0.0.1."
        ),
    ] = None,
    paste: Annotated[
        bool,
        typer.Option(
            "--paste",
            help="authorization_code: paste the URL the browser was sent to instead of "
            "listening on 127.0.0.1.",
        ),
    ] = False,
    browser: Annotated[
        bool,
        typer.Option(
            "--browser/--no-browser",
            help="Open the consent page in a browser (authorization_code).",
        ),
    ] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the consent page.")] = 300.0,
) -> None:
    """Log in to the Dailymotion API (or a sandbox) and keep the session for later commands.

    The token goes to the token store; cli.json next to it records which API, key, grant and
    account it belongs to. Logging in again replaces the saved session.
    """
    from dmtools.auth import AuthorizationCodeFlow, create_token_manager
    from dmtools.client import Client
    from dmtools.config import Endpoints
    from dmtools.notebook import GRANT_KIND, scopes_for

    env = os.environ
    url = _session.env_or(sandbox_url, "DMTOOLS_SANDBOX_URL")
    endpoints: Endpoints = Endpoints.sandbox(url) if url else Endpoints.dailymotion()
    user = _session.env_or(username, "DMTOOLS_USERNAME")
    kind = _session.env_or(grant, "DMTOOLS_GRANT") or ("password" if user else "client_credentials")
    if kind not in GRANTS:
        raise InputError(f"unknown grant {kind!r}: use one of {', '.join(GRANTS)}")
    scopes = list(scope) if scope else list(scopes_for(access, GRANT_KIND[kind]))
    token_store, store_kind = _session.open_store(
        _session.env_or(store, "DMTOOLS_TOKEN_STORE") or "auto"
    )
    key = _plain(_session.env_or(client_id, "DMTOOLS_CLIENT_ID"), "API key (client id)")
    secret = _secret(env.get("DMTOOLS_CLIENT_SECRET"), "API secret")
    recorder = _session.RecordingStore(token_store)
    options: dict[str, Any] = {
        "client_id": key,
        "client_secret": secret,
        "scope": scopes,
        "endpoints": endpoints,
        "token_store": recorder,
    }
    if kind == "password":
        user = _plain(user, "Username")
        password = _secret(env.get("DMTOOLS_PASSWORD"), "Password")
        manager = create_token_manager(kind, username=user, password=password, **options)
    elif kind == "authorization_code":
        flow = AuthorizationCodeFlow(
            key,
            secret,
            _session.env_or(redirect_uri, "DMTOOLS_REDIRECT_URI"),
            scope=scopes,
            endpoints=endpoints,
        )
        _code_login(flow, paste=paste, browser=browser, timeout=timeout)
        manager = create_token_manager(kind, code_flow=flow, **options)
    else:
        manager = create_token_manager(kind, **options)
    del secret
    client = Client(manager)
    facts = _session.snapshot_of(client)
    assert recorder.key is not None
    profile = _session.profile_for(
        client_id=key,
        grant=kind,
        username=user if kind == "password" else None,
        endpoints=endpoints,
        store=store_kind,
        key=recorder.key,
        scopes=client.scopes,
    )
    _session.save_profile(profile)
    client.close()
    who = facts["screenname"] or facts["username"] or facts["id"]
    where = " (sandbox)" if facts["sandbox"] else ""
    out(
        f"Logged in as {who}{where} with {' '.join(facts['scopes']) or 'no scopes'}; "
        f"token valid until {facts['expires_at'] or 'unknown'}"
    )
    info(f"Session saved in {_session.describe_store(token_store)}")


@guarded
def whoami(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show who the commands act as: account, API, key, grant, scopes and token expiry."""
    profile = _session.load_profile()
    client = _session.open_client("edit")
    with client:
        facts = _session.snapshot_of(client)
    from_profile = profile is not None and (
        not os.environ.get("DMTOOLS_CLIENT_ID")
        or os.environ["DMTOOLS_CLIENT_ID"] == profile.client_id
    )
    facts["session"] = "saved" if from_profile else "environment"
    if as_json:
        out(json.dumps(facts))
        return
    who = facts["screenname"] or facts["username"] or facts["id"]
    name = f", {facts['username']}" if facts["username"] else ""
    out(f"Logged in as {who} (id {facts['id']}{name})")
    out(f"  api      {facts['api']}{' (sandbox)' if facts['sandbox'] else ''}")
    out(f"  key      {facts['key']}")
    out(f"  scopes   {' '.join(facts['scopes']) or '(none)'}")
    out(f"  token    valid until {facts['expires_at'] or 'unknown'}")
    out(f"  session  {facts['session']}")


@guarded
def logout() -> None:
    """Revoke the saved session on the API and forget it here."""
    profile = _session.load_profile()
    if profile is None:
        out("Not logged in.")
        return
    store, _ = _session.open_store(profile.store)
    try:
        client = _session.stored_client(profile, {})
        if client is not None:
            with client:
                client.logout()
    except Exception as exc:  # the local session is forgotten whatever the API said
        info(f"warning: could not revoke the session on the API ({exc})")
    finally:
        store.delete(profile.key)
        _session.remove_profile()
    out("Logged out.")


def register(app: typer.Typer) -> None:
    app.command(epilog=LOGIN_EXAMPLES)(login)
    app.command(epilog=WHOAMI_EXAMPLES)(whoami)
    app.command(epilog=LOGOUT_EXAMPLES)(logout)
