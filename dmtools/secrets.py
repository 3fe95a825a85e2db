"""Secrets as a type, and log redaction.

A :class:`Secret` wraps a client secret, password, token, authorization code or PKCE
verifier. Its ``repr``, ``str``, ``format`` and HTML display are masked, it refuses to be
pickled, and it compares in constant time. Only :meth:`Secret.reveal` returns the value.

Every live secret value is also recorded in a process-wide registry, so that
:func:`redact` can remove it from any text, whatever library wrote that text. Logging is
redacted in two places (a filter on a logger does not see records propagated from child
loggers, so neither place is a logger filter):

* a log-record factory, which redacts every record when it is created, whoever logs it
  (``requests_oauthlib``, ``oauthlib``, ``urllib3``...);
* :class:`RedactingFilter` on the handlers present when :func:`install_redaction` runs.

Besides registered values, text that looks like a credential is masked by key:
``Authorization: Bearer ...``, ``access_token=...``, ``"refresh_token": "..."``,
``client_secret``, ``password``, ``code``, ``code_verifier`` and ``state``.

Example:
    >>> s = Secret("hunter2-hunter2")
    >>> s
    Secret('********')
    >>> f"password={s}"
    'password=********'
    >>> s.reveal()
    'hunter2-hunter2'
    >>> redact("sent hunter2-hunter2 to the server")
    'sent ******** to the server'
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
import weakref
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "RedactingFilter", "Secret", "install_redaction", "redact", "redact_data"]

MASK = "********"

# Values shorter than this are not redacted by value (masking "a" everywhere would wreck
# every log line); key-based redaction still applies to them.
_MIN_REGISTERED_LENGTH = 4

_lock = threading.Lock()
_live: Counter[str] = Counter()
_pattern: re.Pattern[str] | None = None
# Finalizers run inside garbage collection, possibly while this thread holds _lock: they only
# queue the value (deque.append is atomic), and the next locked operation forgets it.
_dead: deque[str] = deque()
_inside = threading.local()


def _forms(value: str) -> set[str]:
    """The spellings a value takes in logs: raw, URL-encoded and JSON-escaped."""
    forms = {value, quote_plus(value), quote(value, safe=""), json.dumps(value)[1:-1]}
    return {form for form in forms if len(form) >= _MIN_REGISTERED_LENGTH}


def _forget_dead() -> None:
    """Drop the values of collected secrets. Call with _lock held."""
    global _pattern
    while _dead:
        for form in _forms(_dead.popleft()):
            _live[form] -= 1
            if _live[form] <= 0:
                del _live[form]
        _pattern = None


@contextmanager
def _locked() -> Iterator[None]:
    with _lock:
        _inside.active = True
        try:
            _forget_dead()
            yield
        finally:
            _inside.active = False


def _register(value: str) -> None:
    global _pattern
    with _locked():
        for form in _forms(value):
            _live[form] += 1
        _pattern = None


def _value_pattern() -> re.Pattern[str] | None:
    global _pattern
    if getattr(_inside, "active", False):
        # Re-entered on this thread (a log call from a __del__ run by garbage collection
        # inside a locked section): use the pattern as it stands rather than deadlock.
        return _pattern
    with _locked():
        if _pattern is None and _live:
            # Longest first, so a value containing another one is masked whole.
            alternatives = sorted(_live, key=len, reverse=True)
            _pattern = re.compile("|".join(re.escape(a) for a in alternatives))
        return _pattern


class Secret:
    """A string that does not show itself.

    ``repr``, ``str``, ``format`` and the Jupyter HTML display give ``********``; pickling
    raises ``TypeError``; ``==`` compares in constant time (with a ``Secret`` or a ``str``).
    The value is registered for log redaction while the object is alive.

    Example:
        >>> token = Secret("abc123def456")
        >>> print(token)
        ********
        >>> token == "abc123def456"
        True
    """

    __slots__ = ("__weakref__", "_value")
    _value: str

    def __init__(self, value: str | Secret) -> None:
        if isinstance(value, Secret):
            value = value._value
        if not isinstance(value, str):
            raise TypeError(f"Secret wraps a str, not {type(value).__name__}")
        self._value = value
        if len(value) >= _MIN_REGISTERED_LENGTH:
            _register(value)
            weakref.finalize(self, _dead.append, value)

    @classmethod
    def wrap(cls, value: str | Secret | None) -> Secret | None:
        """``Secret(value)``, passing ``None`` through and reusing an existing Secret."""
        if value is None or isinstance(value, Secret):
            return value
        return cls(value)

    def reveal(self) -> str:
        """The wrapped value. Use it only where the value must be sent."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def _repr_html_(self) -> str:
        return f"<code>Secret('{MASK}')</code>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            other = other._value
        if not isinstance(other, str):
            return NotImplemented
        return hmac.compare_digest(self._value.encode("utf-8"), other.encode("utf-8"))

    def __hash__(self) -> int:
        return hash(self._value)

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled; store it on purpose with .reveal()")


# Key-based patterns: the key stays, the value becomes MASK.
_KEYS = r"access_token|refresh_token|id_token|client_secret|password|code_verifier|code|state"
_KEY_PATTERNS = [
    # Authorization: Bearer xxx / 'Authorization': 'Basic xxx'
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:bearer|basic|oauth)\s+)[^\s'\",}]+"),
    # form or query: access_token=xxx
    re.compile(rf"(?i)(?<![\w-])((?:{_KEYS})=)[^&\s'\",}}]+"),
    # JSON or dict repr: "access_token": "xxx" / 'password': 'xxx'
    re.compile(rf"(?i)(['\"](?:{_KEYS})['\"]\s*:\s*['\"])[^'\"]*"),
]


def redact(text: str) -> str:
    """``text`` with every registered secret and every credential-looking value masked.

    Example:
        >>> redact("grant_type=password&username=me&password=pw1")
        'grant_type=password&username=me&password=********'
    """
    if not text:
        return text
    pattern = _value_pattern()
    if pattern is not None:
        text = pattern.sub(MASK, text)
    for key_pattern in _KEY_PATTERNS:
        text = key_pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


def redact_data(value: Any) -> Any:
    """``value`` (JSON-like: dicts, lists, strings) with :func:`redact` applied to each string.

    Example:
        >>> redact_data({"request": "client_secret=abc&x=1", "n": [1, "password=pw"]})
        {'request': 'client_secret=********&x=1', 'n': [1, 'password=********']}
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_data(v) for v in value)
    return value


def _redact_record(record: logging.LogRecord) -> None:
    if getattr(record, "_dmtools_redacted", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep what we can show safely
        message = f"{record.msg!s} {record.args!r}"
    record.msg = redact(message)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record._dmtools_redacted = True


class RedactingFilter(logging.Filter):
    """A handler filter that redacts each record before it is formatted.

    Example:
        >>> handler = logging.StreamHandler()
        >>> handler.addFilter(RedactingFilter())
    """

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


_installed = False
_install_lock = threading.Lock()


def install_redaction() -> None:
    """Redact every log record from now on. Idempotent; dmtools calls it on import of auth.

    Installs a log-record factory (covers handlers added later, such as the ones
    ``logging.basicConfig(level=logging.DEBUG)`` creates), adds a :class:`RedactingFilter`
    to the handlers that exist now. dmtools sets no logger level: like any library it
    inherits the root logger's (WARNING unless the application chose another), so its
    INFO/DEBUG records appear only when asked for, and then redacted.

    Example:
        >>> install_redaction()
        >>> logging.basicConfig(level=logging.DEBUG)   # doctest: +SKIP
    """
    global _installed
    with _install_lock:
        if not _installed:
            previous = logging.getLogRecordFactory()

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                record = previous(*args, **kwargs)
                _redact_record(record)
                return record

            logging.setLogRecordFactory(factory)
            _installed = True
        loggers = [logging.getLogger()] + [
            logger
            for logger in logging.Logger.manager.loggerDict.values()
            if isinstance(logger, logging.Logger)
        ]
        for logger in loggers:
            for handler in logger.handlers:
                if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                    handler.addFilter(RedactingFilter())
