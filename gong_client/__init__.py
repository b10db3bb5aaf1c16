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
