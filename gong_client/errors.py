"""Every error the `gong_client` package raises on purpose.

```
GongError                     root: the CLI prints it on one line and exits 1
├── ConfigError               missing or contradictory credentials, a bad base URL
├── InvalidCallError          the call JSON breaks the contract; caught before sending (.problems)
├── MediaError                the recording would be refused: format, size, unreadable (.path)
├── JournalError              the local upload journal cannot be used (.path)
├── TransportError            no usable HTTP response after the allowed attempts (.cause)
└── ApiError                  Gong answered with an error (.status_code, .request_id, .errors)
    ├── BadRequestError       400: malformed request
    ├── AuthError             401 / 403: wrong, revoked or wrong-region credentials
    ├── NotFoundError         404
    ├── ConflictError         409: e.g. a repeated clientUniqueId, recording not enabled
    ├── RateLimited           429: over the company's limit (.retry_after_s)
    └── ServerError           5xx
```

Misuse of the API (a wrong type, an impossible argument) raises `ValueError` or `TypeError`
instead, so that ``except GongError`` never hides a programming bug. No message, attribute or
repr of these classes ever holds a credential: they are built from the status, Gong's
``requestId`` and ``errors[]``, the method and the URL path only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gong_client.contract import describe_problems

__all__ = [
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
    "api_error_for",
]


class GongError(Exception):
    """Root of the errors raised by `gong_client`; its message is one line meant for a user."""


class ConfigError(GongError):
    """Credentials are missing or contradictory, or a base URL is not usable."""


class InvalidCallError(GongError):
    """The call metadata breaks the ``POST /v2/calls`` contract; nothing was sent.

    ``problems`` holds objects with ``.path`` and ``.message`` (``diarize.errors.Problem``).
    """

    def __init__(self, problems: Sequence[object], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(describe_problems(self.problems, source))


class MediaError(GongError):
    """A recording cannot be sent: unreadable, empty, too large, or not WAV/MP3/MP4/MKV/FLAC."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class JournalError(GongError):
    """The local upload journal cannot be opened, read or written, or refuses a resume."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"upload journal {self.path}: {reason}")


class TransportError(GongError):
    """No usable HTTP response came back (connection refused, dropped, timed out).

    ``cause`` names the underlying error class (e.g. ``"ConnectError"``); ``attempts`` is how
    many times the request was sent.
    """

    def __init__(self, message: str, *, cause: str = "", attempts: int = 1) -> None:
        self.cause = cause
        self.attempts = attempts
        super().__init__(message)


class ApiError(GongError):
    """Gong answered with an error status.

    Attributes
    ----------
    status_code
        The HTTP status.
    request_id
        Gong's ``requestId`` (what Gong support asks for), or ``None`` when the body had none.
    errors
        Gong's ``errors[]`` messages.
    method, path
        The request that failed (the URL path only; no query, no credentials).
    """

    def __init__(
        self,
        status_code: int,
        *,
        request_id: str | None = None,
        errors: Sequence[str] = (),
        method: str = "",
        path: str = "",
        note: str = "",
    ) -> None:
        self.status_code = status_code
        self.request_id = request_id
        self.errors = [str(e) for e in errors]
        self.method = method
        self.path = path
        what = f"{method} {path} " if method else ""
        detail = "; ".join(self.errors) if self.errors else "no error message"
        rid = f" (requestId {request_id})" if request_id else " (no requestId)"
        extra = f"; {note}" if note else ""
        super().__init__(f"{what}failed with HTTP {status_code}: {detail}{rid}{extra}")


class BadRequestError(ApiError):
    """400 (or 413): Gong found the request malformed, or its body too large."""


class AuthError(ApiError):
    """401 or 403: credentials wrong, revoked, missing the scope, or for another region."""


class NotFoundError(ApiError):
    """404: the call id or the listed period is unknown to Gong."""


class ConflictError(ApiError):
    """409: e.g. the clientUniqueId was used before, or recording is off for the primary user."""


class ServerError(ApiError):
    """5xx: Gong failed to complete the operation."""


class RateLimited(ApiError):
    """429: the company's request limit is exhausted; ``retry_after_s`` says for how long."""

    def __init__(
        self,
        status_code: int = 429,
        *,
        retry_after_s: float | None = None,
        request_id: str | None = None,
        errors: Sequence[str] = (),
        method: str = "",
        path: str = "",
        note: str = "",
    ) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(
            status_code, request_id=request_id, errors=errors, method=method, path=path, note=note
        )


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthError,
    403: AuthError,
    404: NotFoundError,
    409: ConflictError,
    413: BadRequestError,
    429: RateLimited,
}


def api_error_for(status_code: int) -> type[ApiError]:
    """Return the `ApiError` subclass that stands for an HTTP error status.

    Parameters
    ----------
    status_code
        An HTTP status of 400 or more.

    Returns
    -------
    type
        `ServerError` for any 5xx, the class in the tree for a known 4xx, else `ApiError`.
    """
    if status_code >= 500:
        return ServerError
    return _BY_STATUS.get(status_code, ApiError)
