"""Seeded fault injection for the sandbox: errors, resets, held and truncated responses.

:class:`FaultMiddleware` (``middleware.py``) wraps the sandbox's WSGI app, so faults, latency and
rate limiting apply to every route of every dialect; :class:`FaultController`
(``controller.py``) holds the configuration and the log of injected faults; ``rules.py``
validates rules and makes the seeded draws; ``ratelimit.py`` is the token bucket. Paths under ``/__sandbox__/`` (the admin API)
are never delayed, faulted or rate limited.

Every other request goes through three steps, in this order:

1. **latency**: wait ``latency`` seconds plus a uniform ``[-jitter, +jitter]`` (never below 0);
2. **rate limit** (when set): a token bucket (:class:`~dmtools.sandbox.faults.ratelimit.TokenBucket`);
   an empty bucket answers 429 ``rate_limit_exceeded`` with ``Retry-After`` (whole seconds,
   rounded up) and the app is not called;
3. **rules**, a list of dicts tried in order; the first rule that fires is applied.

Rule keys (unknown keys are refused, so a typo cannot silently disable a fault):

- all kinds: ``kind``; ``rate`` (probability per matching request, default 1.0, or 0.0 when
  ``at`` is given); ``at`` (list of 1-based positions among the requests the rule matches that
  always fault); ``methods`` (e.g. ``["POST"]``); ``path`` (a regex searched in ``PATH_INFO``;
  anchor it with ``^``); ``name`` (copied into the log).
- ``"status"``: answer ``status`` (default 503) with the API's error JSON (``type``
  ``rate_limit_exceeded`` for 429, ``server_error`` otherwise; ``type``, ``message`` and
  ``error_data`` override), or an HTML page with ``"html": true``, or a raw ``body`` (with
  ``content_type``, e.g. malformed JSON). ``retry_after`` (seconds) adds a ``Retry-After``
  header, as whole seconds rounded up, or as an HTTP-date with
  ``"retry_after_format": "http-date"``. ``"after_commit": false`` (default) answers
  without calling the app; ``true`` calls the app (the write happens) and discards its answer.
- ``"reset"``: TCP reset (SO_LINGER 0, then close). ``after_commit`` as above.
- ``"hold"``: call the app, then hold its response ``seconds`` (default 30) before sending it;
  :meth:`FaultController.clear` and :meth:`FaultController.close` end every hold at once.
- ``"truncate"``: call the app, then send 200 with the app's headers and full ``Content-Length``
  but only the first ``bytes`` bytes of the body (default: half of it), and end the output.

Determinism: a decision never depends on timing or thread scheduling. Rule *i* keeps a counter
of the requests it matches (method and path filters passed, not rate limited); for its *n*-th
matching request it fires when *n* is in ``at`` or when ``u(seed, i, n) < rate``, where ``u``
is a uniform number in [0, 1) taken from the BLAKE2b hash of ``(seed, i, n)``. Every matching
rule counts every matching request, even when an earlier rule fired, so the positions where a
rule fires depend only on the seed and on the rule's own request count; when several rules
fire on the same request the first one in the list wins (so a later rule faults a little
less often than its ``rate``: ``rate`` times the chance that no earlier rule fired). The latency jitter is drawn the
same way from ``(seed, k)`` for the *k*-th request. Concurrency can change which request
gets which position, never which positions fault. :meth:`FaultController.configure` resets
the counters.

Multi-call requests (the legacy ``POST /`` with a JSON array): the rules also apply to each
call the batch carries, by its own method and path (:mod:`dmtools.sandbox.faults.calls`).

Resets: the connection's socket (``environ["werkzeug.socket"]``) gets SO_LINGER 0 and a dead
stand-in is ``dup2``-ed onto its file descriptor, which closes the TCP connection with a RST
while the descriptor number stays owned by the handler (so no other connection can reuse it).
The middleware then raises :class:`ConnectionResetError`, which werkzeug's request handler
(and the sandbox's keep-alive handler) treat as a dropped connection: no traceback, and the
server keeps serving. Every fault is logged before it is applied, so a client that sees one
finds it in :meth:`FaultController.log`.

Example:
    >>> ctl = FaultController()
    >>> ctl.configure(seed=1, rules=[{"kind": "status", "status": 503, "rate": 0.05,
    ...                               "methods": ["POST"], "retry_after": 1}])
    >>> app = FaultMiddleware(inner_app, ctl)     # then serve ``app``
    >>> ctl.log()                                 # the faults injected so far
    []
"""

from __future__ import annotations

from dmtools.sandbox.faults.controller import ADMIN_PREFIX, FaultController
from dmtools.sandbox.faults.middleware import FaultMiddleware
from dmtools.sandbox.faults.rules import FAULT_KINDS

__all__ = ["ADMIN_PREFIX", "FAULT_KINDS", "FaultController", "FaultMiddleware"]
