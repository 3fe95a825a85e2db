"""``python -m dmtools.sandbox``: run a sandbox in the foreground until Ctrl-C / SIGTERM.

With ``--json`` one line is printed once the server is ready::

    {"url", "public_key": {...}, "private_key": {... "profiles"}, "user": {...}, "admin_token"}
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from dmtools.sandbox.sandbox import Credentials, serve
from dmtools.sandbox.state.settings import Settings


def ready_line(server: Any, credentials: Credentials) -> str:
    return json.dumps({**credentials.to_json(), "admin_token": server.admin_token})


def banner(server: Any, credentials: Credentials) -> str:
    c = credentials
    return "\n".join(
        [
            f"Dailymotion API sandbox running at {c.url}",
            f"  public key   client_id={c.public_key.client_id}",
            f"               client_secret={c.public_key.client_secret}",
            f"               redirect_uri={c.public_key.redirect_uri} (any loopback port)",
            f"  private key  client_id={c.private_key.client_id}",
            f"               client_secret={c.private_key.client_secret}",
            f"               channels (API v2 profiles)={', '.join(c.private_key.channels)}",
            f"  demo user    {c.user.username} / {c.user.password} (id {c.user.id})",
            f"  reporting    GraphQL {c.reporting.graphql_url} (private key),"
            f" {c.reporting.public_graphql_url} (public key)",
            f"  API v2       {c.endpoints.v2_api_url} (token: {c.endpoints.v2_token_url}, "
            "private key, client_credentials)",
            f"  admin API    {c.url}/__sandbox__/ with header X-Sandbox-Admin: {server.admin_token}",
            "Press Ctrl-C to stop.",
        ]
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m dmtools.sandbox", description="Run a local Dailymotion API sandbox."
    )
    p.add_argument("--port", type=int, default=0, help="TCP port (default: an ephemeral one)")
    p.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    p.add_argument("--videos", type=int, default=1500, help="videos in the demo channel")
    p.add_argument("--seed", type=int, default=7, help="seed of the demo data")
    p.add_argument(
        "--archive-videos",
        type=int,
        default=None,
        help="videos in the organisation's archive channel (default: 4/5 of --videos, "
        "at most 1,200)",
    )
    p.add_argument("--db", default=None, help="SQLite file keeping state across restarts")
    p.add_argument("--latency", type=float, default=0.0, help="added latency, seconds")
    p.add_argument("--token-lifetime", type=int, default=36000, help="access token lifetime, s")
    p.add_argument(
        "--v2-token-lifetime",
        type=int,
        default=Settings.v2_token_lifetime,
        help="API v2 access token lifetime, s",
    )
    p.add_argument("--rotate-refresh-tokens", action="store_true")
    p.add_argument("--pkce-required", action="store_true")
    p.add_argument("--json", action="store_true", help="print one JSON line once ready")
    p.add_argument(
        "--exit-on-stdin-eof",
        action="store_true",
        help="also stop when standard input is closed (for parent processes)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        print("the sandbox only binds loopback addresses", file=sys.stderr)
        return 2
    settings = Settings(
        token_lifetime=args.token_lifetime,
        v2_token_lifetime=args.v2_token_lifetime,
        rotate_refresh_tokens=args.rotate_refresh_tokens,
        pkce_required=args.pkce_required,
    )

    def ready(server: Any, credentials: Credentials) -> None:
        print(
            ready_line(server, credentials) if args.json else banner(server, credentials),
            flush=True,
        )

    serve(
        videos=args.videos,
        seed=args.seed,
        port=args.port,
        host=args.host,
        db_path=args.db,
        settings=settings,
        latency=args.latency,
        ready=ready,
        watch_stdin=args.exit_on_stdin_eof,
        archive_videos=args.archive_videos,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
