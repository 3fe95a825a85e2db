"""Endpoints and the HTTPS rule: https everywhere, plain http for loopback only.

The lookalike table follows Authlib's tests/core/test_common_security.py.
"""

from __future__ import annotations

import pytest

from dmtools.config import Endpoints, is_loopback_url, require_secure_url
from dmtools.errors import InsecureTransportError

ACCEPTED = [
    "https://provider.test/cb",
    "https://provider.test:8443/cb",
    "HTTPS://PROVIDER.TEST/cb",
    "https://api.dailymotion.com/oauth/token",
    # RFC 8252 §7.3 loopback exemption, with and without an explicit port
    "http://localhost:8080/cb",
    "http://localhost/cb",
    "http://127.0.0.1:8080/cb",
    "http://127.0.0.1/cb",
    "http://[::1]:8080/cb",
    "http://[::1]/cb",
    # other spellings of the loopback interface
    "http://127.0.0.2:8080/cb",
    "http://[0:0:0:0:0:0:0:1]:8080/cb",
    "http://[::ffff:127.0.0.1]:8080/cb",
]

REFUSED = [
    "http://provider.test/cb",
    "http://provider.test:8080/cb",
    "http://api.dailymotion.com/oauth/token",
    # the loopback names are not a suffix match
    "http://localhost.provider.test/cb",
    "http://127.0.0.1.provider.test/cb",
    # 0.0.0.0 is unspecified, not loopback
    "http://0.0.0.0:8080/cb",
    # a mapped IPv4 address that is not loopback
    "http://[::ffff:93.184.216.34]:8080/cb",
    # not a transport at all
    "ftp://localhost:8080/cb",
    "urn:ietf:wg:oauth:2.0:oob",
    "javascript:alert(1)",
    "",
    "provider.test/cb",
    "https://",
    "http://",
    # a loopback name outside of the host component
    "http://localhost:80@attacker.test/cb",
    "http://localhost:@attacker.test/cb",
    "http://localhost@attacker.test/cb",
    "http://127.0.0.1:80@attacker.test/cb",
    "http://127.0.0.1:@attacker.test/cb",
    "http://[::1]:80@attacker.test/cb",
    "http://[::1]:@attacker.test/cb",
    "http://attacker.test#@localhost:80/cb",
    "http://[not-an-ip]/cb",
]


@pytest.mark.parametrize("url", ACCEPTED)
def test_https_and_loopback_http_urls_are_accepted(url: str) -> None:
    assert require_secure_url(url) == url


@pytest.mark.parametrize("url", REFUSED)
def test_plain_http_to_other_hosts_and_lookalikes_are_refused(url: str) -> None:
    with pytest.raises(InsecureTransportError):
        require_secure_url(url)


@pytest.mark.parametrize("url", [u for u in REFUSED if not u.startswith("https")])
def test_lookalikes_are_not_loopback(url: str) -> None:
    assert is_loopback_url(url) is False


def test_sandbox_endpoints_share_one_base_url_and_key_tokens_by_host() -> None:
    sandbox = Endpoints.sandbox("http://127.0.0.1:8123/")
    assert sandbox.token_url == "http://127.0.0.1:8123/oauth/token"
    assert sandbox.partner_token_url == "http://127.0.0.1:8123/oauth/v1/token"
    assert sandbox.authorize_url == "http://127.0.0.1:8123/oauth/authorize"
    assert sandbox.is_sandbox and not Endpoints.dailymotion().is_sandbox
    assert sandbox.host_key != Endpoints.sandbox("http://127.0.0.1:8124").host_key
    assert Endpoints.dailymotion().host_key == "https://api.dailymotion.com"


def test_endpoints_on_a_non_loopback_http_host_cannot_be_made() -> None:
    with pytest.raises(InsecureTransportError):
        Endpoints.sandbox("http://192.168.1.10:8000")
