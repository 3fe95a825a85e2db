"""dmtools: the Dailymotion Platform API in Jupyter and pandas.

Example:
    >>> import dmtools as dm
    >>> with dm.Sandbox() as sb:                                # doctest: +SKIP
    ...     c = sb.credentials
    ...     client = dm.connect("password", client_id=c.public_key.client_id,
    ...                         client_secret=c.public_key.client_secret,
    ...                         username=c.user.username, password=c.user.password,
    ...                         scope=["manage_videos"], endpoints=sb.endpoints)
    ...     df = dm.load_videos(client)

Importing dmtools is cheap: requests, pandas, matplotlib, ipywidgets and the sandbox's
server stack load only when the names that need them are first used. Every exception and
warning class of the package (the tree drawn in :mod:`dmtools.errors`) and the transport's
option types (:class:`Timeouts`, :class:`Backoff`, :class:`RateLimiter`,
:class:`RetryBudget`) are importable from here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dmtools._retry import Backoff, RateLimiter, RetryBudget, Timeouts
from dmtools.config import Endpoints
from dmtools.errors import (
    AccessDenied,
    APIError,
    AuthenticationError,
    DailymotionError,
    DailymotionWarning,
    HistoryConflict,
    IncompleteLoadWarning,
    InputError,
    InsecureTransportError,
    JournalError,
    LegacyGrantWarning,
    LoginCancelled,
    LoginError,
    LoginRequired,
    LoginTimeout,
    NotFound,
    PermissionDenied,
    Problem,
    RateLimited,
    ReportError,
    ScopeChangedWarning,
    ServerError,
    SessionExpired,
    StateMismatch,
    TokenStoreError,
    TransportError,
    ValidationError,
)

__version__ = "0.1.0"

# name -> module that defines it; loaded on first access.
_LAZY: dict[str, str] = {
    "Client": "dmtools.client",
    "connect": "dmtools.client",
    "AuthorizationCodeFlow": "dmtools.auth",
    "LoginSpec": "dmtools.auth",
    "Secret": "dmtools.secrets",
    "FileTokenStore": "dmtools.auth",
    "KeyringTokenStore": "dmtools.auth",
    "MemoryTokenStore": "dmtools.auth",
    "Sandbox": "dmtools.sandbox",
    "get_video": "dmtools.videos",
    "iterate_videos": "dmtools.videos",
    "all_videos": "dmtools.videos",
    "first_video": "dmtools.videos",
    "update_video": "dmtools.videos",
    "delete_video": "dmtools.videos",
    "load_videos": "dmtools.load",
    "load_profiles": "dmtools.load",
    "load_analytics": "dmtools.analytics",
    "to_frame": "dmtools.frames",
    "read_csv": "dmtools.frames",
    "write_csv": "dmtools.frames",
    "read_excel": "dmtools.frames",
    "write_excel": "dmtools.frames",
    "read_parquet": "dmtools.frames",
    "write_parquet": "dmtools.frames",
    "plan_edits": "dmtools.bulk",
    "plan_deletes": "dmtools.bulk",
    "EditPlan": "dmtools.bulk",
    "DeletePlan": "dmtools.bulk",
    "login_panel": "dmtools.widgets",
    "review_panel": "dmtools.widgets",
    "add_tags": "dmtools.editing",
    "remove_tags": "dmtools.editing",
    "without_tags": "dmtools.editing",
    "set_category": "dmtools.editing",
    "label_categories": "dmtools.editing",
}
_SUBMODULES = {
    "analytics",
    "report",
    "schema",
    "errors",
    "config",
    "bulk",
    "frames",
    "videos",
    "sandbox",
    "editing",
    "visibility",
    "dialects",
    "testing",
}

__all__ = [
    "APIError",
    "AccessDenied",
    "AuthenticationError",
    "AuthorizationCodeFlow",
    "Backoff",
    "Client",
    "DailymotionError",
    "DailymotionWarning",
    "DeletePlan",
    "EditPlan",
    "Endpoints",
    "FileTokenStore",
    "HistoryConflict",
    "IncompleteLoadWarning",
    "InputError",
    "InsecureTransportError",
    "JournalError",
    "KeyringTokenStore",
    "LegacyGrantWarning",
    "LoginCancelled",
    "LoginError",
    "LoginRequired",
    "LoginSpec",
    "LoginTimeout",
    "MemoryTokenStore",
    "NotFound",
    "PermissionDenied",
    "Problem",
    "RateLimited",
    "RateLimiter",
    "ReportError",
    "RetryBudget",
    "Sandbox",
    "ScopeChangedWarning",
    "Secret",
    "ServerError",
    "SessionExpired",
    "StateMismatch",
    "Timeouts",
    "TokenStoreError",
    "TransportError",
    "ValidationError",
    "__version__",
    "add_tags",
    "all_videos",
    "connect",
    "delete_video",
    "first_video",
    "get_video",
    "iterate_videos",
    "label_categories",
    "load_analytics",
    "load_profiles",
    "load_videos",
    "login_panel",
    "plan_deletes",
    "plan_edits",
    "read_csv",
    "read_excel",
    "read_parquet",
    "remove_tags",
    "report",
    "review_panel",
    "set_category",
    "to_frame",
    "update_video",
    "without_tags",
    "write_csv",
    "write_excel",
    "write_parquet",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"dmtools.{name}")
    raise AttributeError(f"module 'dmtools' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover
    from dmtools import analytics as analytics
    from dmtools import report as report
