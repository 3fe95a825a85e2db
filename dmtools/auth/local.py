"""A login waiting in the background for its callback (see ``start_local_server``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from .exceptions import LoginTimeout
from .loopback import LoopbackListener
from .token import Token

__all__ = ["LocalLogin"]

log = logging.getLogger("dmtools.auth")

#: (status, token, error, page text) for one callback URL.
FlowCallback = Callable[[str], "tuple[int, Token | None, BaseException | None, str]"]


class LocalLogin:
    """A local-listener login in progress.

    Attributes:
        url: the consent-page URL to show or open.
        redirect_uri: where the listener waits (``http://127.0.0.1:PORT/callback``).

    Example:
        >>> login = flow.start_local_server(callback=on_done)   # doctest: +SKIP
        >>> show_link(login.url)                                # doctest: +SKIP
    """

    def __init__(
        self,
        url: str,
        listener: LoopbackListener,
        on_callback: FlowCallback,
        *,
        timeout: float,
        callback: Callable[[Token | None, BaseException | None], None] | None = None,
    ) -> None:
        self.url = url
        self.redirect_uri = listener.redirect_uri
        self._listener = listener
        self._on_callback = on_callback
        self._callback = callback
        self._cancel = threading.Event()
        self._done = threading.Event()
        self.token: Token | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(timeout,), name="dmtools-login-listener", daemon=True
        )
        self._thread.start()

    def __repr__(self) -> str:
        state = "done" if self._done.is_set() else "waiting"
        return f"LocalLogin(redirect_uri={self.redirect_uri!r}, {state})"

    def _handle(self, url: str) -> tuple[int, str]:
        status, token, error, text = self._on_callback(url)
        del url
        self.token, self.error = token, error
        return status, text

    def _run(self, timeout: float) -> None:
        try:
            self._listener.serve(self._handle, timeout=timeout, cancel=self._cancel)
        except BaseException as exc:  # timeout or cancel: reported through wait()/callback
            self.error = exc
        finally:
            self._done.set()
        if self._callback is not None:
            try:
                self._callback(self.token, self.error)
            except Exception:
                log.exception("the login callback raised")

    def done(self) -> bool:
        """True once the login succeeded, failed, timed out or was cancelled."""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> Token:
        """Block until the login ends and return its token.

        Raises:
            LoginTimeout: still waiting after ``timeout`` seconds (the listener keeps going),
                or the listener timed out.
            the login's error: :class:`StateMismatch`, :class:`AccessDenied`, ...
        """
        if not self._done.wait(timeout):
            raise LoginTimeout(f"the login is still waiting after {timeout:g} s")
        if self.error is not None:
            raise self.error
        assert self.token is not None
        return self.token

    def cancel(self) -> None:
        """Stop waiting and close the listener (no effect once done)."""
        self._cancel.set()
        self._thread.join(timeout=5.0)
