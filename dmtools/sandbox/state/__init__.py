"""The sandbox's state: data and rules, no HTTP (the ``models`` of the moto split).

Everything here is shared by every API dialect: one :class:`Store` (SQLite: users, API keys,
videos, uploads, tokens, codes, the upload ledger; settings and logs), the token services
:class:`Tokens` and :class:`V2Tokens` (API v2 JWTs), the list query model (:class:`VideoFilter`, :class:`Paging`, :class:`Visibility`), the data rules
and the errors they raise. Nothing here imports werkzeug or renders a wire format.
"""

from __future__ import annotations

from dmtools.sandbox.state.errors import (
    GrantError,
    NotFound,
    QuotaExceeded,
    RuleViolation,
    StaleVersion,
    StateError,
    TokenRejected,
)
from dmtools.sandbox.state.logs import LOG_SIZE, RingLog
from dmtools.sandbox.state.queries import Paging, VideoFilter, Visibility
from dmtools.sandbox.state.settings import Settings
from dmtools.sandbox.state.store import Store
from dmtools.sandbox.state.tokens import Issued, Principal, Tokens
from dmtools.sandbox.state.v2tokens import V2Tokens

__all__ = [
    "LOG_SIZE",
    "GrantError",
    "Issued",
    "NotFound",
    "Paging",
    "Principal",
    "QuotaExceeded",
    "RingLog",
    "RuleViolation",
    "Settings",
    "StaleVersion",
    "StateError",
    "Store",
    "TokenRejected",
    "Tokens",
    "V2Tokens",
    "VideoFilter",
    "Visibility",
]
