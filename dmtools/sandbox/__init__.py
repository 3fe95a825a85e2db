"""A local emulator of the Dailymotion API, for tests, demos and notebooks.

It answers like the real API, the legacy Platform API (same paths on both hosts, same
envelopes and error JSON, paging caps, scopes, expiring tokens) and API v2 (``/v2`` with its
JWT token endpoint), on ``127.0.0.1``, from one store of seeded demo data, and can inject
faults.

Layout (the moto split): :mod:`~dmtools.sandbox.state` holds the data and its rules (SQLite,
no HTTP); :mod:`~dmtools.sandbox.api` the routing and the wire formats, one subpackage per
API dialect (:mod:`~dmtools.sandbox.api.legacy` for the Platform API,
:mod:`~dmtools.sandbox.api.v2` for API v2) plus the shared admin
API and upload server; :mod:`~dmtools.sandbox.faults` latency, faults and rate limiting; and
beside them the lifecycle: :class:`Sandbox` (``sandbox.py``) and the HTTP server
(``server.py``).

Example:
    >>> from dmtools.sandbox import Sandbox
    >>> with Sandbox(videos=100) as sb:
    ...     key = sb.credentials.public_key
    ...     sb.endpoints.token_url.endswith("/oauth/token")
    True
"""

from __future__ import annotations

from dmtools.sandbox.credentials import Credentials, DemoUser, PrivateKey, PublicKey
from dmtools.sandbox.sandbox import Sandbox
from dmtools.sandbox.state.settings import Settings

__all__ = ["Credentials", "DemoUser", "PrivateKey", "PublicKey", "Sandbox", "Settings"]
