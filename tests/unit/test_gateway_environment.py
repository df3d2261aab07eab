"""The kept YooKassa session reads proxies and the CA bundle from the environment once."""

from __future__ import annotations

from typing import Any

import pytest

from payments.yookassa.sdk import load_sdk

ENDPOINT = "https://api.yookassa.ru/v3"


def _KeptSession(endpoint: str) -> Any:  # noqa: N802 - reads as the class it builds
    return load_sdk().session(endpoint, 1)


def test_a_proxy_in_the_environment_is_still_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """A shop behind HTTPS_PROXY reaches YooKassa through it, as with requests' defaults."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.shop.local:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = _KeptSession(ENDPOINT)
    assert session.proxies.get("https") == "http://proxy.shop.local:3128"
    assert session.trust_env is False  # the environment is not walked again per request


def test_no_proxy_for_the_endpoint_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_PROXY naming YooKassa's host keeps the calls direct."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.shop.local:3128")
    monkeypatch.setenv("NO_PROXY", "api.yookassa.ru")
    assert "https" not in _KeptSession(ENDPOINT).proxies


def test_the_ca_bundle_of_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """REQUESTS_CA_BUNDLE (or curl's) still decides which certificates are trusted."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/shop/ca.pem")
    assert _KeptSession(ENDPOINT).verify == "/etc/shop/ca.pem"
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert _KeptSession(ENDPOINT).verify is True
