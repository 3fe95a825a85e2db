"""A local emulator of the Dailymotion Platform API, for tests, demos and notebooks.

It answers like the real API (same paths on both hosts, same envelopes and error JSON, paging
caps, scopes, expiring tokens) on ``127.0.0.1``, with seeded demo data, and can inject faults.

Example:
    >>> from dmtools.sandbox import Sandbox
    >>> with Sandbox(videos=100) as sb:
    ...     key = sb.credentials.public_key
    ...     sb.endpoints.token_url.endswith("/oauth/token")
    True
"""

from __future__ import annotations

from dmtools.sandbox.sandbox import Credentials, DemoUser, PrivateKey, PublicKey, Sandbox

__all__ = ["Credentials", "DemoUser", "PrivateKey", "PublicKey", "Sandbox"]
