"""Secret canaries: the secrets a sandbox knows, every spelling of them, debug logging.

Shared by the scans of ``tests/auth/test_auth_canary.py`` and ``tests/security/`` (the
:class:`Scan` of every artefact, on both API dialects).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import traceback
import types
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from _support import TESTS as TESTS_DIR
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


TESTS = str(TESTS_DIR)
# -- what is scanned ------------------------------------------------------------------------

#: Frames known to keep a plain secret in a local variable, shown by tracebacks with locals:
#: ``dm.connect`` (its ``client_secret``, ``password`` and ``**kwargs`` arguments) and
#: ``Transport.send`` (the access token in ``token``). The scans below skip them;
#: ``test_connect_and_transport_frames_hold_no_plain_secret`` pins them until they are fixed.
KNOWN_LEAKY_FRAMES = frozenset({("dmtools/_connect.py", "connect"), ("dmtools/_http.py", "send")})


def _hidden(filename: str, function: str, known: bool) -> bool:
    if filename.startswith(TESTS):
        return True  # the tests hold the secrets on purpose
    return known and any(
        filename.endswith(f) and function == name for f, name in KNOWN_LEAKY_FRAMES
    )


def error_texts(exc: BaseException, *, skip_known: bool = True) -> list[str]:
    """str, repr, the formatted traceback, and the locals of every non-test frame (of the
    error and the errors it was raised from)."""
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    summary: traceback.TracebackException | None = traceback.TracebackException.from_exception(
        exc, capture_locals=True
    )
    while summary is not None:
        for frame in summary.stack:
            if not _hidden(frame.filename, frame.name, skip_known):
                texts.extend(
                    f"{frame.filename}:{name}={value}"
                    for name, value in (frame.locals or {}).items()
                )
        hidden = summary.__suppress_context__
        summary = summary.__cause__ or (None if hidden else summary.__context__)
    return texts


def ipython_traceback(exc: BaseException, *, skip_known: bool = True) -> str:
    """IPython's verbose traceback (arguments and variables of each frame) of the frames
    outside the tests."""
    from IPython.core.ultratb import VerboseTB

    kept = []
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if not _hidden(code.co_filename, code.co_name, skip_known):
            kept.append(tb)
        tb = tb.tb_next
    rebuilt = None
    for item in reversed(kept):
        rebuilt = types.TracebackType(rebuilt, item.tb_frame, item.tb_lasti, item.tb_lineno)
    return VerboseTB(theme_name="nocolor", include_vars=True).text(type(exc), exc, rebuilt)


class Scan:
    """Artefacts to search: texts, bytes, files."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str | bytes]] = []

    def text(self, label: str, value: str | bytes) -> None:
        self.items.append((label, value))

    def error(self, exc: BaseException) -> None:
        label = f"error {type(exc).__name__}"
        self.items.extend((label, text) for text in error_texts(exc))
        self.items.append((label + " (IPython)", ipython_traceback(exc)))

    def display(self, label: str, obj: Any) -> None:
        self.items.append((f"repr {label}", repr(obj)))
        self.items.append((f"str {label}", str(obj)))
        html = getattr(obj, "_repr_html_", None)
        if callable(html):
            self.items.append((f"html {label}", str(html())))

    def file(self, path: Path) -> None:
        data = path.read_bytes()
        self.items.append((f"file {path.name}", data))
        if zipfile.is_zipfile(path):  # .xlsx: the XML members are compressed
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    self.items.append((f"file {path.name}:{member}", archive.read(member)))
        if path.suffix == ".parquet":  # pages may be compressed
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            self.items.append(
                (f"file {path.name} (rows)", json.dumps(table.to_pylist(), default=str))
            )
            self.items.append((f"file {path.name} (meta)", str(table.schema.metadata)))

    def tree(self, root: Path) -> int:
        files = sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            self.file(path)
        return len(files)

    def hits(self, found: dict[str, str]) -> list[str]:
        result = set()
        for label, value in self.items:
            for needle, name in found.items():
                if isinstance(value, bytes):
                    if needle.encode() in value:
                        result.add(f"{name} in {label}")
                elif needle in value:
                    at = value.index(needle)
                    result.add(f"{name} in {label}: ...{value[max(0, at - 60) : at]!r}")
        return sorted(result)


def scan_outputs(scan: Scan, logs: str, out: str, err: str, caught: list[Any]) -> None:
    """Add what a run printed and logged, and its warnings, to ``scan``."""
    scan.text("logs", logs)
    scan.text("stdout", out)
    scan.text("stderr", err)
    for warning in caught:
        scan.text("warning", str(warning.message))
