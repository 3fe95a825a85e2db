"""``dmtools login``, ``whoami`` and ``logout``."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Annotated

import typer

from dmtools.auth.saved import Profile
from dmtools.cli import _session
from dmtools.cli._common import guarded, info, out
from dmtools.errors import InputError
from dmtools.secrets import Secret

if TYPE_CHECKING:
    from dmtools.auth import AuthorizationCodeFlow, Token

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
  # API v2 with a private key (client credentials: no browser, works over SSH)
  export DMTOOLS_CLIENT_ID=... DMTOOLS_CLIENT_SECRET=...
  dmtools login --api v2 --access delete        # or DMTOOLS_API=v2 dmtools login
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


def _ask(prompt: str, secret: bool) -> str:
    """Ask for a value the options and the environment do not give (secrets hidden)."""
    answer = typer.prompt(prompt, hide_input=secret, default="", show_default=False, err=True)
    answer = str(answer) if secret else str(answer).strip()
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
        redirected = Secret(_ask("Paste the URL your browser was sent to", True))
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


GrantOption = Annotated[
    str | None,
    typer.Option(
        "--grant",
        "-g",
        help="client_credentials (private key), password or "
        "authorization_code (public key). Default: DMTOOLS_GRANT, else password with a "
        "username, else client_credentials.",
    ),
]
SandboxUrlOption = Annotated[
    str | None,
    typer.Option(
        "--sandbox-url",
        metavar="URL",
        help="Log in to a sandbox running at this loopback URL "
        "(default: DMTOOLS_SANDBOX_URL, else the real API).",
    ),
]
ClientIdOption = Annotated[
    str | None,
    typer.Option(
        "--client-id", help="The API key (not secret). Default: DMTOOLS_CLIENT_ID, else asked."
    ),
]
UsernameOption = Annotated[
    str | None,
    typer.Option(
        "--username",
        "-u",
        help="Account for the password grant. Default: DMTOOLS_USERNAME, else asked.",
    ),
]
AccessOption = Annotated[
    str,
    typer.Option(help="read-only, edit or delete: the scopes to ask for, for the kind of key."),
]
ScopeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--scope", help="Exact scope to ask for instead of --access (repeat for several)."
    ),
]
StoreOption = Annotated[
    str | None,
    typer.Option(
        help="Where the token is kept: auto (the system keyring if it is safe, else a 0600 "
        "file), keyring or file. Default: DMTOOLS_TOKEN_STORE, else auto."
    ),
]
RedirectOption = Annotated[
    str | None,
    typer.Option(
        help="Callback URL registered for the key (authorization_code). Default: "
        "DMTOOLS_REDIRECT_URI, else a listener on 127.0.0.1."
    ),
]
PasteOption = Annotated[
    bool,
    typer.Option(
        "--paste",
        help="authorization_code: paste the URL the browser was sent to instead of "
        "listening on 127.0.0.1.",
    ),
]
BrowserOption = Annotated[
    bool,
    typer.Option(
        "--browser/--no-browser", help="Open the consent page in a browser (authorization_code)."
    ),
]
WaitOption = Annotated[float, typer.Option(help="Seconds to wait for the consent page.")]
ApiOption = Annotated[
    str | None,
    typer.Option(
        "--api",
        metavar="API",
        help="legacy (the Platform API) or v2 (API v2: a private key, client_credentials "
        "only, no browser). Default: DMTOOLS_API, else legacy.",
    ),
]


def login_grant(api: str, grant: str | None) -> str | None:
    """The grant to log in with on ``api``: the one given (or ``DMTOOLS_GRANT``), else the
    API's only grant; an API that refuses the grant is an InputError before anything is
    asked or sent."""
    from dmtools.auth.credentials import LOGIN_GRANTS
    from dmtools.dialects import get_dialect

    dialect = get_dialect(api)
    chosen = _session.env_or(grant, "DMTOOLS_GRANT")
    if chosen is None:
        return next(iter(dialect.grants)) if len(dialect.grants) == 1 else None
    if chosen in LOGIN_GRANTS and chosen not in dialect.grants:
        only = ", ".join(sorted(dialect.grants))
        raise InputError(
            f"the {dialect.name} API does not log in with the {chosen!r} grant: it takes a "
            f"private API key ({only}); password and authorization-code logins with a public "
            "key are for the legacy Platform API (--api legacy)"
        )
    return chosen


@guarded
def login(
    grant: GrantOption = None,
    sandbox_url: SandboxUrlOption = None,
    client_id: ClientIdOption = None,
    username: UsernameOption = None,
    access: AccessOption = "edit",
    scope: ScopeOption = None,
    store: StoreOption = None,
    redirect_uri: RedirectOption = None,
    paste: PasteOption = False,
    browser: BrowserOption = True,
    timeout: WaitOption = 300.0,
    api: ApiOption = None,
) -> None:
    """Log in to the Dailymotion API (or a sandbox) and keep the session for later commands.

    The token goes to the token store; cli.json next to it records which API (legacy or v2),
    key, grant and account it belongs to. Logging in again replaces the saved session.
    """
    from dmtools.auth import LoginSpec
    from dmtools.client import connect

    api = _session.env_or(api, "DMTOOLS_API") or "legacy"
    grant = login_grant(api, grant)
    token_store, store_kind = _session.open_store(
        _session.env_or(store, "DMTOOLS_TOKEN_STORE") or "auto"
    )
    spec = LoginSpec.from_env(
        access=access,
        scope=list(scope) if scope else None,
        ask=_ask,
        grant=grant,
        client_id=client_id,
        username=username,
        sandbox_url=sandbox_url,
        redirect_uri=redirect_uri,
        dialect=api,
    )
    flow = None
    if spec.grant == "authorization_code":
        flow = spec.code_flow()
        _code_login(flow, paste=paste, browser=browser, timeout=timeout)
    with connect(spec, token_store=token_store, code_flow=flow, reuse=False) as client:
        facts = _session.snapshot_of(client)
        profile = Profile.of(spec, store=store_kind, scopes=client.scopes)
    _session.save_profile(profile)
    who = facts["screenname"] or facts["username"] or facts["id"]
    where = f" to API {api}" if api != "legacy" else ""
    where += " (sandbox)" if facts["sandbox"] else ""
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
    out(f"  dialect  {facts['dialect']}")
    if facts.get("profiles"):
        out(f"  profiles {' '.join(facts['profiles'])}")
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
