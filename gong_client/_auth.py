"""Credentials for Gong's API as `httpx.Auth` objects that never show their secret.

Gong accepts ``Authorization: Basic base64(accessKey:accessKeySecret)`` or ``Authorization:
Bearer <OAuth token>``. Both classes keep the header value in a private slot and print as
``BasicAuth(access_key='AB…', secret=***)``; the header itself is masked by httpx in
``repr(request.headers)``.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import httpx

from gong_client.errors import ConfigError

__all__ = [
    "BasicAuth",
    "BearerAuth",
    "Credentials",
    "OAuthToken",
    "auth_from_env",
    "read_token_response",
]

ENV_ACCESS_KEY = "GONG_ACCESS_KEY"
ENV_ACCESS_KEY_SECRET = "GONG_ACCESS_KEY_SECRET"
ENV_BEARER_TOKEN = "GONG_BEARER_TOKEN"


class _SecretAuth(httpx.Auth):
    """Adds one fixed ``Authorization`` header; the value lives in a name-mangled slot."""

    __slots__ = ("__header",)

    def __init__(self, header: str) -> None:
        self.__header = header

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.__header
        yield request

    def __reduce__(self) -> NoReturn:  # pickling would write the secret out; refuse it
        raise TypeError(f"{type(self).__name__} holds a secret and cannot be pickled")


class BasicAuth(_SecretAuth):
    """Basic auth from a Gong access key and its secret.

    Parameters
    ----------
    access_key
        The access key (shown shortened in reprs, as it identifies the key, not the secret).
    access_key_secret
        The secret; never shown anywhere.
    """

    __slots__ = ("access_key",)

    def __init__(self, access_key: str, access_key_secret: str) -> None:
        if not access_key or not access_key_secret:
            raise ConfigError("the Gong access key and its secret must both be non-empty")
        if ":" in access_key:
            raise ConfigError("the Gong access key must not contain ':'")
        token = base64.b64encode(f"{access_key}:{access_key_secret}".encode()).decode("ascii")
        super().__init__(f"Basic {token}")
        self.access_key = access_key

    def __repr__(self) -> str:
        return f"BasicAuth(access_key={_shorten(self.access_key)!r}, secret=***)"


class BearerAuth(_SecretAuth):
    """Bearer auth with an OAuth access token (scope ``api:calls:create``)."""

    __slots__ = ()

    def __init__(self, token: str) -> None:
        if not token or any(c.isspace() for c in token):
            raise ConfigError("the Gong bearer token must be non-empty and contain no spaces")
        super().__init__(f"Bearer {token}")

    def __repr__(self) -> str:
        return "BearerAuth(token=***)"


Credentials = BasicAuth | BearerAuth


@dataclass(frozen=True, repr=False)
class OAuthToken:
    """The parts of an OAuth token response this client uses."""

    auth: BearerAuth
    base_url: str | None

    def __repr__(self) -> str:
        return f"OAuthToken(auth={self.auth!r}, base_url={self.base_url!r})"


def read_token_response(source: str | Path | Mapping) -> OAuthToken:
    """Read an OAuth token response (``access_token``, ``api_base_url_for_customer``).

    Parameters
    ----------
    source
        The parsed response, or a JSON file holding it.

    Returns
    -------
    OAuthToken
        Bearer credentials and the tenant's base URL (``None`` when the response has none).

    Raises
    ------
    ConfigError
        The file cannot be read or parsed, or has no ``access_token``.
    """
    if isinstance(source, Mapping):
        data, where = source, "the OAuth token response"
    else:
        where = str(source)
        try:
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(f"{where}: cannot read an OAuth token response ({exc})") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("access_token"), str):
        raise ConfigError(f"{where}: an OAuth token response needs a string 'access_token'")
    base_url = data.get("api_base_url_for_customer")
    return OAuthToken(BearerAuth(data["access_token"]), base_url if base_url else None)


def auth_from_env(env: Mapping[str, str] | None = None) -> Credentials:
    """Build credentials from ``GONG_ACCESS_KEY`` + ``_SECRET``, or ``GONG_BEARER_TOKEN``.

    Parameters
    ----------
    env
        The environment to read; ``os.environ`` by default.

    Returns
    -------
    BasicAuth or BearerAuth

    Raises
    ------
    ConfigError
        Neither is set, only half of the key pair is set, or both kinds are set.
    """
    env = os.environ if env is None else env
    key, secret = env.get(ENV_ACCESS_KEY, ""), env.get(ENV_ACCESS_KEY_SECRET, "")
    token = env.get(ENV_BEARER_TOKEN, "")
    if token and (key or secret):
        raise ConfigError(
            f"both {ENV_BEARER_TOKEN} and {ENV_ACCESS_KEY}/{ENV_ACCESS_KEY_SECRET} are set; "
            "unset one of them"
        )
    if token:
        return BearerAuth(token)
    if key and secret:
        return BasicAuth(key, secret)
    if key or secret:
        missing = ENV_ACCESS_KEY_SECRET if key else ENV_ACCESS_KEY
        raise ConfigError(f"{missing} is not set (the access key and its secret go together)")
    raise ConfigError(
        f"no Gong credentials: set {ENV_ACCESS_KEY} and {ENV_ACCESS_KEY_SECRET}, "
        f"or {ENV_BEARER_TOKEN}"
    )


def _shorten(text: str) -> str:
    return text if len(text) <= 4 else text[:4] + "…"
