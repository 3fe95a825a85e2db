"""The API v2 URL tables (the moto ``urls.py``).

:data:`PATHS` is what the WSGI app routes to :class:`~dmtools.sandbox.api.v2.V2Api` methods:
the token endpoint (``oauth2.dailymotion.com/v2/token`` on the real service) and everything
under ``/v2``. :data:`RESOURCES` are the REST resources: ``(path, "group.handler", methods)``.
"""

from __future__ import annotations

from dmtools.sandbox.api.base import Route

PATHS: tuple[Route, ...] = (
    Route("/oauth2/v2/token", "token"),
    Route("/v2", "api"),
    Route("/v2/", "api", prefix=True),
)

RESOURCES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("/v2/me", "profiles.me", ("GET",)),
    ("/v2/profiles/<pid>", "profiles.profile", ("GET",)),
    ("/v2/profiles/<pid>/videos", "videos.profile_videos", ("GET", "POST")),
    ("/v2/videos/<vid>", "videos.video", ("GET", "PATCH", "DELETE")),
    ("/v2/files/upload_sessions", "videos.upload_session", ("POST",)),
)
