"""The ``dmtools`` command.

Example:
    $ dmtools sandbox --videos 200 --json
"""

from __future__ import annotations

from typing import Any

import typer

app = typer.Typer(help="The Dailymotion Platform API from Jupyter and pandas.",
                  no_args_is_help=True, add_completion=False)


@app.callback()
def _root() -> None:
    """dmtools command-line interface."""


@app.command()
def sandbox(
    port: int = typer.Option(0, help="TCP port on 127.0.0.1 (0: an ephemeral port)."),
    videos: int = typer.Option(1500, help="Videos in the demo user's channel."),
    seed: int = typer.Option(7, help="Seed of the demo data and keys."),
    db: str = typer.Option(None, help="SQLite file keeping state across restarts."),
    latency: float = typer.Option(0.0, help="Latency added to every API request, seconds."),
    token_lifetime: int = typer.Option(36000, help="Access token lifetime, seconds."),
    json_line: bool = typer.Option(False, "--json", help="Print one JSON line once ready."),
) -> None:
    """Run a local sandbox of the Dailymotion API until Ctrl-C."""
    from dmtools.sandbox.__main__ import banner, ready_line
    from dmtools.sandbox.sandbox import Credentials, serve
    from dmtools.sandbox.store import Settings

    def ready(server: Any, credentials: Credentials) -> None:
        typer.echo(ready_line(server, credentials) if json_line else banner(server, credentials))

    serve(videos=videos, seed=seed, port=port, host="127.0.0.1", db_path=db,
          settings=Settings(token_lifetime=token_lifetime), latency=latency, ready=ready)


def main() -> None:
    """Entry point of the ``dmtools`` script."""
    app()


if __name__ == "__main__":
    main()
