"""The legacy dialect's URL tables (the moto ``urls.py``).

:data:`PATHS` is what the WSGI app routes to :class:`~dmtools.sandbox.api.legacy.LegacyApi`
methods: one server plays both hosts, public paths at ``/...`` and partner paths under
``/rest/...``. :data:`RESOURCES` are the REST resources, the same on both hosts and in
``POST /`` call envelopes: ``(path, "group.handler", methods)``.
"""

from __future__ import annotations

from dmtools.sandbox.api.base import Route

PATHS: tuple[Route, ...] = (
    Route("/oauth/token", "public_token"),
    Route("/graphql-api/oauth/token", "public_token"),
    Route("/oauth/v1/token", "partner_token"),
    Route("/rest/oauth/v1/token", "partner_token"),
    Route("/oauth/authorize", "authorize"),
    Route("/rest/upload", "upload", streams_body=True),
    Route("/rest/progress", "progress"),
    Route("/rest", "partner"),
    Route("/rest/", "partner", prefix=True),
    Route("/", "public", prefix=True),
)

RESOURCES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("/me", "general.me", ("GET",)),
    ("/me/videos", "videos.my_videos", ("GET", "POST")),
    ("/user/<uid>", "general.user", ("GET",)),
    ("/user/<uid>/videos", "videos.user_videos", ("GET", "POST")),
    ("/videos", "videos.videos", ("GET", "POST")),
    ("/video/<vid>", "videos.video", ("GET", "POST", "DELETE")),
    ("/channels", "general.channels", ("GET",)),
    ("/channel/<cid>", "general.channel", ("GET",)),
    ("/echo", "general.echo", ("GET", "POST")),
    ("/auth", "general.auth", ("GET",)),
    ("/logout", "general.logout", ("GET", "POST")),
    ("/file/upload", "general.file_upload", ("GET",)),
)
