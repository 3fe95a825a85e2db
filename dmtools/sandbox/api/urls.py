"""The sandbox's URL map: the routes every dialect shares, and the dialects served.

Each dialect brings its own table (``api/<dialect>/urls.py``); the app merges them with
:data:`SHARED` into one :class:`~dmtools.sandbox.api.base.Router` (two routes for one path
are refused at start-up). A new API version is one more entry in :data:`DIALECTS`.
"""

from __future__ import annotations

from dmtools.sandbox.api.base import Route
from dmtools.sandbox.api.legacy import LegacyApi
from dmtools.sandbox.api.reporting import ReportingApi
from dmtools.sandbox.api.v2 import V2Api

#: Routes shared by every dialect: the admin API and the upload server.
SHARED: tuple[Route, ...] = (
    Route("/__sandbox__/", "admin", prefix=True),
    Route("/upload", "upload", streams_body=True),
    Route("/progress", "progress"),
)

#: The dialects served; the first one renders the errors of the shared routes.
DIALECTS = (LegacyApi, V2Api, ReportingApi)
