"""When and how long to retry one request, and the translation of httpx errors.

Rules
-----
- 2xx: done. 400, 401, 403, 404, 409 and other 4xx: never retried (sending the same request
  again cannot change the answer).
- 429: wait ``Retry-After`` seconds (an HTTP date or missing value is handled; a wait longer
  than `RetryPolicy.max_retry_after_s`, as for the daily limit, raises `RateLimited` at once)
  and pause the shared limiter for everyone; bounded by `RetryPolicy.max_throttled`.
- 5xx and transport errors (refused, reset, dropped, timed out): bounded attempts with
  exponential backoff and "equal jitter" (half fixed, half random), so that threads and
  processes that failed together do not come back together.

Whether retrying is *safe* is the caller's business: ``PUT /v2/calls/{id}/media`` replaces
the media of one call, so repeating it is harmless. ``POST /v2/calls`` is not idempotent, but
Gong refuses a second call with the same ``clientUniqueId``; `Outcome.uncertain` tells the
caller that an earlier attempt may have been processed (a 5xx, or a failure after the request
left), so that a 409 on the retry is read as "possibly created by us" (see ``client.py``).
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx

from gong_client._ratelimit import RateLimiter
from gong_client.errors import TransportError

__all__ = [
    "NOT_SENT_ERRORS",
    "Outcome",
    "RetryPolicy",
    "map_httpx_errors",
    "parse_retry_after_s",
    "send_with_retry",
]

logger = logging.getLogger("gong_client")

NOT_SENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
"""Failures that happen before any byte of the request reached the server."""

_NOT_RETRIED: tuple[type[httpx.TransportError], ...] = (
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)
"""Our own mistakes: the same request would fail the same way."""


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds and backoff for retrying one request.

    Parameters
    ----------
    max_attempts
        Sends of one request when it fails with 5xx or a transport error (1 = no retry).
    max_throttled
        429 answers waited out for one request before `RateLimited` is raised.
    base_delay_s, max_delay_s
        The backoff before retry ``n`` is drawn from ``[d/2, d]`` with
        ``d = min(max_delay_s, base_delay_s * 2 ** (n - 1))``.
    max_retry_after_s
        A ``Retry-After`` longer than this is not waited out: `RateLimited` is raised.
    default_retry_after_s
        Wait used when a 429 carries no usable ``Retry-After``.
    """

    max_attempts: int = 5
    max_throttled: int = 8
    base_delay_s: float = 0.5
    max_delay_s: float = 20.0
    max_retry_after_s: float = 120.0
    default_retry_after_s: float = 1.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.max_throttled < 0:
            raise ValueError("max_attempts must be >= 1 and max_throttled >= 0")
        if self.base_delay_s < 0 or self.max_delay_s < self.base_delay_s:
            raise ValueError("need 0 <= base_delay_s <= max_delay_s")

    def backoff_s(self, failures: int, rng: random.Random) -> float:
        """Return the delay before the next attempt after ``failures`` failed ones (>= 1)."""
        cap_s = min(self.max_delay_s, self.base_delay_s * 2 ** max(0, failures - 1))
        return cap_s / 2 + rng.uniform(0, cap_s / 2)


@dataclass
class Outcome:
    """The final response of a request after retries, and what happened on the way."""

    response: httpx.Response
    attempts: int = 1
    uncertain: bool = False
    """An earlier attempt of this request may have been processed by the server."""
    request_ids: list[str] = field(default_factory=list)
    """Gong ``requestId`` of each failed attempt, oldest first."""


def parse_retry_after_s(value: str | None, *, now_s: float | None = None) -> float | None:
    """Read a ``Retry-After`` header (seconds or an HTTP date) as seconds from now.

    Parameters
    ----------
    value
        The header value.
    now_s
        The current Unix time (for HTTP dates); ``time.time()`` by default.

    Returns
    -------
    float or None
        Non-negative seconds, or ``None`` when the value is missing or unreadable.
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now_s is None else now_s))


@contextlib.contextmanager
def map_httpx_errors(method: str, path: str, attempts: int = 1) -> Iterator[None]:
    """Turn any `httpx.HTTPError` raised inside the block into our `TransportError`.

    The message names the request and the error class, never headers or credentials.
    """
    try:
        yield
    except httpx.HTTPError as exc:
        name = type(exc).__name__
        raise TransportError(
            f"{method} {path}: no usable response after {attempts} attempt(s) ({name}: "
            f"{_describe(exc)})",
            cause=name,
            attempts=attempts,
        ) from exc


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else "no detail"


def send_with_retry(
    send: Callable[[], httpx.Response],
    *,
    method: str,
    path: str,
    policy: RetryPolicy,
    limiter: RateLimiter,
    rng: random.Random,
    sleep: Callable[[float], None],
) -> Outcome:
    """Send a request (built afresh by ``send`` on each attempt) under the retry rules above.

    Returns
    -------
    Outcome
        The last response, which may be an error status that is not retried (the caller
        raises it), with the number of attempts and whether an earlier one may have counted.

    Raises
    ------
    TransportError
        Every allowed attempt failed without a response.
    RateLimited
        ``Retry-After`` is too long, or too many 429s in a row.
    """
    attempts = failures = throttled = 0
    uncertain = False
    request_ids: list[str] = []

    def done(response: httpx.Response) -> Outcome:
        return Outcome(response, attempts, uncertain, request_ids)

    while True:
        attempts += 1
        try:
            response = send()
        except httpx.TransportError as exc:
            if isinstance(exc, _NOT_RETRIED) or failures + 1 >= policy.max_attempts:
                with map_httpx_errors(method, path, attempts):
                    raise
            if not isinstance(exc, NOT_SENT_ERRORS):
                uncertain = True
            failures += 1
            _wait(sleep, policy.backoff_s(failures, rng), method, path, type(exc).__name__)
            continue
        status = response.status_code
        if status == 429:
            throttled += 1
            request_ids.append(_request_id(response))
            wait_s = parse_retry_after_s(response.headers.get("Retry-After"))
            if wait_s is None:
                wait_s = policy.default_retry_after_s
            if throttled > policy.max_throttled or wait_s > policy.max_retry_after_s:
                return done(response)
            # a little jitter on top, so that clients refused together do not return together
            limiter.pause_for(wait_s + rng.uniform(0, 0.1 * wait_s + 0.05))
            logger.info("%s %s: HTTP 429, waiting %.1f s (Retry-After)", method, path, wait_s)
            continue
        if status >= 500 and failures + 1 < policy.max_attempts:
            uncertain = True
            request_ids.append(_request_id(response))
            failures += 1
            _wait(sleep, policy.backoff_s(failures, rng), method, path, f"HTTP {status}")
            continue
        if status >= 500:
            uncertain = True
        return done(response)


def _wait(sleep: Callable[[float], None], delay_s: float, method: str, path: str, why: str) -> None:
    logger.info("%s %s: %s, retrying in %.2f s", method, path, why, delay_s)
    sleep(delay_s)


def _request_id(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    rid = body.get("requestId") if isinstance(body, dict) else None
    return rid if isinstance(rid, str) else ""
