"""Where the client talks to, and the named defaults of the upload flow.

Each Gong company has its own API host (``https://us-55616.api.gong.io``; EU and APAC tenants
live elsewhere). Ignoring it breaks those tenants, so the base URL is resolved in this order:
the explicit argument (``--base-url``), ``GONG_BASE_URL``, the OAuth token response's
``api_base_url_for_customer``, and only then ``https://api.gong.io``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from gong_client.errors import ConfigError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_RATE_PER_S",
    "ENV_BASE_URL",
    "MAX_MEDIA_BYTES",
    "resolve_base_url",
]

ENV_BASE_URL = "GONG_BASE_URL"


def resolve_base_url(
    explicit: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    token_base_url: str | None = None,
) -> str:
    """Pick the API base URL: explicit > ``GONG_BASE_URL`` > OAuth tenant URL > default.

    Parameters
    ----------
    explicit
        A URL given by the caller (the ``--base-url`` flag); empty counts as not given.
    env
        The environment to read; ``os.environ`` by default.
    token_base_url
        ``api_base_url_for_customer`` from an OAuth token response.

    Returns
    -------
    str
        An ``http(s)://host[:port][/prefix]`` URL without a trailing slash.

    Raises
    ------
    ConfigError
        The chosen URL is not an absolute http(s) URL, or carries credentials, a query or a
        fragment.
    """
    env = os.environ if env is None else env
    for source, value in (
        ("--base-url", explicit),
        (ENV_BASE_URL, env.get(ENV_BASE_URL)),
        ("api_base_url_for_customer", token_base_url),
    ):
        if value and value.strip():
            return _normalise(value.strip(), source)
    return DEFAULT_BASE_URL


def _normalise(url: str, source: str) -> str:
    if "://" not in url:  # the OAuth response has been seen to carry a bare host
        url = "https://" + url
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(f"{source}: the base URL cannot be parsed") from None
    if parts.username or parts.password:
        raise ConfigError(f"{source}: the base URL must not carry credentials")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{source}: {url!r} is not an http(s) URL with a host")
    if parts.query or parts.fragment:
        raise ConfigError(f"{source}: the base URL must not have a query or fragment")
    return url.rstrip("/")


DEFAULT_BASE_URL = "https://api.gong.io"
DEFAULT_RATE_PER_S = 3.0
"""Gong's documented default: 3 requests per second for the whole company."""
MAX_MEDIA_BYTES = 1536 * 1024 * 1024
"""Gong's "1.5 GB" media cap, read as 1.5 GiB (1,610,612,736 bytes)."""
