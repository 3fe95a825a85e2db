"""Secret masking and log redaction (S-14 mechanisms)."""

from __future__ import annotations

import copy
import gc
import io
import json
import logging
import pickle
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from urllib.parse import quote_plus

import pytest
import requests

from dmtools.secrets import MASK, RedactingFilter, Secret, install_redaction, redact

CANARY = "CANARY-s3cr3t/+value=42"


@pytest.fixture
def debug_capture() -> Iterator[io.StringIO]:
    """A handler on the root logger (added after redaction was installed) at DEBUG."""
    install_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    names = ["requests_oauthlib", "oauthlib", "urllib3", "dmtools"]
    loggers = [root] + [logging.getLogger(n) for n in names]
    saved = [(logger.level, logger) for logger in loggers]
    root.addHandler(handler)
    for _, logger in saved:
        logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for level, logger in saved:
            logger.setLevel(level)


def test_secret_is_masked_in_every_rendering() -> None:
    secret = Secret(CANARY)
    renderings = [
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret:>40}",
        f"{secret!r}",
        "%s %r" % (secret, secret),  # noqa: UP031 - the %-operator is what logging uses
        secret._repr_html_(),
        repr([secret]),
        repr({"k": secret}),
    ]
    assert all(CANARY not in text for text in renderings)
    assert str(secret) == MASK and repr(secret) == f"Secret('{MASK}')"
    assert secret.reveal() == CANARY


def test_secret_refuses_pickling_and_copies_are_the_same_object() -> None:
    secret = Secret(CANARY)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(secret)
    assert copy.copy(secret) is secret and copy.deepcopy({"s": secret})["s"] is secret


def test_secret_equality_with_secrets_and_strings() -> None:
    assert Secret(CANARY) == Secret(CANARY)
    assert Secret(CANARY) == CANARY
    assert Secret(CANARY) != Secret(CANARY + "x")
    assert Secret(CANARY) != 42
    assert hash(Secret(CANARY)) == hash(Secret(CANARY))
    assert Secret(Secret(CANARY)).reveal() == CANARY
    assert not Secret("") and Secret("x")
    assert Secret.wrap(None) is None
    with pytest.raises(TypeError):
        Secret(b"bytes")  # type: ignore[arg-type]


def test_redact_masks_live_secret_values_in_raw_url_and_json_forms() -> None:
    secret = Secret(CANARY)
    text = f"a {CANARY} b {quote_plus(CANARY)} c {json.dumps(CANARY)}"
    assert CANARY not in redact(text)
    assert quote_plus(CANARY) not in redact(text)
    assert secret.reveal() == CANARY


def test_values_are_forgotten_once_no_secret_holds_them() -> None:
    value = "short-lived-value-123"
    secret = Secret(value)
    assert value not in redact(value)
    del secret
    gc.collect()
    assert redact(value) == value


@pytest.mark.parametrize(
    "text, hidden",
    [
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("{'Authorization': 'Bearer tok123', 'Accept': '*/*'}", "tok123"),
        ("Authorization: Basic Y2xpZW50OnNlY3JldA==", "Y2xpZW50OnNlY3JldA=="),
        ("GET /video?access_token=tok456&fields=id", "tok456"),
        ("grant_type=refresh_token&refresh_token=rt789&client_id=k", "rt789"),
        ("client_secret=cs000&password=pw111", "cs000"),
        ("client_secret=cs000&password=pw111", "pw111"),
        ("code=auth-code-1&code_verifier=verif-2", "auth-code-1"),
        ("code=auth-code-1&code_verifier=verif-2", "verif-2"),
        ('{"access_token": "tok-json", "expires_in": 3600}', "tok-json"),
        ("{'refresh_token': 'rt-dict', 'scope': 'a b'}", "rt-dict"),
        ("callback?state=st4t3&code=c0d3", "st4t3"),
    ],
)
def test_redact_masks_credentials_by_key(text: str, hidden: str) -> None:
    assert hidden not in redact(text)
    assert MASK in redact(text)


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "GET /video/x1?fields=id,title status_code=200 error_code=7 took 12 ms"
    assert redact(text) == text


def test_third_party_debug_logs_are_redacted_on_handlers(debug_capture: io.StringIO) -> None:
    from requests_oauthlib import OAuth2Session

    access, refresh = Secret("ACCESS-canary-1234"), Secret("REFRESH-canary-5678")
    session = OAuth2Session(
        "client",
        token={
            "access_token": access.reveal(),
            "token_type": "Bearer",
            "refresh_token": refresh.reveal(),
        },
    )
    with pytest.raises(requests.ConnectionError):  # nothing listens on port 9
        session.get("https://127.0.0.1:9/me", timeout=0.5)
    logging.getLogger("urllib3.connectionpool").debug(
        "POST /oauth/token body=%s", f"password=hunter2&client_secret={CANARY}"
    )
    logging.getLogger("oauthlib.oauth2.rfc6749").debug(
        "token %r", {"refresh_token": "unregistered"}
    )
    output = debug_capture.getvalue()
    assert "Adding token" in output  # requests_oauthlib did log the token dict
    for leaked in ("ACCESS-canary-1234", "REFRESH-canary-5678", "hunter2", CANARY, "unregistered"):
        assert leaked not in output


def test_exceptions_in_log_records_are_redacted(debug_capture: io.StringIO) -> None:
    secret = Secret("EXC-canary-0001")
    try:
        raise RuntimeError(f"boom with {secret.reveal()}")
    except RuntimeError:
        logging.getLogger("dmtools.test").exception("failed")
    assert "boom with" in debug_capture.getvalue()
    assert "EXC-canary-0001" not in debug_capture.getvalue()


def test_redacting_filter_on_a_handler_covers_records_from_child_loggers() -> None:
    secret = Secret("CHILD-canary-0002")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    parent = logging.getLogger("redaction-test-parent")
    parent.addHandler(handler)
    parent.setLevel(logging.DEBUG)
    try:
        record = logging.LogRecord(
            "redaction-test-parent.child",
            logging.DEBUG,
            __file__,
            1,
            "token=%s",
            (secret.reveal(),),
            None,
        )
        parent.handle(record)  # bypasses the record factory: only the handler filter acts
    finally:
        parent.removeHandler(handler)
    assert "CHILD-canary-0002" not in stream.getvalue() and MASK in stream.getvalue()


def test_traceback_locals_show_secrets_masked() -> None:
    def failing(secret: Secret) -> None:
        raise ValueError("failed")

    value = "-".join(["LOCALS", "canary", "0003"])  # not spelled out in the source lines shown
    try:
        failing(Secret(value))
    except ValueError as exc:
        inner = exc.__traceback__.tb_next if exc.__traceback__ else None  # the frame of failing()
        text = "".join(
            traceback.TracebackException(type(exc), exc, inner, capture_locals=True).format()
        )
    assert value not in text and f"secret = Secret('{MASK}')" in text


def test_dmtools_logs_at_warning_by_default_and_sets_no_level_of_its_own() -> None:
    code = (
        "import logging, dmtools.auth; d = logging.getLogger('dmtools'); "
        "print(d.getEffectiveLevel(), d.level)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(logging.WARNING), str(logging.NOTSET)]


def test_a_secret_collected_while_the_registry_is_busy_does_not_deadlock() -> None:
    import dmtools.secrets as registry

    value = "collected-while-busy-123"
    done = threading.Event()

    def collect_inside_the_lock() -> None:
        secret = Secret(value)
        with registry._locked():
            del secret
            gc.collect()  # runs the finalizer inside the locked section
            logging.getLogger("dmtools.test").warning("logged from inside the lock")
        done.set()

    worker = threading.Thread(target=collect_inside_the_lock, daemon=True)
    worker.start()
    assert done.wait(5), "the registry deadlocked"
    assert redact(value) == value
