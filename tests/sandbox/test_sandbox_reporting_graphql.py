"""The Reporting API's GraphQL endpoint over real HTTP: documents, variables, answers, auth.

What working clients rely on (aliases, named and anonymous operations, ``$x:String!``,
explicit ``null``, no ``errors`` key on success, ``application/json``), what a GraphQL server
owes them (validation against the schema, syntax errors, operation names), and the tokens
it takes (partner, public key on the GraphQL host, tolerant scopes, token churn).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from _support.reporting import (
    ASK,
    POLL,
    ask,
    ask_ok,
    finish,
    gql,
    poll,
    public_report_token,
    refusal,
    report_input,
    report_token,
)

from dmtools.sandbox import Sandbox
from dmtools.sandbox.server import SandboxServer


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=60, seed=11) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def settle(sb: Sandbox) -> Iterator[None]:
    yield
    sb.advance_clock(sb.settings()["report_delay"] + 1)  # nothing stays in progress


@pytest.fixture()
def token(sb: Sandbox) -> str:
    return report_token(sb)


def test_a_success_is_json_with_data_and_no_errors_key(sb: Sandbox, token: str) -> None:
    response = gql(sb, token, ASK, {"input": report_input(sb, ["VIEWS"], ["DAY"])})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["data"]
    assert body["data"]["askPartnerReportFile"]["reportFile"]["status"] == "IN_PROGRESS"


def test_named_and_anonymous_operations_and_compact_variable_syntax(
    sb: Sandbox, token: str
) -> None:
    report = report_input(sb, ["VIEWS"], ["DAY"])
    named = (
        "mutation AskReport($input:AskPartnerReportFileInput!){"
        "askPartnerReportFile(input:$input){reportFile{reportToken}}}"
    )
    first = gql(sb, token, named, {"input": report}, operationName="AskReport").json()
    second = gql(sb, token, named, {"input": report}).json()  # one operation: name optional
    tokens = [
        b["data"]["askPartnerReportFile"]["reportFile"]["reportToken"] for b in (first, second)
    ]
    finish(sb, token, tokens[0])
    poll_named = "query GetReport($t:String!){partner{reportFile(reportToken:$t){status}}}"
    for query in (poll_named, poll_named.replace("query GetReport", "query")):
        body = gql(sb, token, query, {"t": tokens[1]}).json()
        assert body == {"data": {"partner": {"reportFile": {"status": "FINISHED"}}}}


def test_aliases_on_the_mutation_and_on_partner(sb: Sandbox, token: str) -> None:
    two = (
        "mutation ($a: AskPartnerReportFileInput!, $b: AskPartnerReportFileInput!) {"
        " day: askPartnerReportFile(input: $a) { reportFile { reportToken } }"
        " month: askPartnerReportFile(input: $b) { reportFile { token: reportToken } } }"
    )
    variables = {
        "a": report_input(sb, ["VIEWS"], ["DAY"]),
        "b": report_input(sb, ["VIEWS"], ["MONTH"]),
    }
    body = gql(sb, token, two, variables).json()
    assert "errors" not in body, body
    day = body["data"]["day"]["reportFile"]["reportToken"]
    month = body["data"]["month"]["reportFile"]["token"]
    aliased = (
        "query ($x: String!, $y: String!) { p1: partner { f: reportFile(reportToken: $x)"
        " { s: status } } p2: partner { reportFile(reportToken: $y) { status } } }"
    )
    answer = gql(sb, token, aliased, {"x": day, "y": month}).json()
    assert answer == {
        "data": {
            "p1": {"f": {"s": "IN_PROGRESS"}},
            "p2": {"reportFile": {"status": "IN_PROGRESS"}},
        }
    }


def test_a_third_aliased_mutation_over_the_limit_fails_alone(sb: Sandbox, token: str) -> None:
    three = (
        "mutation ($i: AskPartnerReportFileInput!) {"
        + "".join(
            f" r{n}: askPartnerReportFile(input: $i) {{ reportFile {{ reportToken }} }}"
            for n in (1, 2, 3)
        )
        + " }"
    )
    body = gql(sb, token, three, {"i": report_input(sb, ["VIEWS"], ["DAY"])}).json()
    assert body["data"]["r1"]["reportFile"]["reportToken"]
    assert body["data"]["r2"]["reportFile"]["reportToken"]
    assert body["data"]["r3"] is None
    [error] = body["errors"]
    assert error["path"] == ["r3"]
    assert error["extensions"] == {"type": "bad_request", "reason": "too_many_concurrent_reports"}


def test_explicit_null_for_nullable_inputs_and_inline_literals(sb: Sandbox, token: str) -> None:
    report = report_input(sb, ["VIEWS"], ["DAY"], filters=None, product=None)
    report["clientMutationId"] = None
    assert ask_ok(sb, token, report)
    literal = (
        "mutation { askPartnerReportFile(input: {metrics: [VIEWS], dimensions: [DAY],"
        f' startDate: "{report["startDate"]}", endDate: "{report["endDate"]}",'
        " filters: null, product: CONTENT}) { reportFile { reportToken } status } }"
    )
    body = gql(sb, token, literal).json()
    assert body["data"]["askPartnerReportFile"]["status"] == "SUCCESS"


def test_unknown_fields_and_enum_values_fail_validation_against_the_schema(
    sb: Sandbox, token: str
) -> None:
    for query, words in (
        ("{ partner { reportFile(reportToken: \"x\") { colour } } }", "colour"),
        ("{ partner { reportFile { status } } }", "reportToken"),
        ("mutation { askPartnerReportFile(input: {metrics: [VIEWZ], dimensions: [DAY],"
         ' startDate: "2026-01-01", endDate: "2026-01-02"}) { status } }', "VIEWZ"),
        ("query ($t: Int!) { partner { reportFile(reportToken: $t) { status } } }", "Int"),
    ):  # fmt: skip
        body = gql(sb, token, query).json()
        assert "data" not in body, body
        assert words in body["errors"][0]["message"]
        assert body["errors"][0]["extensions"]["reason"] == "graphql_validation_failed"


def test_a_bad_variable_value_is_an_error_naming_it(sb: Sandbox, token: str) -> None:
    report = report_input(sb, ["VIEWS", "PAGEVIEWS"], ["DAY"])
    body = gql(sb, token, ASK, {"input": report}).json()
    assert body["data"] is None
    assert "PAGEVIEWS" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["reason"] == "invalid_input"
    missing = gql(sb, token, ASK, {}).json()
    assert "$input" in missing["errors"][0]["message"]


def test_syntax_errors_and_operation_names(sb: Sandbox, token: str) -> None:
    body = gql(sb, token, "{ partner { ").json()
    assert body["errors"][0]["extensions"]["reason"] == "graphql_parse_failed"
    assert "Syntax Error" in body["errors"][0]["message"]
    both = "query A { partner { id } } query B { partner { id } }"
    ambiguous = gql(sb, token, both).json()
    assert "operation name" in ambiguous["errors"][0]["message"]
    chosen = gql(sb, token, both, operationName="B").json()
    assert list(chosen) == ["data"] and chosen["data"]["partner"]["id"]


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"not json", "application/json"),
        (b'{"query": 3}', "application/json"),
        (b'{"variables": {}}', "application/json"),
        (b'{"query": "{ partner { id } }", "variables": [1]}', "application/json"),
        (b'[{"query": "{ partner { id } }"}]', "application/json"),
        (b'{"query": "{ partner { id } }", "operationName": 1}', "application/json"),
    ],
)
def test_a_body_that_is_no_graphql_request_is_400_with_errors(
    sb: Sandbox, token: str, body: bytes, content_type: str
) -> None:
    response = requests.post(
        sb.reporting.graphql_url,
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["reason"] == "invalid_body"


def test_a_raw_graphql_body_and_a_body_without_content_type_are_read(
    sb: Sandbox, token: str
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    raw = requests.post(
        sb.reporting.graphql_url,
        data=b"{ partner { id } }",
        headers={**headers, "Content-Type": "application/graphql"},
        timeout=10,
    )
    assert raw.status_code == 200 and raw.json()["data"]["partner"]["id"]
    bare = requests.post(
        sb.reporting.graphql_url,
        data=b'{"query": "{ partner { id } }"}',
        headers=headers,
        timeout=10,
    )
    assert bare.status_code == 200 and bare.json()["data"]["partner"]["id"]


def test_tokens_missing_unknown_or_expired_are_401_with_graphql_errors(sb: Sandbox) -> None:
    no_token = gql(sb, None, "{ partner { id } }")
    assert no_token.status_code == 401
    assert no_token.json()["errors"][0]["extensions"]["reason"] == "missing_token"
    unknown = gql(sb, "emu_at_nothing", "{ partner { id } }")
    assert unknown.status_code == 401
    assert unknown.json()["errors"][0]["extensions"]["reason"] == "invalid_token"
    assert unknown.headers["WWW-Authenticate"].startswith("Bearer")
    token = report_token(sb)
    sb.expire_tokens()
    expired = gql(sb, token, "{ partner { id } }")
    assert expired.status_code == 401
    assert expired.json()["errors"][0]["extensions"]["reason"] == "expired_token"
    assert expired.headers["Content-Type"] == "application/json"


def test_get_is_405_and_unknown_paths_of_the_graphql_host_are_404(sb: Sandbox, token: str) -> None:
    got = requests.get(sb.reporting.graphql_url, timeout=10)
    assert got.status_code == 405 and got.headers["Allow"] == "POST"
    elsewhere = requests.post(sb.url + "/graphql-api/elsewhere", timeout=10)
    assert elsewhere.status_code == 404 and elsewhere.json()["errors"]


def test_polling_needs_only_create_reports_or_read_reports(sb: Sandbox) -> None:
    creator = report_token(sb, scope="create_reports")
    reader = report_token(sb, scope="read_reports")
    report = ask_ok(sb, creator, report_input(sb, ["VIEWS"], ["DAY"]))
    assert poll(sb, creator, report)["status"] == "IN_PROGRESS"
    assert poll(sb, reader, report)["status"] == "IN_PROGRESS"
    assert refusal(ask(sb, reader, report_input(sb, ["VIEWS"], ["DAY"]))) == "missing_scope"
    videos_only = report_token(sb, scope="read_videos")
    body = gql(sb, videos_only, POLL, {"reportToken": report}).json()
    assert body["data"]["partner"]["reportFile"] is None
    assert body["errors"][0]["extensions"]["reason"] == "missing_scope"


def test_unknown_scopes_on_the_partner_endpoint_are_ignored_unless_strict(sb: Sandbox) -> None:
    key = sb.credentials.private_key
    form = {
        "grant_type": "client_credentials",
        "client_id": key.client_id,
        "client_secret": key.client_secret,
        "scope": "manage_reports create_reports",
    }
    granted = requests.post(sb.reporting.token_url, data=form, timeout=10)
    assert granted.status_code == 200
    assert set(granted.json()) >= {"access_token", "token_type", "expires_in", "scope"}
    assert granted.json()["refresh_token"] is None
    assert granted.json()["scope"] == "create_reports"
    sb.settings(strict_partner_scopes=True)
    try:
        refused = requests.post(sb.reporting.token_url, data=form, timeout=10)
        assert (refused.status_code, refused.json()["error"]) == (400, "invalid_scope")
    finally:
        sb.settings(strict_partner_scopes=False)


def test_a_token_per_call_never_revokes_the_earlier_ones(sb: Sandbox) -> None:
    session = requests.Session()
    tokens = [report_token(sb, session=session) for _ in range(30)]
    assert len(set(tokens)) == 30
    report = ask_ok(sb, tokens[-1], report_input(sb, ["VIEWS"], ["DAY"]))
    for token in tokens:
        assert poll(sb, token, report, session=session)["reportToken"] == report


def test_the_public_key_variant_on_the_graphql_host(sb: Sandbox) -> None:
    token = public_report_token(sb)
    url = sb.reporting.public_graphql_url
    assert url.endswith("/graphql-api/")
    report = ask_ok(sb, token, report_input(sb, ["VIEWS"], ["VIDEO_OWNER_CHANNEL_SLUG"]), url=url)
    sb.advance_clock(sb.settings()["report_delay"])
    found = poll(sb, token, report, url=url.rstrip("/"))
    assert found["status"] == "FINISHED"
    text = requests.get(found["downloadLinks"]["edges"][0]["node"]["link"], timeout=10).text
    assert text.splitlines()[0] == "video_owner_channel_slug,views"
    assert text.splitlines()[1].startswith("demo,")  # the demo user's own channel


def test_a_report_is_only_visible_to_its_api_key(sb: Sandbox, token: str) -> None:
    report = ask_ok(sb, token, report_input(sb, ["VIEWS"], ["DAY"]))
    public = public_report_token(sb)
    body = gql(sb, public, POLL, {"reportToken": report}).json()
    assert body["data"]["partner"]["reportFile"] is None
    assert body["errors"][0]["path"] == ["partner", "reportFile"]
    assert body["errors"][0]["extensions"] == {"type": "bad_request", "reason": "report_not_found"}


def test_v2_tokens_with_analytics_manage_are_accepted() -> None:
    server = SandboxServer(videos=5, seed=2)
    server.start()
    try:
        client = server.store.client(server.store.credentials()["private_key"]["client_id"])
        assert client is not None
        issued = server.app.tokens.issue(client, None, ["analytics.manage"], "client_credentials")
        response = requests.post(
            server.url + "/graphql",
            json={"query": '{ partner { reportFile(reportToken: "none") { status } } }'},
            headers={"Authorization": f"Bearer {issued.access_token}"},
            timeout=10,
        )
        assert response.json()["errors"][0]["extensions"]["reason"] == "report_not_found"
        server.store.settings.update({"report_v2_tokens": False})
        again = requests.post(
            server.url + "/graphql",
            json={"query": '{ partner { reportFile(reportToken: "none") { status } } }'},
            headers={"Authorization": f"Bearer {issued.access_token}"},
            timeout=10,
        )
        assert again.json()["errors"][0]["extensions"]["reason"] == "missing_scope"
    finally:
        server.stop()


@pytest.mark.parametrize(
    "query, variables",
    [
        ("{ partner " + "{ id " * 3000 + "}" * 3000 + " }", None),
        ("mutation { askPartnerReportFile(input: {metrics: " + "[" * 5000 + "]" * 5000 + "}) { status } }", None),
        ("{ " + " ".join(f"a{i}: partner {{ id }}" for i in range(5000)) + " }", None),
        ("query { partner { ...A } } fragment A on PartnerSpace { ...B }"
         " fragment B on PartnerSpace { ...A }", None),
        ("{ partner { id } }\x00", None),
        (ASK, {"input": {"metrics": [[["VIEWS"]]], "dimensions": [], "startDate": "2026-01-01",
                         "endDate": "2026-01-02"}}),
        (ASK, {"input": {"metrics": ["VIEWS"], "dimensions": {"a": 1}, "startDate": 1e308,
                         "endDate": None}}),
        (ASK, {"input": {"metrics": ["VIEWS"], "dimensions": [], "startDate": "2026-01-01T25:00Z",
                         "endDate": "2026-01-02", "filters": {"channelSlug": ["x"]}}}),
        (POLL, {"reportToken": "x" * 500_000}),
    ],
)  # fmt: skip
def test_hostile_documents_get_graphql_errors_never_a_500(
    sb: Sandbox, token: str, query: str, variables: dict | None, caplog: pytest.LogCaptureFixture
) -> None:
    response = gql(sb, token, query, variables)
    assert response.status_code == 200, response.text
    assert response.json()["errors"][0]["extensions"]["type"] == "bad_request"
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_reports_of_any_dates_finish_even_far_from_the_data(sb: Sandbox, token: str) -> None:
    for day in ("0001-01-01", "1970-01-01", "9999-12-31"):
        for dims in (["DAY"], ["HOUR"], ["MONTH", "VIDEO_ID"]):
            metrics = ["VIEWS"] if "HOUR" in dims else ["VIEWS", "UPLOADS"]
            report = {"metrics": metrics, "dimensions": dims, "startDate": day, "endDate": day}
            [url] = finish(sb, token, ask_ok(sb, token, report))
            text = requests.get(url, timeout=10).text
            assert text == ",".join(d.lower() for d in dims + metrics) + "\n"
            sb.advance_clock(1)


def test_a_token_of_the_v2_token_endpoint_with_analytics_manage_asks_for_reports() -> None:
    """What a key logged in to API v2 sends: a JWT from ``/oauth2/v2/token``."""
    with Sandbox(videos=5, seed=3) as sb:
        key = sb.credentials.private_key
        issued = requests.post(
            sb.url + "/oauth2/v2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": key.client_id,
                "client_secret": key.client_secret,
                "scope": "analytics.manage",
            },
            timeout=10,
        ).json()
        assert issued["access_token"].count(".") == 2  # a JWT
        query = {"query": '{ partner { reportFile(reportToken: "none") { status } } }'}
        headers = {"Authorization": f"Bearer {issued['access_token']}"}
        answer = requests.post(sb.url + "/graphql", json=query, headers=headers, timeout=10)
        assert answer.status_code == 200
        assert answer.json()["errors"][0]["extensions"]["reason"] == "report_not_found"
        sb.settings(report_v2_tokens=False)
        refused = requests.post(sb.url + "/graphql", json=query, headers=headers, timeout=10)
        assert refused.status_code == 401
