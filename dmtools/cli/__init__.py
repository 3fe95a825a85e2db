"""The ``dmtools`` command.

Example:
    $ dmtools demo
    $ dmtools sandbox --videos 200 --json
    $ dmtools login --grant client_credentials && dmtools export videos.csv
    $ dmtools login --api v2 && dmtools export videos.csv --profile all
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dmtools.cli import account, analytics, data, deletes, demo, edits, history, lab
from dmtools.cli._common import EXIT_CODES_HELP, setup_output

app = typer.Typer(
    help="The Dailymotion Platform API from Jupyter and pandas.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    epilog=EXIT_CODES_HELP
    + """\b
Credentials come from `dmtools login` (saved session) or the environment:
DMTOOLS_CLIENT_ID, DMTOOLS_CLIENT_SECRET, DMTOOLS_USERNAME, DMTOOLS_PASSWORD,
DMTOOLS_GRANT, DMTOOLS_SANDBOX_URL, DMTOOLS_API (legacy or v2: `dmtools login --api v2`
logs a private key in to API v2, no browser); DMTOOLS_CONFIG_DIR and DMTOOLS_TOKEN_STORE
say where the session is kept. Secrets are never command-line options.
\b
Start with:  dmtools demo
""",
)


def _version(value: bool) -> None:
    if value:
        from dmtools import __version__

        typer.echo(f"dmtools {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose", "-v", count=True, help="More log messages on stderr (-vv for debug)."
        ),
    ] = 0,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """dmtools command-line interface."""
    setup_output(verbose)


@app.command(
    epilog="""\b
Examples:
  dmtools sandbox
  dmtools sandbox --videos 5000 --port 8123 --db sandbox.sqlite
  dmtools sandbox --json        # one JSON line with the URL and the demo credentials
"""
)
def sandbox(
    port: int = typer.Option(0, help="TCP port on 127.0.0.1 (0: an ephemeral port)."),
    videos: int = typer.Option(1500, help="Videos in the demo user's channel."),
    seed: int = typer.Option(7, help="Seed of the demo data and keys."),
    archive_videos: int = typer.Option(
        None,
        help="Videos in the organisation's archive channel, a profile of the private key "
        "(default: 4/5 of --videos, at most 1,200: past the 1,000-results ceiling of one "
        "list query with the default --videos).",
        show_default=False,
    ),
    db: str = typer.Option(None, help="SQLite file keeping state across restarts."),
    latency: float = typer.Option(0.0, help="Latency added to every API request, seconds."),
    token_lifetime: int = typer.Option(36000, help="Access token lifetime, seconds."),
    json_line: bool = typer.Option(False, "--json", help="Print one JSON line once ready."),
) -> None:
    """Run a local sandbox of the Dailymotion API until Ctrl-C."""
    from dmtools.sandbox import Settings
    from dmtools.sandbox.__main__ import banner, ready_line
    from dmtools.sandbox.sandbox import Credentials, serve

    def ready(server: Any, credentials: Credentials) -> None:
        typer.echo(ready_line(server, credentials) if json_line else banner(server, credentials))

    serve(
        videos=videos,
        seed=seed,
        port=port,
        host="127.0.0.1",
        db_path=db,
        settings=Settings(token_lifetime=token_lifetime),
        latency=latency,
        ready=ready,
        archive_videos=archive_videos,
    )


for _module in (account, data, analytics, edits, deletes, demo, lab, history):
    _module.register(app)


def main() -> None:
    """Entry point of the ``dmtools`` script."""
    app()


if __name__ == "__main__":
    main()
