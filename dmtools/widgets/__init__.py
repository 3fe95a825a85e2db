"""Jupyter panels: log in (:func:`login_panel`) and review a bulk plan (:func:`review_panel`).

The panels are ipywidgets. Where widgets cannot be shown (no ipywidgets, or not running in
a Jupyter kernel), :func:`login_panel` asks its questions as plain text instead, reading
secrets with ``getpass``.

Example:
    >>> import dmtools as dm
    >>> panel = dm.login_panel()                    # doctest: +SKIP
    >>> panel                                       # the form; then: panel.client
    >>> dm.review_panel(plan, panel.client)         # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dmtools.bulk import DeletePlan, EditPlan
    from dmtools.client import Client

    from .login import LoginPanel
    from .review import ReviewPanel
    from .textlogin import TextLogin

__all__ = [
    "LoginPanel",
    "ReviewPanel",
    "TextLogin",
    "login_panel",
    "review_panel",
    "widgets_available",
]

_LAZY = {"LoginPanel": ".login", "ReviewPanel": ".review", "TextLogin": ".textlogin"}


def widgets_available() -> bool:
    """True when ipywidgets is installed and this code runs in a Jupyter kernel."""
    if importlib.util.find_spec("ipywidgets") is None:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def login_panel(*, fallback: bool | None = None, **options: Any) -> LoginPanel | TextLogin:
    """The login panel; display it (last expression of a cell) and log in.

    Args:
        fallback: True for the plain-text login (prompts, ``getpass`` for secrets), False
            for the widgets; None (default) picks the widgets when they can be shown.
        **options: for :class:`LoginPanel` (``sandbox``, ``endpoints``, ``access``,
            ``use_sandbox``, ``timeout``, ``on_login``) or :class:`TextLogin` (``sandbox``,
            ``endpoints``, ``ask``, ``ask_secret``, ``say``, ``timeout``), which runs at once.

    Returns:
        The panel (or the text login); its ``client`` is the logged-in client.

    Example:
        >>> panel = dm.login_panel(access="edit")       # doctest: +SKIP
        >>> panel                                       # doctest: +SKIP
    """
    if fallback is None:
        fallback = not widgets_available()
    if fallback:
        from .textlogin import TextLogin

        login = TextLogin(**options)
        login.run()
        return login
    from .login import LoginPanel

    return LoginPanel(**options)


def review_panel(
    plan: EditPlan | DeletePlan | str | os.PathLike[str], client: Client, **options: Any
) -> ReviewPanel:
    """A panel to review ``plan`` and apply it through ``client`` (see :class:`ReviewPanel`):
    the one way a notebook writes. ``plan`` may also be a job's journal file, to resume it.

    Example:
        >>> dm.review_panel(dm.plan_edits(df, edited), client)                # doctest: +SKIP
        >>> dm.review_panel(dm.plan_deletes(old, snapshot=df), client)        # doctest: +SKIP
        >>> dm.review_panel("runs/edit-3a79fb8bf967.journal", client)         # doctest: +SKIP
    """
    from .review import ReviewPanel

    return ReviewPanel(plan, client, **options)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'dmtools.widgets' has no attribute {name!r}")
