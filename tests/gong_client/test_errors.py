"""The exception tree, its messages, and the translation of every httpx error."""

from __future__ import annotations

import httpx
import pytest

from gong_client import errors
from gong_client._retry import map_httpx_errors
from gong_client.errors import (
    ApiError,
    AuthError,
    BadRequestError,
    ConflictError,
    GongError,
    InvalidCallError,
    NotFoundError,
    RateLimited,
    ServerError,
    TransportError,
    api_error_for,
)


def test_every_error_is_a_gong_error_and_not_a_misuse_error() -> None:
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type):
            assert issubclass(obj, GongError), name
            assert not issubclass(obj, (ValueError, TypeError, RuntimeError)), name


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthError),
        (403, AuthError),
        (404, NotFoundError),
        (409, ConflictError),
        (429, RateLimited),
        (500, ServerError),
        (503, ServerError),
        (418, ApiError),
    ],
)
def test_status_maps_to_its_class(status: int, cls: type[ApiError]) -> None:
    assert api_error_for(status) is cls


def test_api_error_message_carries_request_id_and_errors() -> None:
    error = ConflictError(
        409,
        request_id="4al018gzaztcr8nbukw",
        errors=["recording is not enabled for the primary user"],
        method="POST",
        path="/v2/calls",
    )
    text = str(error)
    assert "\n" not in text
    assert "4al018gzaztcr8nbukw" in text and "HTTP 409" in text and "POST /v2/calls" in text
    assert error.status_code == 409 and error.request_id == "4al018gzaztcr8nbukw"
    assert error.errors == ["recording is not enabled for the primary user"]


def test_rate_limited_carries_retry_after() -> None:
    error = RateLimited(retry_after_s=30.0, request_id="r1", note="retry after 30 s")
    assert error.retry_after_s == 30.0 and "retry after 30 s" in str(error)


def test_invalid_call_error_lists_problems_and_counts_the_rest() -> None:
    error = InvalidCallError([f"$.parties[{i}].name: bad" for i in range(7)], source="c.json")
    text = str(error)
    assert text.startswith("c.json: invalid call metadata: $.parties[0].name: bad")
    assert "(and 2 more)" in text and len(error.problems) == 7


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


@pytest.mark.parametrize("exc_class", _all_subclasses(httpx.HTTPError), ids=lambda c: c.__name__)
def test_every_httpx_error_becomes_a_transport_error(exc_class: type[httpx.HTTPError]) -> None:
    request = httpx.Request("POST", "https://api.gong.io/v2/calls")
    if issubclass(exc_class, httpx.HTTPStatusError):
        exc = exc_class("boom", request=request, response=httpx.Response(500, request=request))
    else:
        exc = exc_class("boom", request=request)
    with pytest.raises(TransportError) as caught, map_httpx_errors("POST", "/v2/calls", 3):
        raise exc
    assert caught.value.cause == exc_class.__name__
    assert caught.value.attempts == 3
    assert caught.value.__cause__ is exc
    assert "POST /v2/calls" in str(caught.value) and "3 attempt" in str(caught.value)
