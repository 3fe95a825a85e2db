"""Many videos per request: batched reads and multi-call writes, where the API has them.

What the API offers is the dialect's (:attr:`~dmtools.dialects.Dialect.batch_read_size`,
:attr:`~dmtools.dialects.Dialect.batch_call_size`); this module sends them for a client:

* :func:`read_records` reads many videos in as few requests as the dialect allows (legacy:
  ``GET /me/videos?ids=...``, 100 per request; elsewhere one ``GET`` per video);
* :func:`send_calls` sends up to :func:`call_batch_size` writes in one request (legacy:
  multi-call ``POST /``) and gives each call's outcome, a result or the exception a single
  call would have raised, so that one failed call is that call's failure only. A server that
  refuses multi-call (an error answer to the batch as a whole, an unknown route, an answer
  that is not a batch answer) gets single calls from then on: the refusal is remembered for
  the client's life (:func:`multicall_refused`).

A batch whose answer is lost (reset, timeout, 500/502/504 after sending) gives every one of
its calls that exception: each is as ambiguous as a single write whose answer was lost.

Example:
    >>> records = read_records(client, ["x8abc", "x8abd"], ["id", "title"])  # doctest: +SKIP
    >>> send_calls(client, [client.dialect.delete_call("x8abc")])           # doctest: +SKIP
    [{'id': 'x8abc'}]
"""

from __future__ import annotations

import json
import logging
import threading
import weakref
from collections.abc import Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from dmtools.errors import APIError, PermissionDenied, TransportError

if TYPE_CHECKING:
    from dmtools.client import Client
    from dmtools.dialects import Call
    from dmtools.dialects.base import BatchAnswer

__all__ = ["call_batch_size", "multicall_refused", "read_records", "send_calls"]

log = logging.getLogger("dmtools.batch")

#: Statuses of a whole-batch error answer that mean "no multi-call here" (nothing was
#: processed): bad request, forbidden for this kind of call, unknown route, method not
#: allowed, gone, not implemented.
REFUSAL_STATUSES = frozenset({400, 403, 404, 405, 410, 501})

_refused: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
_refused_lock = threading.Lock()

Outcome = Any  # a call's decoded answer, or the Exception it failed with


def multicall_refused(client: Client) -> bool:
    """True once the client's server refused a multi-call (single calls from then on)."""
    with _refused_lock:
        return _refused.get(client, False)


def _refuse(client: Client, why: str) -> None:
    with _refused_lock:
        first = not _refused.get(client, False)
        _refused[client] = True
    if first:
        log.warning("the server refused a multi-call request (%s); sending single calls", why)


def call_batch_size(client: Client) -> int:
    """Most calls :func:`send_calls` puts in one request for this client (1: single calls)."""
    size = client.dialect.batch_call_size
    return 1 if size <= 1 or multicall_refused(client) else size


def read_records(
    client: Client, video_ids: Sequence[str], names: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Canonical records (fields ``names``, ``id`` always in) of the videos found, by id.

    Ids absent from the result were not returned by a batched read (gone, or not visible
    through it; every id where the API has no batched read): read them with
    :func:`dmtools.videos.get_video` to know which.
    """
    dialect = client.dialect
    size = dialect.batch_read_size
    unique = list(dict.fromkeys(video_ids))
    if size <= 1 or len(unique) <= 1:  # one video: its own GET is as cheap, and sees it all
        return {}
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(unique), size):
        call = dialect.batch_read_call(unique[start : start + size], names)
        for record in dialect.read_batch(client.send(call), call):
            found[str(record.get("id"))] = record
    return {vid: found[vid] for vid in unique if vid in found}


def send_calls(client: Client, calls: Sequence[Call], *, retry: int = 0) -> list[Outcome]:
    """Each call's outcome (its answer, or the exception it failed with), in order.

    Up to the dialect's ``batch_call_size`` calls go in one request (more raise ValueError),
    or one request each once the server refused multi-call. A call of
    a batch answered 429 or 503 (not processed) is sent again as the transport would send a
    single call again: same retry budget, backoff and attempts (``retry``: attempts made).
    """
    if not calls:
        return []
    if len(calls) > max(1, client.dialect.batch_call_size):
        raise ValueError(f"at most {client.dialect.batch_call_size} calls per request")
    if len(calls) > 1 and not multicall_refused(client):
        outcomes = _multi(client, calls)
        if outcomes is not None:
            return _again(client, calls, outcomes, retry)
    return [_single(client, call) for call in calls]  # one request each


def _again(
    client: Client, calls: Sequence[Call], outcomes: list[Outcome], retry: int
) -> list[Outcome]:
    """``outcomes``, with the calls answered 429/503 inside the batch sent again after the
    transport's pause (its retry decisions: :meth:`dmtools._retrier.Retrier.after_error`)."""
    retrier = client.transport.retrier
    redo: list[int] = []
    delay = 0.0
    for index, (call, outcome) in enumerate(zip(calls, outcomes, strict=True)):
        if isinstance(outcome, APIError) and outcome.status in (429, 503):
            try:
                wait = retrier.after_error(
                    outcome, getattr(outcome, "retry_after", None), call.op, retry
                )
            except APIError:
                continue  # not retried: that call's outcome
            delay, redo = max(delay, wait), [*redo, index]
    if not redo:
        return outcomes
    retrier.pause("POST", "/", f"{len(redo)} calls answered 429/503", retry, delay)
    again = send_calls(client, [calls[i] for i in redo], retry=retry + 1)
    for index, outcome in zip(redo, again, strict=True):
        outcomes[index] = outcome
    return outcomes


def _single(client: Client, call: Call) -> Outcome:
    try:
        return client.send(call)
    except Exception as exc:
        return exc


def _multi(client: Client, calls: Sequence[Call]) -> list[Outcome] | None:
    """The outcomes of one multi-call request; None when the server refused it (nothing
    was processed: send single calls)."""
    dialect = client.dialect
    try:
        answer = client.send(dialect.batch_call(calls))
    except APIError as exc:
        if exc.status in REFUSAL_STATUSES and not _missing_scope(exc):
            _refuse(client, str(exc))
            return None
        return [exc] * len(calls)
    except Exception as exc:  # lost answer, network down: every call shares its fate
        return [exc] * len(calls)
    answers = dialect.read_batch_answers(answer, calls)
    if answers is None:
        # a 2xx that is not a batch answer: the calls may have run; read them back
        _refuse(client, "its answer is not a multi-call answer")
        lost = TransportError(
            "the server's answer to a multi-call request could not be read as one answer per "
            "call; the outcome of each call is unknown",
            method="POST",
            path="/",
            sent=True,
        )
        return [lost] * len(calls)
    # the transport refunded the retry budget once, for the request: each further call that
    # succeeded refunds it too, as its own request would have (retries are per call)
    budget = client.transport.budget
    for _ in range(sum(1 for one in answers if one.ok) - 1):
        budget.success()
    return [_outcome(client, call, one) for call, one in zip(calls, answers, strict=True)]


def _missing_scope(exc: APIError) -> bool:
    return isinstance(exc, PermissionDenied) and exc.missing_scope is not None


def _outcome(client: Client, call: Call, answer: BatchAnswer) -> Outcome:
    """A call's result, or the APIError a single call with this error answer would raise."""
    from dmtools._answers import error_from_response
    from dmtools._http import _redacted

    if answer.ok:
        return answer.result
    response = SimpleNamespace(
        status_code=answer.status,
        headers={},
        content=json.dumps({"error": answer.error}).encode(),
        request=SimpleNamespace(method=call.method, url=call.path),
    )
    error = error_from_response(response, read_body=client.dialect.read_error)
    assert error is not None  # its status is 400 or more
    return _redacted(error)
