"""The login panel, driven like a user would (set values, click) against a real sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from _support.auth import consent, query
from _support.widgets import find_secrets, sandbox_secrets, walk, widget_state_text

from dmtools.auth import AccessDenied
from dmtools.sandbox import Sandbox
from dmtools.widgets import LoginPanel, TextLogin, login_panel, widgets_available
from dmtools.widgets.login import SANDBOX_PLACEHOLDER


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=30, seed=7) as sandbox:
        yield sandbox


def _no_secret_in_state(panel: LoginPanel, sb: Sandbox) -> None:
    text = widget_state_text(panel)
    assert find_secrets(text, sandbox_secrets(sb)) == []
    # the access token of the logged-in client is not in the state either
    if panel.client is not None:
        token = panel.client._manager.access_token()  # type: ignore[attr-defined]
        assert token not in text


def _typed_panel(sb: Sandbox, kind: str, grant: str, access: str = "read-only") -> LoginPanel:
    panel = LoginPanel(endpoints=sb.endpoints)
    panel.key_kind.value = kind
    panel.grant.value = grant
    panel.access.value = access
    key = sb.credentials.private_key if kind == "private" else sb.credentials.public_key
    panel.client_id.value = key.client_id
    panel.client_secret.value = key.client_secret
    return panel


def test_client_credentials_with_a_typed_private_key_logs_in_and_clears_the_secret(
    sb: Sandbox,
) -> None:
    panel = _typed_panel(sb, "private", "client_credentials", access="edit")
    panel.login_button.click()
    assert panel.client is not None and panel.client.is_partner
    assert panel.client.scopes == ("read_videos", "edit_videos")
    assert "Logged in as Demo News" in panel.status.value
    assert "read_videos edit_videos" in panel.status.value
    assert "token expires at" in panel.status.value
    assert panel.client_secret.value == ""
    _no_secret_in_state(panel, sb)


def test_password_grant_clears_secret_and_password_and_keeps_them_out_of_state(sb: Sandbox) -> None:
    panel = _typed_panel(sb, "public", "password", access="edit")
    panel.username.value = sb.credentials.user.username
    panel.password.value = sb.credentials.user.password
    panel.login_button.click()
    assert panel.client is not None
    assert "Logged in as Demo Channel" in panel.status.value
    assert "manage_videos" in panel.status.value
    assert panel.password.value == "" and panel.client_secret.value == ""
    assert panel.client.me(["username"])["username"] == "demo"
    _no_secret_in_state(panel, sb)
    # the panel keeps no copy of the password (RFC 6749 §4.3.1), not even as a Secret
    assert not _holds(vars(panel), sb.credentials.user.password)


def _holds(value: object, text: str, depth: int = 0) -> bool:
    """True if ``value`` (dicts, lists, Secrets, strings, nested) contains ``text``."""
    from dmtools.secrets import Secret

    if depth > 4:
        return False
    if isinstance(value, Secret):
        return value == text
    if isinstance(value, str):
        return text in value
    if isinstance(value, dict):
        return any(_holds(v, text, depth + 1) for v in value.values())
    if isinstance(value, list | tuple | set):
        return any(_holds(v, text, depth + 1) for v in value)
    return False


def test_sandbox_box_fills_the_form_without_putting_secrets_in_widget_state(sb: Sandbox) -> None:
    panel = LoginPanel(sandbox=sb)
    panel.use_sandbox.value = True
    assert panel.client_secret.value == "" and panel.password.value == ""
    assert panel.client_secret.placeholder == SANDBOX_PLACEHOLDER
    assert panel.password.placeholder == SANDBOX_PLACEHOLDER
    assert panel.client_secret.disabled and panel.password.disabled
    assert panel.client_id.value == sb.credentials.public_key.client_id
    assert sb.url in panel.status.value
    _no_secret_in_state(panel, sb)
    for kind, grant, who in (
        ("private", "client_credentials", "Demo News"),
        ("public", "password", "Demo Channel"),
    ):
        panel.key_kind.value = kind
        panel.grant.value = grant
        panel.login_button.click()
        assert panel.client is not None, panel.status.value
        assert f"Logged in as {who} (local sandbox)" in panel.status.value
        _no_secret_in_state(panel, sb)


def test_unticking_the_sandbox_empties_and_enables_the_fields(sb: Sandbox) -> None:
    panel = LoginPanel(sandbox=sb, use_sandbox=True)
    panel.use_sandbox.value = False
    for field in (panel.client_id, panel.client_secret, panel.username, panel.password):
        assert field.value == "" and not field.disabled
    assert panel.client_secret.placeholder == ""


def test_authorization_code_completes_through_the_paste_box(sb: Sandbox) -> None:
    panel = LoginPanel(sandbox=sb, use_sandbox=True, access="edit")
    panel.grant.value = "authorization_code"
    panel.login_button.click()
    url = panel.consent_url
    assert url is not None and url.startswith(sb.url + "/oauth/authorize?")
    assert (
        panel.consent_link.value.count("href=") == 1
        and 'target="_blank"' in panel.consent_link.value
    )
    assert panel.consent.layout.display == ""
    redirected = consent(url, "demo", sb.credentials.user.password)
    assert query(redirected)["code"].startswith("emu_ac_")
    listener = panel.consent._local
    panel.paste.value = redirected  # a remote Jupyter: the browser could not reach 127.0.0.1
    panel.paste_button.click()
    assert panel.client is not None, panel.status.value
    assert panel.client.scopes == ("manage_videos",)
    assert "Logged in as Demo Channel" in panel.status.value
    assert panel.paste.value == "" and panel.consent_link.value == ""
    assert panel.consent_url is None and panel.consent.layout.display == "none"
    _no_secret_in_state(panel, sb)
    # the listener was closed: the used callback URL cannot be replayed through it
    assert listener is not None
    listener._thread.join(5)
    assert listener.done()
    with pytest.raises(requests.ConnectionError):
        requests.get(redirected, timeout=5)


def test_authorization_code_completes_by_itself_through_the_loopback_listener(sb: Sandbox) -> None:
    seen = []
    panel = LoginPanel(sandbox=sb, use_sandbox=True, on_login=seen.append)
    panel.grant.value = "authorization_code"
    panel.login_button.click()
    assert "Waiting for consent" in panel.status.value
    redirected = consent(panel.consent_url or "", "demo", sb.credentials.user.password)
    page = requests.get(redirected, timeout=10)  # the browser follows the redirect
    assert page.status_code == 200 and "Logged in" in page.text
    client = panel.wait(10)
    assert seen == [client] and panel.client is client
    assert "Logged in as Demo Channel" in panel.status.value
    assert panel.consent_link.value == "" and panel.paste.value == ""
    _no_secret_in_state(panel, sb)


def test_denied_consent_is_reported_and_nothing_logs_in(sb: Sandbox) -> None:
    panel = LoginPanel(sandbox=sb, use_sandbox=True)
    panel.grant.value = "authorization_code"
    panel.login_button.click()
    redirected = consent(
        panel.consent_url or "", "demo", sb.credentials.user.password, action="deny"
    )
    requests.get(redirected, timeout=10)
    with pytest.raises(AccessDenied):
        panel.wait(10)
    assert panel.client is None
    assert "Login failed: access was refused" in panel.status.value


def test_a_private_key_with_a_user_grant_gets_a_readable_error(sb: Sandbox) -> None:
    panel = LoginPanel(endpoints=sb.endpoints)
    panel.key_kind.value = "public"
    panel.grant.value = "password"
    panel.client_id.value = sb.credentials.private_key.client_id
    panel.client_secret.value = sb.credentials.private_key.client_secret
    panel.username.value = "demo"
    panel.password.value = sb.credentials.user.password
    panel.login_button.click()
    assert panel.client is None
    assert "needs a public API key" in panel.status.value
    assert "HTTP 400" not in panel.status.value
    assert panel.client_secret.value == "" and panel.password.value == ""
    _no_secret_in_state(panel, sb)


def test_missing_fields_are_named_and_nothing_is_sent(sb: Sandbox) -> None:
    before = len(sb.request_log())
    panel = LoginPanel(endpoints=sb.endpoints)
    panel.login_button.click()
    assert "enter the API key" in panel.status.value
    panel.client_id.value = sb.credentials.public_key.client_id
    panel.login_button.click()
    assert "enter the API secret" in panel.status.value
    panel.grant.value = "password"
    panel.client_secret.value = sb.credentials.public_key.client_secret
    panel.login_button.click()
    assert "enter the username" in panel.status.value
    assert len(sb.request_log()) == before


def test_a_secret_typed_once_is_kept_in_python_across_a_failed_attempt(sb: Sandbox) -> None:
    panel = _typed_panel(sb, "public", "password", access="edit")
    panel.login_button.click()  # no username yet
    assert "enter the username" in panel.status.value
    assert panel.client_secret.value == "" and "entered" in panel.client_secret.placeholder
    panel.username.value = "demo"
    panel.password.value = "not-the-password"
    panel.login_button.click()
    assert "Invalid credentials" in panel.status.value and panel.password.value == ""
    panel.password.value = sb.credentials.user.password
    panel.login_button.click()
    assert panel.client is not None
    assert panel.client_secret.placeholder == "" and panel._kept == {}


def test_scope_presets_follow_the_kind_of_key_and_typing_makes_them_custom(sb: Sandbox) -> None:
    panel = LoginPanel(endpoints=sb.endpoints, access="delete")
    assert panel.scopes.value == "manage_videos"
    panel.key_kind.value = "private"
    assert panel.scopes.value == "read_videos edit_videos delete_videos"
    assert [value for _, value in panel.grant.options] == ["client_credentials"]
    panel.access.value = "read-only"
    assert panel.scopes.value == "read_videos"
    panel.scopes.value = "read_videos email"
    assert panel.access.value == "custom"
    panel.key_kind.value = "public"
    assert panel.scopes.value == "read_videos email"  # custom scopes are left alone
    assert [v for _, v in panel.grant.options] == ["authorization_code", "password"]
    assert panel._user_row.layout.display == "none"
    panel.grant.value = "password"
    assert panel._user_row.layout.display == "" and panel._redirect_row.layout.display == "none"


def test_logout_revokes_the_session(sb: Sandbox) -> None:
    panel = LoginPanel(sandbox=sb, use_sandbox=True)
    panel.key_kind.value = "private"
    panel.login_button.click()
    client = panel.client
    assert client is not None and not panel.logout_button.disabled
    panel.logout_button.click()
    assert panel.client is None and "Logged out" in panel.status.value
    assert any(entry["path"].endswith("/logout") for entry in sb.request_log())


def test_every_widget_of_the_panel_is_reachable_for_the_state_scan(sb: Sandbox) -> None:
    panel = LoginPanel(endpoints=sb.endpoints)
    found = set(map(id, walk(panel)))
    for widget in (
        panel.client_secret,
        panel.password,
        panel.paste,
        panel.status,
        panel.consent_link,
        panel.client_secret.layout,
    ):
        assert id(widget) in found
    # the scan sees a typed secret (until a login attempt empties the field)
    panel.client_secret.value = sb.credentials.public_key.client_secret
    assert find_secrets(widget_state_text(panel), sandbox_secrets(sb)) != []
    panel.login_button.click()
    assert find_secrets(widget_state_text(panel), sandbox_secrets(sb)) == []


class Script:
    """Answers the text login's questions in order, recording which prompt asked what."""

    def __init__(self, plain: list[str], secret: list[str]) -> None:
        self.plain, self.secret = list(plain), list(secret)
        self.plain_prompts: list[str] = []
        self.secret_prompts: list[str] = []
        self.said: list[str] = []

    def ask(self, prompt: str) -> str:
        self.plain_prompts.append(prompt)
        return self.plain.pop(0)

    def ask_secret(self, prompt: str) -> str:
        self.secret_prompts.append(prompt)
        return self.secret.pop(0)


def _text_login(sb: Sandbox, script: Script, **options: object) -> TextLogin:
    login = login_panel(
        fallback=True,
        ask=script.ask,
        ask_secret=script.ask_secret,
        say=script.said.append,
        **options,
    )
    assert isinstance(login, TextLogin)
    return login


def test_text_fallback_reads_secrets_with_getpass_only(sb: Sandbox) -> None:
    creds = sb.credentials
    script = Script(
        ["no", "public", "password", "edit", creds.public_key.client_id, "demo"],
        [creds.public_key.client_secret, creds.user.password],
    )
    login = _text_login(sb, script, endpoints=sb.endpoints)
    assert login.client is not None, script.said
    assert script.secret_prompts == ["API secret: ", "Password: "]
    assert "Logged in as Demo Channel" in script.said[-1]
    assert find_secrets("\n".join(script.said + script.plain_prompts), sandbox_secrets(sb)) == []


def test_text_fallback_with_the_sandbox_and_the_loopback_listener(sb: Sandbox) -> None:
    script = Script(["yes", "public", "authorization_code", ""], [])

    def ask_secret(prompt: str) -> str:  # the user allows access, then just presses Enter
        url = next(line for line in script.said[-1].splitlines() if line.startswith("http"))
        requests.get(consent(url, "demo", sb.credentials.user.password), timeout=10)
        return ""

    script.ask_secret = ask_secret  # type: ignore[method-assign]
    login = _text_login(sb, script, sandbox=sb)
    assert login.client is not None, script.said
    assert "(sandbox credentials)" in script.said[0]
    assert "Logged in as Demo Channel" in script.said[-1]


def test_text_fallback_reports_a_failed_login_in_one_line(sb: Sandbox) -> None:
    script = Script(["no", "private", "", sb.credentials.private_key.client_id], ["wrong-secret"])
    login = _text_login(sb, script, endpoints=sb.endpoints)
    assert login.client is None and login.error is not None
    assert script.said[-1].startswith("Login failed: ")
    assert "wrong-secret" not in script.said[-1]


def test_outside_a_kernel_login_panel_falls_back_to_text(sb: Sandbox) -> None:
    assert not widgets_available()
    script = Script(["yes", "private", ""], [])
    login = login_panel(
        sandbox=sb, ask=script.ask, ask_secret=script.ask_secret, say=script.said.append
    )
    assert isinstance(login, TextLogin) and login.client is not None
    assert isinstance(login_panel(fallback=False, sandbox=sb), LoginPanel)


def test_paste_box_explains_what_is_missing_and_refuses_a_foreign_address(sb: Sandbox) -> None:
    panel = LoginPanel(sandbox=sb, use_sandbox=True)
    panel.paste_button.click()
    assert "No login is waiting for consent" in panel.status.value
    panel.grant.value = "authorization_code"
    panel.login_button.click()
    panel.paste_button.click()  # nothing pasted: the login keeps waiting
    assert "Paste the address" in panel.status.value and panel.consent.waiting
    forged = "http://127.0.0.1:1/callback?code=emu_ac_forged&state=not-this-login"
    panel.paste.value = forged
    panel.paste_button.click()
    assert panel.client is None and not panel.consent.waiting
    assert "Login failed:" in panel.status.value and "state" in panel.status.value
    assert panel.paste.value == "" and "emu_ac_forged" not in panel.status.value
    assert isinstance(panel.error, Exception)


def test_the_panel_uses_the_sandbox_of_dmtools_lab_instead_of_starting_one(sb: Sandbox) -> None:
    import dmtools.notebook as nb
    from dmtools.cli.lab import lab_environment

    before = nb._sandbox
    panel = LoginPanel(environ=lab_environment(sb))
    assert sb.url in panel.use_sandbox.description
    assert panel.client_id.value == sb.credentials.public_key.client_id  # filled from DMTOOLS_*
    assert panel.client_secret.placeholder == "(from DMTOOLS_CLIENT_SECRET)"
    panel.use_sandbox.value = True
    assert nb._sandbox is before  # no second sandbox in the kernel
    assert panel.password.placeholder == SANDBOX_PLACEHOLDER
    panel.key_kind.value = "private"
    panel.login_button.click()
    assert panel.client is not None and panel.client.is_partner
    assert panel.client.base_url == sb.url + "/rest"
    panel.key_kind.value = "public"
    panel.grant.value = "password"
    panel.login_button.click()
    assert panel.client is not None and panel.client.base_url == sb.url
    assert panel.client.me(["username"])["username"] == "demo"
    _no_secret_in_state(panel, sb)


def test_secrets_of_the_environment_log_in_without_entering_the_form(sb: Sandbox) -> None:
    c = sb.credentials
    env = {
        "DMTOOLS_CLIENT_ID": c.private_key.client_id,
        "DMTOOLS_CLIENT_SECRET": c.private_key.client_secret,
        "DMTOOLS_SANDBOX_URL": sb.url,
    }
    panel = LoginPanel(environ=env)
    assert panel.key_kind.value == "private" and panel.grant.value == "client_credentials"
    assert panel.client_secret.value == ""
    panel.login_button.click()
    assert panel.client is not None and panel.client.is_partner, panel.status.value
    _no_secret_in_state(panel, sb)


def test_api_v2_with_a_typed_private_key_logs_in_without_a_browser(sb: Sandbox) -> None:
    panel = LoginPanel(endpoints=sb.endpoints)
    panel.api.value = "v2"
    assert panel.key_kind.value == "private" and panel.key_kind.disabled
    assert [value for _, value in panel.grant.options] == ["client_credentials"]
    panel.access.value = "delete"
    assert panel.scopes.value.split() == ["account.read", "video.read", "video.manage"]
    key = sb.credentials.private_key
    panel.client_id.value, panel.client_secret.value = key.client_id, key.client_secret
    panel.login_button.click()  # no consent page, no listener: a remote kernel logs in too
    assert panel.client is not None, panel.status.value
    assert panel.client.dialect.name == "v2" and panel.client.base_url == sb.url + "/v2"
    assert panel.consent_url is None
    assert panel.client_secret.value == ""
    assert "token expires at" in panel.status.value
    _no_secret_in_state(panel, sb)
    assert panel.client.me(["id"])["id"] in key.profiles


def test_api_v2_from_the_environment_fills_the_form_and_keeps_secrets_out(sb: Sandbox) -> None:
    c = sb.credentials
    env = {
        "DMTOOLS_CLIENT_ID": c.private_key.client_id,
        "DMTOOLS_CLIENT_SECRET": c.private_key.client_secret,
        "DMTOOLS_USERNAME": c.user.username,  # left over from a legacy login: not used
        "DMTOOLS_SANDBOX_URL": sb.url,
        "DMTOOLS_API": "v2",
    }
    panel = LoginPanel(environ=env)
    assert panel.api.value == "v2" and panel.grant.value == "client_credentials"
    assert panel.client_secret.value == ""
    panel.login_button.click()
    assert panel.client is not None and panel.client.dialect.name == "v2", panel.status.value
    _no_secret_in_state(panel, sb)


def test_api_v2_with_the_sandbox_box_logs_in_with_its_private_key(sb: Sandbox) -> None:
    panel = LoginPanel(sandbox=sb, api="v2", use_sandbox=True, access="edit")
    assert panel.client_id.value == sb.credentials.private_key.client_id
    panel.login_button.click()
    assert panel.client is not None and panel.client.dialect.name == "v2", panel.status.value
    assert "video.manage" in panel.client.scopes
    _no_secret_in_state(panel, sb)


def test_going_back_to_the_legacy_api_frees_the_kind_of_key(sb: Sandbox) -> None:
    panel = LoginPanel(endpoints=sb.endpoints, api="v2")
    panel.api.value = "legacy"
    assert not panel.key_kind.disabled
    panel.key_kind.value = "public"
    assert "password" in [value for _, value in panel.grant.options]
    assert panel.scopes.value == ""  # read-only with a public key: no scope
