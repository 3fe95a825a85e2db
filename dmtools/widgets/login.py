"""The login panel: an ipywidgets form for every grant, keeping secrets out of the notebook.

Secrets typed into the panel are read once, wrapped in :class:`~dmtools.secrets.Secret` and
the fields emptied at once, so the widget state (which JupyterLab can save in the ``.ipynb``)
never keeps them. The local sandbox's credentials never enter widget state at all: they
stay in Python and the fields say ``(sandbox credentials)``.
"""

from __future__ import annotations

import html
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from dmtools.config import Endpoints
from dmtools.notebook import (
    ACCESS_LEVELS,
    local_sandbox,
    login_summary,
    scopes_for,
)
from dmtools.secrets import Secret

from ._loginform import ENV_SECRETS, KEPT_PLACEHOLDER, SANDBOX_PLACEHOLDER, LoginForm
from ._shared import error_text, status_html
from .consent import ConsentBox

if TYPE_CHECKING:
    from dmtools.auth import LoginSpec
    from dmtools.client import Client
    from dmtools.sandbox import Sandbox

__all__ = ["ENV_SECRETS", "KEPT_PLACEHOLDER", "SANDBOX_PLACEHOLDER", "LoginPanel"]

GRANT_LABELS = {
    "client_credentials": "Client credentials",
    "authorization_code": "Authorization code (browser consent page)",
    "password": "Password (legacy)",
}
GRANTS_FOR_KIND = {"private": ("client_credentials",), "public": ("authorization_code", "password")}
#: The APIs the panel logs in to (API v2 takes private keys only: no browser, no password).
API_LABELS = {"legacy": "Platform API (legacy)", "v2": "API v2 (private key)"}
_STYLE = {"description_width": "9em"}
_WIDE = w.Layout(width="34em")


def _text(description: str, placeholder: str = "", password: bool = False) -> Any:
    cls = w.Password if password else w.Text
    return cls(description=description, placeholder=placeholder, style=_STYLE, layout=_WIDE)


def _labelled(text: str, widget: Any) -> Any:
    """``widget`` after a label aligned with the descriptions of the other fields."""
    label = w.HTML(
        f'<div style="text-align:right;padding-right:8px">{html.escape(text)}</div>',
        layout=w.Layout(width="9em", min_width="9em"),
    )
    return w.HBox([label, widget])


class LoginPanel(LoginForm, w.VBox):
    """Log in to the Dailymotion API from a notebook, with any grant the API key allows.

    The resulting :class:`~dmtools.client.Client` is :attr:`client` (None until logged in).

    The ``DMTOOLS_*`` settings are used: under ``dmtools lab`` (``DMTOOLS_SANDBOX_URL``
    with the sandbox's keys) the sandbox box uses that sandbox instead of starting a second
    one; otherwise ``DMTOOLS_CLIENT_ID``, ``DMTOOLS_USERNAME`` and ``DMTOOLS_GRANT`` fill the
    form, and ``DMTOOLS_CLIENT_SECRET``/``DMTOOLS_PASSWORD`` are used when the secret fields
    are left empty (they never enter the form).

    Args:
        sandbox: the sandbox that "Use the sandbox" logs in to (default: the lab's sandbox
            of the environment, else the one of :func:`dmtools.notebook.local_sandbox`,
            started when the box is ticked).
        endpoints: where to log in otherwise (default: ``DMTOOLS_SANDBOX_URL``, else the
            real API).
        environ: the variables to read (default ``os.environ``).
        access: the initial scope preset: ``read-only``, ``edit`` or ``delete``.
        use_sandbox: tick "Use the local sandbox" at once.
        api: the API to log in to: ``"legacy"`` (the Platform API) or ``"v2"`` (API v2: a
            private key with client credentials, so no browser is needed, and the login
            works in a remote kernel). Default: ``DMTOOLS_API``, else ``legacy``.
        timeout: seconds the local listener waits for the consent page's answer.
        on_login: called with the client after each successful login.

    Example:
        >>> panel = dm.login_panel()       # shows the form; then, in a later cell:
        >>> client = panel.client          # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        sandbox: Sandbox | None = None,
        endpoints: Endpoints | None = None,
        access: str = "read-only",
        use_sandbox: bool = False,
        api: str | None = None,
        timeout: float = 600.0,
        on_login: Callable[[Client], Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.client: Client | None = None
        self.error: BaseException | None = None
        self._use_environment(environ, sandbox, endpoints)
        self._timeout = timeout
        self._callbacks: list[Callable[[Client], Any]] = [on_login] if on_login else []
        self._kept: dict[str, Secret] = {}
        self._lock = threading.RLock()
        self._finished = threading.Event()
        self._setting_scopes = False

        self._make_fields(access, api or self._env.get("DMTOOLS_API") or "legacy")
        self.consent = ConsentBox(
            lock=self._lock,
            on_client=self._succeeded,
            on_error=self._failed,
            notify=self._set_status,
            timeout=timeout,
            field_style=_STYLE,
            field_layout=_WIDE,
        )
        self.consent_link = self.consent.link
        self.paste, self.paste_button = self.consent.paste, self.consent.paste_button
        super().__init__(self._rows())
        self.add_class("dmtools-login-panel")
        self._connect_events()
        self._on_api()
        self._fill_env()
        if use_sandbox:
            self.use_sandbox.value = True

    def _make_fields(self, access: str, api: str) -> None:
        where = f"Use the sandbox of this lab ({self._lab.url})" if self._lab else None
        self.use_sandbox = w.Checkbox(
            value=False,
            description=where or "Use the local sandbox",
            indent=False,
            layout=w.Layout(width="40em"),
        )
        self.api = w.ToggleButtons(
            options=[(label, name) for name, label in API_LABELS.items()],
            value=api if api in API_LABELS else "legacy",
            style={"button_width": "12.2em"},
        )
        self.key_kind = w.ToggleButtons(
            options=[("Public API key", "public"), ("Private API key", "private")],
            value="public",
            style={"button_width": "12.2em"},
        )
        self.grant = w.Dropdown(description="Grant", style=_STYLE, layout=_WIDE)
        self.client_id = _text("API key")
        self.client_secret = _text("API secret", password=True)
        self.username = _text("Username")
        self.password = _text("Password", password=True)
        self.redirect_uri = _text("Callback URL", "(local listener on 127.0.0.1)")
        self.access = w.Dropdown(
            options=[*ACCESS_LEVELS, "custom"],
            value=access,
            description="Access",
            style=_STYLE,
            layout=_WIDE,
        )
        self.scopes = _text("Scopes", "(none: public data only)")
        self.login_button = w.Button(description="Log in", button_style="primary", icon="sign-in")
        self.logout_button = w.Button(description="Log out", disabled=True)
        self.status = w.HTML(status_html("info", "Not logged in."))
        self._user_row = w.VBox([self.username, self.password])
        self._redirect_row = w.VBox([self.redirect_uri])

    def _rows(self) -> list[Any]:
        return [
            w.HTML("<b>Log in to the Dailymotion API</b>"),
            self.use_sandbox,
            _labelled("API", self.api),
            _labelled("Kind of key", self.key_kind),
            self.grant,
            self.client_id,
            self.client_secret,
            self._user_row,
            self._redirect_row,
            self.access,
            self.scopes,
            w.HBox([self.login_button, self.logout_button]),
            self.consent,
            self.status,
        ]

    def _connect_events(self) -> None:
        self.api.observe(self._on_api, names="value")
        self.key_kind.observe(self._on_kind, names="value")
        self.grant.observe(self._on_grant, names="value")
        self.access.observe(self._on_access, names="value")
        self.scopes.observe(self._on_scopes_typed, names="value")
        self.use_sandbox.observe(self._on_use_sandbox, names="value")
        self.login_button.on_click(self._on_login_click)
        self.logout_button.on_click(self._on_logout_click)

    def __repr__(self) -> str:
        state = "logged in" if self.client is not None else "not logged in"
        return f"<dmtools LoginPanel: {state}>"

    # -- public helpers -------------------------------------------------------------------

    def on_login(self, callback: Callable[[Client], Any]) -> None:
        """Call ``callback(client)`` after each successful login."""
        self._callbacks.append(callback)

    def wait(self, timeout: float | None = None) -> Client:
        """Block until the login in progress ends; return the client or raise its error.

        Raises:
            TimeoutError: still not finished after ``timeout`` seconds.
        """
        if not self._finished.wait(timeout):
            raise TimeoutError(f"the login did not finish within {timeout} s")
        if self.client is None:
            raise self.error or RuntimeError("not logged in")
        return self.client

    @property
    def consent_url(self) -> str | None:
        """The consent-page URL of the authorization-code login in progress."""
        return self.consent.url

    # -- form behaviour -------------------------------------------------------------------

    @staticmethod
    def _show(widget: Any, visible: bool) -> None:
        widget.layout.display = "" if visible else "none"

    def _on_api(self, change: Any = None) -> None:
        """API v2 takes a private key only: the kind of key is fixed while it is chosen."""
        v2 = self.api.value != "legacy"
        if v2:
            self.key_kind.value = "private"
        self.key_kind.disabled = v2
        self._on_kind()

    def _on_kind(self, change: Any = None) -> None:
        kind = self.key_kind.value
        self.grant.options = [(GRANT_LABELS[g], g) for g in GRANTS_FOR_KIND[kind]]
        self.grant.value = GRANTS_FOR_KIND[kind][0]
        self._on_access()
        if self.use_sandbox.value:
            self._fill_sandbox()

    def _on_grant(self, change: Any = None) -> None:
        self._show(self._user_row, self.grant.value == "password")
        self._show(self._redirect_row, self.grant.value == "authorization_code")

    def _on_access(self, change: Any = None) -> None:
        if self.access.value == "custom":
            return
        self._setting_scopes = True
        try:
            self.scopes.value = " ".join(
                scopes_for(self.access.value, self.key_kind.value, self.api.value)
            )
        finally:
            self._setting_scopes = False

    def _on_scopes_typed(self, change: Any) -> None:
        if not self._setting_scopes:
            self.access.value = "custom"

    def _on_use_sandbox(self, change: Any) -> None:
        if change["new"]:
            self._set_status("busy", "Starting the local sandbox…")
            try:
                self._sandbox = self._given_sandbox or local_sandbox()
            except Exception as exc:
                self._sandbox = None
                self.use_sandbox.value = False
                self._set_status("error", f"Could not start the local sandbox: {error_text(exc)}")
                return
            self._fill_sandbox()
            self._set_status(
                "info",
                f"Using the sandbox at {self._sandbox.url}. Choose a "
                "kind of key and a grant, then log in.",
            )
        else:
            self._sandbox = None
            for field in self._key_fields:
                field.disabled = False
                field.placeholder = ""
                field.value = ""
            self.redirect_uri.placeholder = "(local listener on 127.0.0.1)"
            self._fill_env()
            self._set_status("info", "Not logged in.")

    def _set_status(self, kind: str, text: str) -> None:
        self.status.value = status_html(kind, text)

    # -- logging in -----------------------------------------------------------------------

    def _on_login_click(self, button: Any = None) -> None:
        with self._lock:
            self.consent.cancel()
            self._finished.clear()
            self.error = None
            self._set_status("busy", "Logging in…")
            try:
                spec = self._spec()
                if spec.grant == "authorization_code":
                    self._wait_for_consent(spec)
                    return
                from dmtools.client import connect

                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    client = connect(spec)
                notes = [str(c.message) for c in caught]
            except Exception as exc:
                self._failed(exc)
                return
            self._succeeded(client, notes)

    def _wait_for_consent(self, spec: LoginSpec) -> None:
        listening = self.consent.start(spec)
        where = (
            "this panel completes the login by itself"
            if listening
            else "then paste the address your browser ended on below"
        )
        self._set_status(
            "busy",
            f"Waiting for consent: open the consent page, log in and allow access; {where}.",
        )

    def _succeeded(self, client: Client, notes: Sequence[str] = ()) -> None:
        self.client = client
        self._forget_secrets()
        text = login_summary(client) + "."
        if notes:
            text += "\n" + "\n".join(f"Note: {note}" for note in notes)
        self._set_status("ok", text)
        self.logout_button.disabled = False
        self._finished.set()
        for callback in list(self._callbacks):
            callback(client)

    def _failed(self, exc: BaseException) -> None:
        self.error = exc
        self._set_status("error", f"Login failed: {error_text(exc)}")
        self._finished.set()

    def _on_logout_click(self, button: Any = None) -> None:
        with self._lock:
            client, self.client = self.client, None
            self.logout_button.disabled = True
            if client is None:
                return
            try:
                client.logout()
            except Exception as exc:
                self._set_status(
                    "error", f"Logged out locally; the API answered: {error_text(exc)}"
                )
                return
            self._set_status("info", "Logged out.")
