"""What every command shares: exit codes, error reporting, output helpers, logging."""

from __future__ import annotations

import functools
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from dmtools._problems import problem_lines
from dmtools.errors import (
    APIError,
    AuthenticationError,
    DailymotionError,
    InputError,
    InsecureTransportError,
    PermissionDenied,
    TransportError,
)

__all__ = [
    "EXIT_API",
    "EXIT_AUTH",
    "EXIT_CODES_HELP",
    "EXIT_INPUT",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "JournalOption",
    "ProgressOption",
    "ResultOption",
    "WorkersOption",
    "exit_code_for",
    "fail",
    "guarded",
    "info",
    "out",
    "setup_output",
]

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INPUT = 2
EXIT_AUTH = 3
EXIT_API = 4
EXIT_PARTIAL = 5
EXIT_INTERRUPTED = 130

#: The exit code table, shown at the end of ``dmtools --help``.
EXIT_CODES_HELP = """\b
Exit codes (the stderr line starting with "error:" says why):
  0    done
  1    unexpected error (a bug: set DMTOOLS_DEBUG=1 for the traceback)
  2    bad input: options, files, plan or journal; nothing was sent
  3    login needed, refused, expired or missing a scope
  4    the API answered with an error or could not be reached
  5    finished, but some operations conflicted, failed or were not attempted
       (see the result file; running the same command again resumes the job)
  130  interrupted (Ctrl-C); a journaled job resumes where it stopped
"""

F = TypeVar("F", bound=Callable[..., Any])

# Options shared by several commands.
ProgressOption = Annotated[
    bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr.")
]
WorkersOption = Annotated[int, typer.Option(help="Requests in flight at once.")]
#: Bulk jobs: None lets the engine choose (32 requests in flight with batches, else 4).
JobWorkersOption = Annotated[
    int | None,
    typer.Option(
        help="Requests in flight at once. Default: 32 when the API takes batches, else 4.",
        show_default=False,
    ),
]
ResultOption = Annotated[
    Path | None, typer.Option("--result", help="Result file (.csv or .json), one row per video.")
]
JournalOption = Annotated[
    Path | None, typer.Option(help="Journal file of the job (an existing one is resumed).")
]


def out(text: str = "") -> None:
    """A line of results (stdout)."""
    typer.echo(text)


def info(text: str = "") -> None:
    """A line of progress or advice (stderr), kept out of piped results."""
    typer.echo(text, err=True)


def fail(message: str, code: int = EXIT_INPUT) -> typer.Exit:
    """Print ``error: message`` on stderr and return the Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def exit_code_for(exc: BaseException) -> int:
    """The exit code of an error (see :data:`EXIT_CODES_HELP`)."""
    from dmtools.auth import TokenStoreError

    if isinstance(exc, InputError | InsecureTransportError):
        return EXIT_INPUT
    if isinstance(exc, AuthenticationError | TokenStoreError | PermissionDenied):
        return EXIT_AUTH
    if isinstance(exc, APIError | TransportError):
        return EXIT_API
    if isinstance(exc, OSError):
        return EXIT_INPUT
    if isinstance(exc, DailymotionError):
        return EXIT_API
    return EXIT_INTERNAL


def _reason(exc: BaseException) -> str:
    """The one-line reason of an error, with a hint where one helps."""
    if isinstance(exc, InputError):
        text = exc.message
    elif isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    else:
        text = str(exc).strip() or type(exc).__name__
    text = " ".join(text.split())
    if isinstance(exc, PermissionDenied) and exc.missing_scope:
        text += (
            f" (the session lacks the {exc.missing_scope!r} scope: run `dmtools login "
            "--access delete` or `--scope ...` again)"
        )
    elif isinstance(exc, AuthenticationError) and "dmtools login" not in text:
        text += " (run `dmtools login` again)"
    return text


def report_error(exc: BaseException) -> int:
    """Print an error the way every command does and return its exit code."""
    code = exit_code_for(exc)
    if code == EXIT_INTERNAL:
        typer.echo(f"error: unexpected {type(exc).__name__}: {_reason(exc)}", err=True)
        if os.environ.get("DMTOOLS_DEBUG") == "1":
            typer.echo("".join(traceback.format_exception(exc)), err=True)
        else:
            typer.echo("set DMTOOLS_DEBUG=1 to see the traceback", err=True)
        return code
    typer.echo(f"error: {_reason(exc)}", err=True)
    problems = getattr(exc, "problems", None) or []
    for line in problem_lines(problems):
        typer.echo(line, err=True)
    if len(problems) > 20:
        try:
            from dmtools.cli._runs import problems_file

            typer.echo(f"  every problem: {problems_file(problems)}", err=True)
        except OSError as failure:  # a read-only folder must not hide the error itself
            typer.echo(f"  (could not write the list of problems: {failure})", err=True)
    return code


def guarded(func: F) -> F:
    """Run a command body, turning expected errors into a message and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            typer.echo(
                "\nerror: interrupted (a job with a journal resumes when the same "
                "command runs again)",
                err=True,
            )
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as exc:
            raise typer.Exit(report_error(exc)) from None

    return wrapper  # type: ignore[return-value]


class _StderrHandler(logging.Handler):
    """Log records as ``level (logger): message`` on the current ``sys.stderr`` (a command's
    own reason for failing is the only line starting with ``error:``)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(f"{record.levelname.lower()} ({record.name}): {record.getMessage()}\n")
        except Exception:  # pragma: no cover - a closed stream must not break a command
            self.handleError(record)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    sys.stderr.write(f"warning: {message}\n")


def setup_output(verbose: int) -> None:
    """Send dmtools' log records and warnings to stderr as one-line messages."""
    import dmtools.auth  # noqa: F401  (installs log redaction)

    logger = logging.getLogger("dmtools")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        logger.addHandler(_StderrHandler())
    logger.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    warnings.showwarning = _show_warning
