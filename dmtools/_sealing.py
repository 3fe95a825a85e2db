"""Errors that keep nothing of what they were raised from: :func:`seal_chain`, :class:`sealing`.

Python keeps the exception being handled in ``__context__`` of any exception raised meanwhile,
even with ``raise ... from None`` (which only hides it from tracebacks). A ``requests``
exception keeps the request, with its ``Authorization`` header and its form body (a password,
a client secret, a code); a ``JSONDecodeError`` keeps the document it failed on (a token
response). So every error leaving the transport, the token endpoint or the code exchange has
its chain cut at the first exception that is not a dmtools error.
"""

from __future__ import annotations

import contextlib

from dmtools.errors import DailymotionError

__all__ = ["seal_chain", "sealing"]


def seal_chain(error: BaseException) -> BaseException:
    """Cut ``error``'s ``__cause__``/``__context__`` chain at every link that is not a dmtools
    error (and do the same down the dmtools links that are kept). Returns ``error``.

    A foreign exception may hold a secret: ``requests`` exceptions keep the request (bearer
    header, form body with a password or client secret), ``JSONDecodeError`` the document.
    """
    pending, seen = [error], set()
    while pending:
        link = pending.pop()
        if id(link) in seen:
            continue
        seen.add(id(link))
        if link.__cause__ is not None and not isinstance(link.__cause__, DailymotionError):
            link.__cause__ = None
        if link.__context__ is not None and not isinstance(link.__context__, DailymotionError):
            link.__context__ = None
        pending += [e for e in (link.__cause__, link.__context__) if e is not None]
    return error


class sealing(contextlib.ContextDecorator):
    """Seal (:func:`seal_chain`) every dmtools error leaving a block or a decorated function.

    The error is re-raised as it is. Used on the boundaries where foreign exceptions meet
    dmtools errors: the transport, the token endpoint, the code exchange. As a decorator the
    wrapper's frame keeps the call's arguments: inside a function that deletes a plain secret
    argument, use ``with sealing():`` after the ``del`` instead.

    Example:
        >>> with sealing():                                   # doctest: +SKIP
        ...     token = endpoint.request("password", ...)
    """

    def __enter__(self) -> sealing:
        return self

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        if isinstance(error, DailymotionError):
            seal_chain(error)
