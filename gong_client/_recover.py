"""Finding the callId of a call that Gong created although its response never arrived.

When ``POST /v2/calls`` fails in a way that leaves its outcome unknown (a 5xx, a dropped
connection or a timeout after the request left), the retry carries the same clientUniqueId.
If Gong answers 409, the first attempt may well have created the call. Its callId is then
looked up with ``GET /v2/calls`` (list by date range; each entry carries ``clientUniqueId``)
over a window around the call's ``actualStart``. This needs the ``api:calls:read:basic``
scope for OAuth; without it, or if Gong does not list the call, the caller raises a
`ConflictError` that names the clientUniqueId and the requestIds to give Gong support.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

__all__ = ["find_call_id", "list_window"]

WINDOW_S = 120.0
MAX_PAGES = 50

Fetch = Callable[[dict[str, str]], httpx.Response]
"""Sends ``GET /v2/calls`` with the given query (with retries) and returns the response.

It raises instead when the listing failed for now (5xx, 429 after the allowed attempts): that
says nothing about the call, and running the upload again will look once more."""


def list_window(actual_start: str, window_s: float = WINDOW_S) -> tuple[str, str] | None:
    """Return ``(fromDateTime, toDateTime)`` in UTC around an ISO-8601 start, or ``None``."""
    text = actual_start.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        return None
    if start.tzinfo is None:
        return None
    start = start.astimezone(timezone.utc)
    half = timedelta(seconds=window_s / 2)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return (start - half).strftime(fmt), (start + half + timedelta(seconds=1)).strftime(fmt)


def find_call_id(call: dict[str, Any], fetch: Fetch) -> str | None:
    """Look a call up by its clientUniqueId among the calls listed around its start.

    Parameters
    ----------
    call
        The body that was posted (needs ``clientUniqueId`` and ``actualStart``).
    fetch
        Sends one ``GET /v2/calls`` page request.

    Returns
    -------
    str or None
        The callId, or ``None`` when no listed call carries that clientUniqueId (also when
        Gong refuses the listing, e.g. for want of the read scope). A listing that fails for
        now raises whatever ``fetch`` raises.
    """
    window = list_window(str(call.get("actualStart", "")))
    if window is None:
        return None
    cuid = call.get("clientUniqueId")
    query = {"fromDateTime": window[0], "toDateTime": window[1]}
    for _ in range(MAX_PAGES):
        response = fetch(query)
        if response.status_code != 200:
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        for listed in body.get("calls") or []:
            if isinstance(listed, dict) and listed.get("clientUniqueId") == cuid:
                found = listed.get("id")
                return str(found) if found else None
        cursor = (body.get("records") or {}).get("cursor")
        if not cursor:
            return None
        query = {**query, "cursor": str(cursor)}
    return None
