"""Sandbox controls of the Reporting API: the sandbox clock and report faults (admin API).

:class:`ReportControls` is mixed into :class:`~dmtools.sandbox.Sandbox`; every method is one
admin call, so it works the same in thread and process mode.

Example:
    >>> with Sandbox(videos=20) as sb:
    ...     later = sb.advance_clock(48 * 3600)   # every report is 48 hours older
    ...     sb.fail_next_reports(1)               # the next report asked for will fail
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dmtools.sandbox.credentials import ReportingUrls


class ReportControls:
    """The sandbox clock, reports and their permissions (needs ``_admin`` and ``url``)."""

    url: str

    def _admin(self, method: str, route: str, body: Any = None) -> Any:  # pragma: no cover
        raise NotImplementedError

    @property
    def reporting(self) -> ReportingUrls:
        """The Reporting API's token and GraphQL URLs (private and public keys), files."""
        if not self.url:
            raise RuntimeError("the sandbox is not running (use `with Sandbox() as sb:`)")
        return ReportingUrls.of(self.url)

    def clock(self) -> float:
        """The sandbox's current time (Unix seconds): real time plus what tests advanced."""
        return float(self._admin("GET", "clock")["now"])

    def advance_clock(self, seconds: float) -> float:
        """Move the sandbox clock ``seconds`` forward (reports age, data moves on); new time."""
        return float(self._admin("POST", "clock", {"advance": seconds})["now"])

    def reports(self) -> list[dict[str, Any]]:
        """Every report: ``{"token", "status", "created_at", "parts", "rows"}``."""
        return list(self._admin("GET", "reports"))

    def fail_report(self, token: str) -> str:
        """Make a report ``FAILED`` now; its status."""
        return str(self._admin("POST", "reports/fail", {"token": token})["status"])

    def expire_report(self, token: str) -> str:
        """Make a report ``EXPIRED`` now (links gone); its status."""
        return str(self._admin("POST", "reports/expire", {"token": token})["status"])

    def fail_next_reports(self, n: int = 1) -> None:
        """The next ``n`` reports asked for end ``FAILED`` (after their delay)."""
        self._admin("POST", "reports/fail_next", {"n": n})

    def set_report_permissions(self, client_id: str, permissions: Iterable[str]) -> list[str]:
        """Set an API key's Reporting API permissions (``create_reports``, ``read_reports``,
        ``delete_reports``, ``access_revenue``, ``access_ads``); the list kept."""
        body = {"client_id": client_id, "permissions": list(permissions)}
        return list(self._admin("POST", "reports/access", body)["permissions"])
