"""Fault rules of the sandbox: validation, seeded decisions, retry headers and pages.

:func:`parse_rule` turns one rule dict (see :mod:`dmtools.sandbox.faults` for the keys) into a
:class:`Rule`, refusing unknown keys and bad values with a message naming the rule and the key.
:func:`uniform` is the hash-based draw behind every seeded decision.

Example:
    >>> rule = parse_rule(0, {"kind": "status", "status": 503, "rate": 0.05})
    >>> rule.fires(seed=1, n=1) in (True, False)
    True
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

__all__ = [
    "FAULT_KINDS",
    "MAX_SECONDS",
    "Rule",
    "check_flag",
    "check_number",
    "default_message",
    "html_page",
    "parse_rule",
    "phrase",
    "retry_after_header",
    "uniform",
]

FAULT_KINDS = ("status", "reset", "hold", "truncate")
#: Longest latency, jitter, hold or ``retry_after`` a rule may ask for, seconds (one day).
MAX_SECONDS = 86_400.0
_COMMON_KEYS = {"kind", "rate", "at", "methods", "path", "name"}
_KIND_KEYS = {
    "status": {
        "status",
        "html",
        "retry_after",
        "retry_after_format",
        "after_commit",
        "type",
        "message",
        "error_data",
        "body",
        "content_type",
    },
    "reset": {"after_commit"},
    "hold": {"seconds", "after_commit"},
    "truncate": {"bytes", "after_commit"},
}


@dataclass(frozen=True)
class Rule:
    """One validated fault rule (``index`` is its position in the configured list)."""

    index: int
    kind: str
    rate: float
    at: frozenset[int]
    methods: frozenset[str] | None
    path: re.Pattern[str] | None
    name: str | None
    after_commit: bool
    options: Mapping[str, Any] = field(default_factory=dict)

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return self.path is None or self.path.search(path) is not None

    def fires(self, seed: int, n: int) -> bool:
        return n in self.at or (self.rate > 0 and uniform(seed, f"rule{self.index}", n) < self.rate)


def uniform(seed: int, salt: str, n: int) -> float:
    """A uniform number in [0, 1) that depends only on its arguments."""
    digest = hashlib.blake2b(f"{seed}:{salt}:{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def check_number(where: str, value: Any, *, low: float, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{where} must be a number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{where} must be between {low} and {high}, got {value!r}")
    return float(value)


def check_flag(where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{where} must be true or false, got {value!r}")
    return value


def parse_rule(index: int, spec: Any) -> Rule:
    where = f"fault rule {index}"
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where}: expected a dict, got {type(spec).__name__}")
    kind = spec.get("kind")
    if kind not in _KIND_KEYS:
        raise ValueError(f"{where}: kind must be one of {', '.join(FAULT_KINDS)}, got {kind!r}")
    unknown = sorted(set(spec) - _COMMON_KEYS - _KIND_KEYS[kind])
    if unknown:
        raise ValueError(f"{where} ({kind}): unknown key(s) {', '.join(map(repr, unknown))}")
    at_raw = spec.get("at", ())
    if not isinstance(at_raw, list | tuple | set | frozenset) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in at_raw
    ):
        raise ValueError(f"{where}: 'at' must be a list of integers >= 1, got {at_raw!r}")
    rate = check_number(
        f"{where}: 'rate'", spec.get("rate", 0.0 if at_raw else 1.0), low=0.0, high=1.0
    )
    methods_raw = spec.get("methods")
    if isinstance(methods_raw, str):
        methods_raw = [methods_raw]
    if methods_raw is not None and not (
        isinstance(methods_raw, list | tuple) and all(isinstance(m, str) for m in methods_raw)
    ):
        raise ValueError(f"{where}: 'methods' must be a list of HTTP methods, got {methods_raw!r}")
    methods = None if methods_raw is None else frozenset(m.upper() for m in methods_raw)
    path = spec.get("path")
    try:
        pattern = None if path is None else re.compile(path)
    except (re.error, TypeError) as exc:
        raise ValueError(f"{where}: 'path' is not a valid regex ({exc})") from None
    name = spec.get("name")
    if name is not None and not isinstance(name, str):
        raise ValueError(f"{where}: 'name' must be a string, got {name!r}")
    after_commit = check_flag(
        f"{where}: 'after_commit'", spec.get("after_commit", kind in ("hold", "truncate"))
    )
    if kind in ("hold", "truncate") and not after_commit:
        raise ValueError(f"{where}: a {kind} fault always happens after the commit")
    options = _kind_options(where, kind, spec)
    return Rule(index, kind, rate, frozenset(at_raw), methods, pattern, name, after_commit, options)


def _kind_options(where: str, kind: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    if kind == "hold":
        seconds = spec.get("seconds", 30.0)
        return {"seconds": check_number(f"{where}: 'seconds'", seconds, low=0.0, high=MAX_SECONDS)}
    if kind == "truncate":
        size = spec.get("bytes")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise ValueError(f"{where}: 'bytes' must be an integer >= 0, got {size!r}")
        return {"bytes": size}
    if kind != "status":
        return {}
    status = spec.get("status", 503)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"{where}: 'status' must be an HTTP status code, got {status!r}")
    retry_after = spec.get("retry_after")
    if retry_after is not None:
        retry_after = check_number(
            f"{where}: 'retry_after' (seconds)", retry_after, low=0.0, high=MAX_SECONDS
        )
    fmt = spec.get("retry_after_format", "seconds")
    if fmt not in ("seconds", "http-date"):
        raise ValueError(
            f"{where}: 'retry_after_format' must be 'seconds' or 'http-date', got {fmt!r}"
        )
    for key in ("type", "message", "body", "content_type"):
        if key in spec and not isinstance(spec[key], str):
            raise ValueError(f"{where}: {key!r} must be a string, got {spec[key]!r}")
    error_data = spec.get("error_data", {})
    if not isinstance(error_data, Mapping):
        raise ValueError(f"{where}: 'error_data' must be a dict, got {error_data!r}")
    return {
        "status": status,
        "html": check_flag(f"{where}: 'html'", spec.get("html", False)),
        "retry_after": retry_after,
        "retry_after_format": fmt,
        "type": spec.get("type") or ("rate_limit_exceeded" if status == 429 else "server_error"),
        "message": spec.get("message") or default_message(status),
        "error_data": dict(error_data),
        "body": spec.get("body"),
        "content_type": spec.get("content_type", "application/json; charset=utf-8"),
    }


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def default_message(status: int) -> str:
    if status == 429:
        return "Rate limit exceeded, please retry later."
    if status == 503:
        return "The service is temporarily unavailable, please retry later."
    return f"{phrase(status)}."


def html_page(status: int) -> bytes:
    title = f"{status} {phrase(status)}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}"
        "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    ).encode()


def retry_after_header(seconds: float, fmt: str, now: float) -> tuple[str, float]:
    """The ``Retry-After`` value and the earliest time (epoch) it allows a retry."""
    if fmt == "http-date":
        when = math.ceil(now + seconds)
        return formatdate(when, usegmt=True), float(when)
    whole = math.ceil(seconds)
    return str(whole), now + whole
