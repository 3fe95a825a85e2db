"""The Reporting API's URL table (the moto ``urls.py``).

One server plays the Reporting API's hosts: the partner host's ``/graphql`` (private keys;
its token endpoint is the legacy ``/oauth/v1/token``), the public host
``graphql.api.dailymotion.com`` under ``/graphql-api`` (queries at ``/graphql-api/``; its
token endpoint ``/graphql-api/oauth/token`` is served by the legacy dialect, which owns the
OAuth endpoints), and the download links of report files under ``/reports/files/``.
"""

from __future__ import annotations

from dmtools.sandbox.api.base import Route

#: Where the public host's queries go (``https://graphql.api.dailymotion.com/``).
PUBLIC_PREFIX = "/graphql-api"
#: Where report files are downloaded (``/reports/files/<file id>/part-<n>.csv``).
FILES_PREFIX = "/reports/files/"

PATHS: tuple[Route, ...] = (
    Route("/graphql", "graphql"),
    Route("/graphql/", "graphql"),
    Route(PUBLIC_PREFIX, "public_graphql"),
    Route(PUBLIC_PREFIX + "/", "public_graphql", prefix=True),
    Route(FILES_PREFIX, "download", prefix=True),
)
