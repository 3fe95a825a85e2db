"""The authorization-code part of the login panel: consent link, listener and paste box.

A login starts an :class:`~dmtools.auth.AuthorizationCodeFlow`; when its callback URL is a
loopback one (or none was given), a one-shot listener on 127.0.0.1 receives the consent
page's answer and the login completes by itself. Otherwise (or on a remote Jupyter, where
the browser cannot reach the kernel's machine) the user pastes the address the browser
ended on; the paste box is emptied at once.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from dmtools.config import is_loopback_url
from dmtools.secrets import Secret

if TYPE_CHECKING:
    from dmtools.auth import AuthorizationCodeFlow, LocalLogin, LoginSpec, Token
    from dmtools.client import Client

__all__ = ["ConsentBox"]


class ConsentBox(w.VBox):
    """Link to the consent page, plus the paste box; hidden while no login waits.

    Args:
        lock: the panel's lock (the listener answers on its own thread).
        on_client: called with the logged-in client.
        on_error: called with the error of a failed login.
        notify: shows a message ``(kind, text)`` without ending the login.
        timeout: seconds the listener waits.
    """

    def __init__(
        self,
        *,
        lock: threading.RLock,
        on_client: Callable[[Client], Any],
        on_error: Callable[[BaseException], Any],
        notify: Callable[[str, str], Any],
        timeout: float,
        field_style: dict[str, str],
        field_layout: Any,
    ) -> None:
        self.link = w.HTML()
        self.paste = w.Text(
            description="Redirected URL",
            style=field_style,
            layout=field_layout,
            placeholder="paste the address your browser ended on",
        )
        self.paste_button = w.Button(description="Complete login")
        super().__init__(
            [
                self.link,
                w.HTML(
                    "<small>On a remote Jupyter, the browser cannot reach the listener: paste "
                    "the address it ended on here instead.</small>"
                ),
                w.HBox([self.paste, self.paste_button]),
            ]
        )
        self.layout.display = "none"
        self._lock = lock
        self._on_client, self._on_error, self._notify = on_client, on_error, notify
        self._timeout = timeout
        self._flow: AuthorizationCodeFlow | None = None
        self._local: LocalLogin | None = None
        self._spec: LoginSpec | None = None
        self.url: str | None = None
        self.paste_button.on_click(self._on_paste_click)

    @property
    def waiting(self) -> bool:
        """True while a login waits for the consent page's answer."""
        return self._flow is not None

    def start(self, spec: LoginSpec) -> bool:
        """Start the consent-page login of ``spec`` and show the link; True when the
        listener will complete it."""
        self.cancel()
        flow = spec.code_flow()
        self._flow, self._spec = flow, spec
        redirect_uri = spec.redirect_uri
        listening = redirect_uri is None or is_loopback_url(redirect_uri)
        if listening:
            self._local = flow.start_local_server(
                timeout=self._timeout,
                callback=lambda token, error: self._on_listener_done(flow, token, error),
            )
            url = self._local.url
        else:
            url = flow.authorization_url()
        self.url = url
        self.link.value = (
            f'<a class="dmtools-consent-link" href="{html.escape(url, quote=True)}" '
            'target="_blank" rel="noopener noreferrer" style="text-decoration:underline">'
            "Open the consent page ↗</a>"
        )
        self.layout.display = ""
        return listening

    def cancel(self) -> None:
        """Forget the login in progress: link, paste box and listener."""
        local, self._local = self._local, None
        self._flow, self._spec, self.url = None, None, None
        self.link.value = ""
        self.paste.value = ""
        self.layout.display = "none"
        if local is not None and not local.done():
            # joining the listener may wait for its thread, which may wait for the lock
            threading.Thread(target=local.cancel, name="dmtools-login-cancel", daemon=True).start()

    def _on_listener_done(
        self, flow: AuthorizationCodeFlow, token: Token | None, error: BaseException | None
    ) -> None:
        """Runs on the listener's thread when the consent page's answer arrived (or not)."""
        from dmtools.auth import LoginCancelled

        with self._lock:
            if flow is not self._flow or isinstance(error, LoginCancelled):
                return  # superseded, cancelled, or already completed through the paste box
            if error is not None or token is None:
                self.cancel()
                self._on_error(error or RuntimeError("no token"))
                return
            self._finish(flow)

    def _on_paste_click(self, button: Any = None) -> None:
        pasted = Secret(self.paste.value.strip())
        self.paste.value = ""
        with self._lock:
            flow = self._flow
            if flow is None:
                self._notify("error", "No login is waiting for consent: click Log in first.")
                return
            if not pasted:
                self._notify(
                    "error", "Paste the address your browser ended on after you allowed access."
                )
                return
            try:
                flow.complete(pasted.reveal())
            except Exception as exc:
                self.cancel()
                self._on_error(exc)
                return
            self._finish(flow)

    def _finish(self, flow: AuthorizationCodeFlow) -> None:
        from dmtools.client import connect

        spec = self._spec
        self.cancel()
        try:
            assert spec is not None
            client = connect(spec, code_flow=flow)
        except Exception as exc:
            self._on_error(exc)
            return
        self._on_client(client)
