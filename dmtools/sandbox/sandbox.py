"""The :class:`Sandbox` object: start, control and stop a local emulator of the API.

Thread mode runs the server inside this process; process mode runs
``python -m dmtools.sandbox --json`` in a child process (so client and server don't share a
GIL). Both are controlled the same way, through the admin HTTP API.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dmtools.config import Endpoints, is_loopback_url
from dmtools.sandbox.controls import ReportControls
from dmtools.sandbox.credentials import Credentials, DemoUser, PrivateKey, PublicKey
from dmtools.sandbox.state.settings import Settings

__all__ = ["Credentials", "DemoUser", "PrivateKey", "PublicKey", "Sandbox", "serve"]

log = logging.getLogger("dmtools.sandbox")
ADMIN_HEADER = "X-Sandbox-Admin"


class Sandbox(ReportControls):
    """A local emulator of the Dailymotion API (legacy Platform API, API v2 and the Reporting
    API) on ``127.0.0.1``.

    The Reporting API controls (clock, report faults, URLs) come from
    :class:`~dmtools.sandbox.controls.ReportControls`.

    Args:
        videos: videos in the demo user's channel.
        seed: seed of the demo data (same seed, same data and keys).
        port: TCP port (0: an ephemeral port).
        db_path: SQLite file keeping state across restarts (None: in memory).
        token_lifetime: ``expires_in`` of access tokens, seconds.
        latency: added to every API request, seconds.
        mode: ``"thread"`` (server in this process) or ``"process"`` (a child process).
        rotate_refresh_tokens: refresh tokens work once; reuse revokes the session.
        pkce_required: the consent page requires an S256 ``code_challenge``.
        host: address to bind; only loopback unless ``allow_non_loopback`` is set.
        archive_videos: videos in the organisation's archive channel, the private key's
            third profile (None: 4/5 of ``videos``, at most 1,200: the default sandbox's
            archive is past the 1,000-results ceiling of one list query).

    Example:
        >>> with Sandbox(videos=100, seed=7) as sb:
        ...     sb.url.startswith("http://127.0.0.1:")
        True
    """

    def __init__(
        self,
        videos: int = 1500,
        seed: int = 7,
        port: int = 0,
        db_path: str | os.PathLike[str] | None = None,
        token_lifetime: int = 36000,
        latency: float = 0.0,
        mode: str = "thread",
        rotate_refresh_tokens: bool = False,
        pkce_required: bool = False,
        *,
        host: str = "127.0.0.1",
        allow_non_loopback: bool = False,
        startup_timeout: float = 20.0,
        archive_videos: int | None = None,
    ) -> None:
        if mode not in ("thread", "process"):
            raise ValueError("mode must be 'thread' or 'process'")
        if not is_loopback_url(f"http://{host if ':' not in host else f'[{host}]'}/"):
            if not allow_non_loopback:
                raise ValueError(
                    f"refusing to bind {host!r}: the sandbox binds loopback only "
                    "(pass allow_non_loopback=True to override)"
                )
            log.warning("the sandbox is binding %s: it is reachable from other machines", host)
        self.videos, self.seed, self.port, self.host = videos, seed, port, host
        self.db_path = os.fspath(db_path) if db_path is not None else None
        self.token_lifetime, self.latency, self.mode = token_lifetime, latency, mode
        self.rotate_refresh_tokens, self.pkce_required = rotate_refresh_tokens, pkce_required
        self.startup_timeout = startup_timeout
        self.archive_videos = archive_videos
        self.url = ""
        self.admin_token = ""
        self._server: Any = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._credentials: Credentials | None = None
        self._conn: http.client.HTTPConnection | None = None
        self._conn_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> Sandbox:
        if self.url:
            return self
        if self.mode == "thread":
            from dmtools.sandbox.server import SandboxServer

            self._server = SandboxServer(
                videos=self.videos,
                seed=self.seed,
                archive_videos=self.archive_videos,
                port=self.port,
                host=self.host,
                db_path=self.db_path,
                latency=self.latency,
                settings=self._settings(),
            )
            self._server.start()
            self.url, self.admin_token = self._server.url, self._server.admin_token
        else:
            self._start_process()
        return self

    def _settings(self) -> Settings:
        return Settings(
            token_lifetime=self.token_lifetime,
            rotate_refresh_tokens=self.rotate_refresh_tokens,
            pkce_required=self.pkce_required,
        )

    def _start_process(self) -> None:
        args = [
            sys.executable,
            "-m",
            "dmtools.sandbox",
            "--json",
            "--port",
            str(self.port),
            "--videos",
            str(self.videos),
            "--seed",
            str(self.seed),
            "--host",
            self.host,
            "--token-lifetime",
            str(self.token_lifetime),
            "--latency",
            str(self.latency),
        ]
        if self.db_path:
            args += ["--db", self.db_path]
        if self.archive_videos is not None:
            args += ["--archive-videos", str(self.archive_videos)]
        if self.rotate_refresh_tokens:
            args.append("--rotate-refresh-tokens")
        if self.pkce_required:
            args.append("--pkce-required")
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = (
            root + os.pathsep + env.get("PYTHONPATH", "") if env.get("PYTHONPATH") else root
        )
        args.append("--exit-on-stdin-eof")
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stdin=subprocess.PIPE, env=env)
        self._proc = proc
        assert proc.stdout is not None
        line = b""
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + self.startup_timeout
            while not line.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self._kill()
                    raise RuntimeError("the sandbox process did not start in time")
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    self._kill()
                    raise RuntimeError("the sandbox process exited during start-up")
                line += chunk
        ready = json.loads(line)
        self.url, self.admin_token = ready["url"], ready["admin_token"]

    def stop(self) -> None:
        """Stop the server (idempotent)."""
        with self._conn_lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._proc is not None:
            proc = self._proc
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            self._kill()
        self.url = ""

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        for pipe in (proc.stdout, proc.stdin):
            if pipe is not None:
                pipe.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Sandbox(url={self.url or None!r}, mode={self.mode!r}, videos={self.videos})"

    # -- information -------------------------------------------------------------------
    @property
    def endpoints(self) -> Endpoints:
        return Endpoints.sandbox(self._running_url())

    @property
    def credentials(self) -> Credentials:
        if self._credentials is None:
            self._credentials = Credentials.from_json(
                self._running_url(), self._admin("GET", "credentials")
            )
        return self._credentials

    def _running_url(self) -> str:
        if not self.url:
            raise RuntimeError("the sandbox is not running (use `with Sandbox() as sb:`)")
        return self.url

    # -- admin API ---------------------------------------------------------------------
    def _admin(self, method: str, route: str, body: Any = None) -> Any:
        parts = urlsplit(self._running_url())
        payload = None if body is None else json.dumps(body).encode()
        headers = {ADMIN_HEADER: self.admin_token, "Content-Type": "application/json"}
        with self._conn_lock:
            for attempt in (0, 1):
                if self._conn is None:
                    self._conn = http.client.HTTPConnection(
                        parts.hostname or "127.0.0.1", parts.port, timeout=30
                    )
                try:
                    self._conn.request(method, "/__sandbox__/" + route, payload, headers)
                    response = self._conn.getresponse()
                    data = response.read()
                    break
                except (ConnectionError, http.client.HTTPException, OSError):
                    self._conn.close()
                    self._conn = None
                    if attempt:
                        raise
        result = json.loads(data) if data else None
        if response.status >= 400:
            error = (result or {}).get("error", {}) if isinstance(result, dict) else {}
            if response.status == 404 and error.get("type") == "not_found":
                raise LookupError(error.get("message", "not found"))
            raise RuntimeError(
                f"sandbox admin {method} {route}: HTTP {response.status} {error.get('message', '')}"
            )
        return result

    def commits(self, since: int = 0) -> list[dict[str, Any]]:
        """Committed client writes: ``{"seq","time","kind","video_id","fields","client_id"}``."""
        return list(self._admin("GET", f"commits?since={int(since)}"))

    def request_log(self, since: int = 0) -> list[dict[str, Any]]:
        """Requests served: ``{"seq","time","method","path","query_keys","status","client_id"}``."""
        return list(self._admin("GET", f"requests?since={int(since)}"))

    def fault_log(self) -> list[dict[str, Any]]:
        """Faults injected so far (see :mod:`dmtools.sandbox.faults`)."""
        return list(self._admin("GET", "faults"))

    def clear_logs(self) -> None:
        """Empty the commit, request and fault logs."""
        self._admin("POST", "logs/clear", {})

    def get_video(self, video_id: str) -> dict[str, Any] | None:
        """The stored video with every field (no auth), or None."""
        try:
            return dict(self._admin("GET", f"video/{video_id}"))
        except LookupError:
            return None

    def edit_video(self, video_id: str, **fields: Any) -> dict[str, Any]:
        """Change stored fields out of band (not a client commit); the stored video."""
        return dict(self._admin("POST", f"video/{video_id}", fields))

    def delete_video(self, video_id: str) -> None:
        """Delete a video out of band (not a client commit)."""
        self._admin("DELETE", f"video/{video_id}")

    def add_videos(self, n: int, owner: str | None = None) -> list[str]:
        """Add ``n`` videos (default owner: the demo user) out of band; their ids."""
        return list(self._admin("POST", "videos", {"n": n, "owner": owner})["ids"])

    def set_token_lifetime(self, seconds: int) -> None:
        self._admin("POST", "token_lifetime", {"seconds": int(seconds)})

    def expire_tokens(self) -> None:
        """Make every access token issued so far expired (refresh tokens stay valid)."""
        self._admin("POST", "expire_tokens", {})

    def set_faults(
        self,
        latency: float = 0.0,
        jitter: float = 0.0,
        seed: int = 0,
        rules: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Replace latency and fault rules (see :mod:`dmtools.sandbox.faults`)."""
        self._admin(
            "POST",
            "faults",
            {"latency": latency, "jitter": jitter, "seed": seed, "rules": [dict(r) for r in rules]},
        )

    def set_rate_limit(self, rate: float | None, burst: int | None = None) -> None:
        """Token bucket of ``rate`` requests/s and ``burst``; None switches it off."""
        self._admin("POST", "rate_limit", {"rate": rate, "burst": burst})

    def clear_faults(self) -> None:
        self._admin("DELETE", "faults")

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Read (and with keyword arguments, change) the sandbox's behaviour settings."""
        return dict(self._admin("POST" if changes else "GET", "settings", changes or None))


def serve(
    *,
    videos: int,
    seed: int,
    port: int,
    host: str,
    db_path: str | None,
    settings: Settings,
    latency: float,
    ready: Callable[[Any, Credentials], None],
    watch_stdin: bool = False,
    archive_videos: int | None = None,
) -> None:
    """Run a sandbox in the foreground until SIGINT/SIGTERM; ``ready`` is called once up.

    With ``watch_stdin`` it also stops when standard input reaches end of file (the parent
    that started it died or closed the pipe), so no orphan server outlives its test run.
    """
    from dmtools.sandbox.server import SandboxServer

    server = SandboxServer(
        videos=videos,
        seed=seed,
        archive_videos=archive_videos,
        port=port,
        host=host,
        db_path=db_path,
        settings=settings,
        latency=latency,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    if watch_stdin:

        def watch() -> None:
            fd = sys.stdin.fileno()
            while os.read(fd, 4096):  # raw reads: no buffered-reader lock held at exit
                pass
            stop.set()

        threading.Thread(target=watch, name="dmtools-sandbox-stdin", daemon=True).start()
    try:
        server.start()
        ready(server, Credentials.from_json(server.url, server.store.credentials()))
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
