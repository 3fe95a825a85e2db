"""The Reporting API's state: report files, their rules, and the synthetic audience (no HTTP).

* ``catalog``: enum values, the metric/dimension matrix, permissions;
* ``query``: a report request as data and its limits (:class:`ReportRefused` reasons);
* ``reports``: :class:`Reports` (creation, lifecycle on the sandbox clock, files);
* ``audience``: deterministic daily and hourly views per video, consistent with
  ``views_total``; ``splits``: countries, devices, placements, playlists, actions;
  ``rows`` and ``table``: a report's rows, its table and its CSV files.
"""

from __future__ import annotations

from dmtools.sandbox.state.reporting.query import ReportQuery, ReportRefused, parse_date
from dmtools.sandbox.state.reporting.reports import Asker, Reports, ReportView

__all__ = ["Asker", "ReportQuery", "ReportRefused", "ReportView", "Reports", "parse_date"]
