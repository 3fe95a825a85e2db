"""Render the channel report of the sandbox's default demo channel and save the README picture.

Usage::

    .venv/bin/python scripts/make_report_image.py [--videos 1500] [--seed 7] [--out docs/images]

Starts a sandbox with its default seeded data, logs in as the demo user, loads the channel
and writes ``channel_report.png`` (the overview figure) into ``--out``; with ``--html`` also
keeps the full HTML report and its chart PNGs there.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import dmtools as dm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    parser.add_argument("--html", action="store_true", help="also keep the HTML report")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with dm.Sandbox(videos=args.videos, seed=args.seed) as sb:
        c = sb.credentials
        client = dm.connect(
            "password",
            client_id=c.public_key.client_id,
            client_secret=c.public_key.client_secret,
            username=c.user.username,
            password=c.user.password,
            scope=["manage_videos"],
            endpoints=sb.endpoints,
        )
        df = dm.load_videos(client, progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "report.html"
        result = dm.report.channel_report(df, target)
        shutil.copy(result.overview_png, args.out / "channel_report.png")
        if args.html:
            shutil.copy(result.html, args.out / "channel_report.html")
    print(f"wrote {args.out / 'channel_report.png'}")


if __name__ == "__main__":
    main()
