"""The command-line options that say how to reach Gong, shared by ``upload`` and ``batch``.

Defined once as typer parameter types; `open_client` builds the `GongClient` from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gong_client._auth import BasicAuth, BearerAuth, OAuthToken, auth_from_env, read_token_response
from gong_client.client import GongClient

__all__ = ["BaseUrl", "OAuthTokenFile", "Rate", "StateDir", "open_client"]

BaseUrl = Annotated[
    str | None,
    typer.Option(help="Tenant API URL (else GONG_BASE_URL, OAuth response, api.gong.io)."),
]
StateDir = Annotated[
    Path | None, typer.Option(help="Where the upload journal lives (default: user state dir).")
]
Rate = Annotated[float, typer.Option(min=0.01, help="Requests per second allowed to this client.")]
OAuthTokenFile = Annotated[
    Path | None,
    typer.Option(help="An OAuth token response (JSON): access_token and tenant URL."),
]


def open_client(
    base_url: str | None, state_dir: Path | None, rate: float, oauth_token_file: Path | None
) -> GongClient:
    """A `GongClient` from the connection options (credentials from the environment or the
    OAuth token file)."""
    auth: BasicAuth | BearerAuth | OAuthToken
    auth = read_token_response(oauth_token_file) if oauth_token_file else auth_from_env()
    return GongClient(auth, base_url=base_url, rate_per_s=rate, state_dir=state_dir)
