"""The Reporting API dialect (GraphQL at ``/graphql``, report files under ``/reports/files``).

Modules: ``urls`` (the URL table), ``dialect`` (:class:`ReportingApi`: routes, GraphQL over
HTTP, downloads, admin routes, error rendering), ``schema`` (the SDL and resolvers, on
graphql-core) and ``errors`` (GraphQL error bodies).
"""

from __future__ import annotations

from dmtools.sandbox.api.reporting.dialect import ReportingApi

__all__ = ["ReportingApi"]
