"""Secret canaries: the secrets a sandbox knows, every spelling of them, debug logging.

Shared by the scans of ``tests/auth/test_auth_canary.py`` and ``tests/security/``.
"""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, quote_plus

from dmtools.sandbox import Sandbox
from dmtools.secrets import install_redaction

#: Wrong credentials typed on purpose: they must not show anywhere either.
WRONG_PASSWORD = "WRONG-password-canary-5d1e"
WRONG_SECRET = "WRONG-client-secret-canary-a07b"


def issued_secrets(sb: Sandbox) -> tuple[set[str], set[str]]:
    """(tokens, other secrets) the sandbox knows: every access and refresh token it issued
    (API v2 JWTs included); authorization codes, API secrets, user passwords, the key that
    signs v2 tokens and its admin token."""
    store = sb._server.store
    with store.db.read() as conn:
        tokens = {r[0] for r in conn.execute("SELECT token FROM tokens")}
        other = {r[0] for r in conn.execute("SELECT code FROM codes")}
        other |= {r[0] for r in conn.execute("SELECT client_secret FROM clients")}
        other |= {r[0] for r in conn.execute("SELECT password FROM users") if r[0]}
        other |= {r[0] for r in conn.execute("SELECT value FROM meta WHERE key LIKE '%secret%'")}
    return tokens, other | {sb.admin_token, WRONG_PASSWORD, WRONG_SECRET}


def needles(sb: Sandbox, values: set[str]) -> dict[str, str]:
    """Each spelling of each secret -> a short label for the report."""
    found = {form: value[:12] for value in values for form in spellings(value)}
    with sb._server.store.db.read() as conn:
        for client_id, secret in conn.execute("SELECT client_id, client_secret FROM clients"):
            basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
            found[basic] = f"basic({client_id[:10]})"
    return found


def spellings(value: str) -> set[str]:
    """The forms a secret may take in a text: raw, form- and URL-encoded, JSON-escaped."""
    return {value, quote_plus(value), quote(value, safe=""), json.dumps(value)[1:-1]}


def failure(call: Callable[[], object]) -> BaseException:
    """The exception ``call`` raises (asserting it raises one)."""
    try:
        call()
    except Exception as exc:
        return exc
    raise AssertionError("expected a failure")


@contextmanager
def debug_logging() -> Iterator[io.StringIO]:
    """Every logger (root, dmtools, requests, urllib3, oauthlib) at DEBUG into one stream,
    with dmtools' redaction installed, as a user debugging a problem would set them."""
    install_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    loggers = [root] + [
        logging.getLogger(n)
        for n in ("requests_oauthlib", "oauthlib", "urllib3", "requests", "dmtools")
    ]
    levels = [logger.level for logger in loggers]
    root.addHandler(handler)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
