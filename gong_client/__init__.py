"""Upload enriched calls to Gong: a careful client for the two-step upload, and its emulator.

```python
from gong_client import GongClient

with GongClient() as gong:            # credentials and tenant URL from the environment
    result = gong.upload_call("call.wav", call)
    print(result.call_id, result.url)
```

The emulator (a local Gong for dry runs and tests) lives in `gong_client.emulator`; the
console script in `gong_client.cli`. Errors are in `gong_client.errors`.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Names load on first use, so that `gong_client.contract` (the call checks the audio side
# uses too) and `gong_client.errors` import without httpx.
_LAZY = {
    "BasicAuth": "gong_client._auth",
    "BearerAuth": "gong_client._auth",
    "OAuthToken": "gong_client._auth",
    "auth_from_env": "gong_client._auth",
    "read_token_response": "gong_client._auth",
    "DEFAULT_BASE_URL": "gong_client._config",
    "MAX_MEDIA_BYTES": "gong_client._config",
    "resolve_base_url": "gong_client._config",
    "Journal": "gong_client._journal",
    "check_media": "gong_client._media",
    "sha256_file": "gong_client._media",
    "RateLimiter": "gong_client._ratelimit",
    "RetryPolicy": "gong_client._retry",
    "GongClient": "gong_client.client",
    "UploadResult": "gong_client.client",
    **{
        name: "gong_client.errors"
        for name in (
            "ApiError",
            "AuthError",
            "BadRequestError",
            "ConfigError",
            "ConflictError",
            "GongError",
            "InvalidCallError",
            "JournalError",
            "MediaError",
            "NotFoundError",
            "RateLimited",
            "ServerError",
            "TransportError",
        )
    },
}

if TYPE_CHECKING:
    from gong_client._auth import (
        BasicAuth,
        BearerAuth,
        OAuthToken,
        auth_from_env,
        read_token_response,
    )
    from gong_client._config import DEFAULT_BASE_URL, MAX_MEDIA_BYTES, resolve_base_url
    from gong_client._journal import Journal
    from gong_client._media import check_media, sha256_file
    from gong_client._ratelimit import RateLimiter
    from gong_client._retry import RetryPolicy
    from gong_client.client import GongClient, UploadResult
    from gong_client.errors import (
        ApiError,
        AuthError,
        BadRequestError,
        ConfigError,
        ConflictError,
        GongError,
        InvalidCallError,
        JournalError,
        MediaError,
        NotFoundError,
        RateLimited,
        ServerError,
        TransportError,
    )

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_MEDIA_BYTES",
    "ApiError",
    "AuthError",
    "BadRequestError",
    "BasicAuth",
    "BearerAuth",
    "ConfigError",
    "ConflictError",
    "GongClient",
    "GongError",
    "InvalidCallError",
    "Journal",
    "JournalError",
    "MediaError",
    "NotFoundError",
    "OAuthToken",
    "RateLimited",
    "RateLimiter",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "UploadResult",
    "auth_from_env",
    "check_media",
    "read_token_response",
    "resolve_base_url",
    "sha256_file",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gong_client' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
