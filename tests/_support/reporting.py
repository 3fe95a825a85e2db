"""Helpers for Reporting API tests: tokens, GraphQL calls, asking and polling reports.

Everything goes over real HTTP with plain ``requests`` (no dmtools client code).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import requests

from dmtools.sandbox import Sandbox

REPORT_SCOPES = "create_reports read_reports access_revenue access_ads"
ASK = (
    "mutation ($input: AskPartnerReportFileInput!) "
    "{ askPartnerReportFile(input: $input) { reportFile { reportToken status } } }"
)
POLL = (
    "query ($reportToken: String!) { partner { reportFile(reportToken: $reportToken) "
    "{ status createDate id reportToken downloadLinks { edges { node { link } } } } } }"
)


def report_token(sb: Sandbox, scope: str = REPORT_SCOPES, session: Any = requests) -> str:
    """An access token of the private key from the partner token endpoint."""
    key = sb.credentials.private_key
    response = session.post(
        sb.reporting.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": key.client_id,
            "client_secret": key.client_secret,
            "scope": scope,
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def public_report_token(sb: Sandbox, scope: str = REPORT_SCOPES) -> str:
    """An access token of the public key and the demo user, from the GraphQL host."""
    key, user = sb.credentials.public_key, sb.credentials.user
    response = requests.post(
        sb.reporting.public_token_url,
        data={
            "grant_type": "password",
            "client_id": key.client_id,
            "client_secret": key.client_secret,
            "username": user.username,
            "password": user.password,
            "scope": scope,
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def gql(
    sb: Sandbox,
    token: str | None,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    url: str | None = None,
    session: Any = requests,
    **extra: Any,
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body: dict[str, Any] = {"query": query, **extra}
    if variables is not None:
        body["variables"] = variables
    return session.post(url or sb.reporting.graphql_url, json=body, headers=headers, timeout=30)


def today(sb: Sandbox) -> dt.date:
    return dt.datetime.fromtimestamp(sb.clock(), dt.UTC).date()


def report_input(
    sb: Sandbox,
    metrics: list[str],
    dimensions: list[str],
    days: int = 30,
    end: dt.date | None = None,
    **extra: Any,
) -> dict[str, Any]:
    last = end or today(sb)
    first = last - dt.timedelta(days=days - 1)
    return {
        "metrics": metrics,
        "dimensions": dimensions,
        "startDate": first.isoformat(),
        "endDate": last.isoformat(),
        **extra,
    }


def ask(sb: Sandbox, token: str, report: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """The JSON answer of ``askPartnerReportFile`` (asserting HTTP 200)."""
    response = gql(sb, token, ASK, {"input": report}, **kwargs)
    assert response.status_code == 200, response.text
    return dict(response.json())


def ask_ok(sb: Sandbox, token: str, report: dict[str, Any], **kwargs: Any) -> str:
    """Ask for a report that must be accepted; its reportToken."""
    body = ask(sb, token, report, **kwargs)
    assert "errors" not in body, body
    return str(body["data"]["askPartnerReportFile"]["reportFile"]["reportToken"])


def refusal(body: dict[str, Any]) -> str:
    """The ``reason`` of a refused ask (asserting the documented error shape)."""
    assert body["data"] == {"askPartnerReportFile": None}, body
    error = body["errors"][0]
    assert error["path"] == ["askPartnerReportFile"]
    assert error["extensions"]["type"] == "bad_request"
    assert error["message"]
    return str(error["extensions"]["reason"])


def poll(sb: Sandbox, token: str, report_token: str, **kwargs: Any) -> dict[str, Any]:
    """``partner.reportFile`` of a report (asserting a success)."""
    response = gql(sb, token, POLL, {"reportToken": report_token}, **kwargs)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return dict(body["data"]["partner"]["reportFile"])


def links(report_file: dict[str, Any]) -> list[str]:
    return [edge["node"]["link"] for edge in report_file["downloadLinks"]["edges"]]


def finish(sb: Sandbox, token: str, report_token: str) -> list[str]:
    """Move the clock past the report delay, poll: FINISHED; its links."""
    sb.advance_clock(sb.settings()["report_delay"])
    found = poll(sb, token, report_token)
    assert found["status"] == "FINISHED", found
    return links(found)


def download(urls: list[str]) -> list[str]:
    """The text of each file (fetched without any credentials)."""
    texts = []
    for url in urls:
        response = requests.get(url, timeout=30)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("text/csv")
        texts.append(response.content.decode("utf-8"))
    return texts
