"""Base URL resolution: flag > GONG_BASE_URL > OAuth tenant URL > https://api.gong.io."""

from __future__ import annotations

import pytest

from gong_client import DEFAULT_BASE_URL, ConfigError, resolve_base_url

TENANT = "https://us-55616.api.gong.io"
ENV = {"GONG_BASE_URL": "https://eu-1.api.gong.io"}


def test_explicit_url_wins_over_everything() -> None:
    assert resolve_base_url(TENANT + "/", env=ENV, token_base_url="https://x.io") == TENANT


def test_environment_wins_over_the_oauth_tenant_url() -> None:
    assert resolve_base_url(None, env=ENV, token_base_url=TENANT) == "https://eu-1.api.gong.io"


def test_oauth_tenant_url_wins_over_the_default() -> None:
    assert resolve_base_url(None, env={}, token_base_url=TENANT) == TENANT


def test_default_when_nothing_is_given() -> None:
    assert resolve_base_url("", env={"GONG_BASE_URL": "  "}) == DEFAULT_BASE_URL
    assert DEFAULT_BASE_URL == "https://api.gong.io"


def test_bare_host_from_an_oauth_response_gets_https() -> None:
    assert resolve_base_url(None, env={}, token_base_url="us-55616.api.gong.io") == TENANT


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://api.gong.io", "not an http"),
        ("https://", "not an http"),
        ("https://api.gong.io/?tenant=1", "query"),
        ("https://api.gong.io:99999", "cannot be parsed"),
    ],
)
def test_unusable_urls_are_config_errors(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_base_url(url, env={})


def test_url_with_credentials_is_refused_without_echoing_them() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_base_url("https://key:hunter2@api.gong.io", env={})
    assert "hunter2" not in str(caught.value) and "credentials" in str(caught.value)
