"""Reading Gong's answers: success bodies and the ``{requestId, errors[]}`` error shape."""

from __future__ import annotations

from typing import Any

import httpx

from gong_client._retry import parse_retry_after_s
from gong_client.errors import ApiError, RateLimited, ServerError, api_error_for

__all__ = ["error_body", "error_from_response", "success_body"]


def error_body(response: httpx.Response) -> tuple[str | None, list[str]]:
    """Return ``(requestId, errors)`` from an error response, tolerating any body.

    A body that is not Gong's JSON shape (a proxy's HTML page, say) gives no requestId and
    its first line, shortened, as the only error.
    """
    try:
        body = response.json()
    except ValueError:
        first = response.text.strip().splitlines()[:1]
        return None, [first[0][:200]] if first else []
    if not isinstance(body, dict):
        return None, []
    rid = body.get("requestId")
    errors = body.get("errors")
    return (
        rid if isinstance(rid, str) and rid else None,
        [str(e) for e in errors] if isinstance(errors, list) else [],
    )


def error_from_response(
    response: httpx.Response, *, method: str, path: str, note: str = ""
) -> ApiError:
    """Build the typed error for an error response (status 400 or more).

    Parameters
    ----------
    response
        The final response of the request.
    method, path
        What was sent, for the message (the URL path only).
    note
        An extra clause for the message, e.g. what to do next.

    Returns
    -------
    ApiError
        The subclass matching the status; `RateLimited` carries ``retry_after_s``.
    """
    rid, errors = error_body(response)
    status = response.status_code
    cls = api_error_for(status)
    if cls is RateLimited:
        wait_s = parse_retry_after_s(response.headers.get("Retry-After"))
        when = f"retry after {wait_s:.0f} s" if wait_s is not None else ""
        return RateLimited(
            status,
            retry_after_s=wait_s,
            request_id=rid,
            errors=errors,
            method=method,
            path=path,
            note="; ".join(x for x in (when, note) if x),
        )
    return cls(status, request_id=rid, errors=errors, method=method, path=path, note=note)


def success_body(response: httpx.Response, *, method: str, path: str, needs: str) -> dict[str, Any]:
    """Parse a 2xx JSON body that must hold the string field ``needs``.

    Raises
    ------
    ServerError
        The body is not a JSON object with that field (a broken proxy or server).
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get(needs), str) and body[needs]:
        return body
    rid = body.get("requestId") if isinstance(body, dict) else None
    raise ServerError(
        response.status_code,
        request_id=rid if isinstance(rid, str) else None,
        errors=[f"the success response has no {needs!r}"],
        method=method,
        path=path,
    )
