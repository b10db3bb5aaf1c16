"""The call metadata (the JSON body of Gong's ``POST /v2/calls``): loading and validation.

The rules are Gong's contract, defined once on the API side (`gong_client.contract`): every
problem is collected with its JSON path (``$.parties[1].mediaChannelId``). This module reads
the file and raises `CallValidationError`, so that the audio side checks a call before any
audio is read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from diarize.errors import CallValidationError, Problem
from gong_client.contract import (
    CALL_OBJECT_TYPES,
    CONTEXT_SYSTEMS,
    DIRECTIONS,
    LANGUAGE_CODES,
    PARTY_OBJECT_TYPES,
    check_call,
    kind,
)

__all__ = [
    "CALL_OBJECT_TYPES",
    "CONTEXT_SYSTEMS",
    "DIRECTIONS",
    "LANGUAGE_CODES",
    "PARTY_OBJECT_TYPES",
    "load_call",
    "party_key",
    "problems_in_call",
    "validate_call",
]


def load_call(path: str | os.PathLike) -> dict:
    """Read a call JSON file (the body of ``POST /v2/calls``) without validating it.

    Parameters
    ----------
    path
        The JSON file; UTF-8, a leading byte-order mark is tolerated.

    Returns
    -------
    dict
        The parsed top-level object.

    Raises
    ------
    CallValidationError
        The file is missing or unreadable, is not UTF-8, is not JSON (the message gives line
        and column), repeats a key within one object, uses NaN/Infinity, or is not an object.
        The single problem has the path ``"$"``.
    """
    source = str(path)

    def fail(reason: str) -> CallValidationError:
        return CallValidationError([Problem("$", reason)], source)

    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise fail("file not found") from None
    except IsADirectoryError:
        raise fail("is a directory, not a JSON file") from None
    except OSError as exc:
        raise fail(f"cannot read the file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text (bad byte at offset {exc.start})") from None
    if not text.strip():
        raise fail("the file is empty")
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise fail(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except _JsonValueError as exc:
        raise fail(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise fail("invalid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise fail(f"must be a JSON object, got {kind(data)}")
    return data


def validate_call(
    call: object, *, source: str | None = None, require_timeline_party_ids: bool = True
) -> None:
    """Check a call against the ``POST /v2/calls`` contract and raise on any problem.

    Parameters
    ----------
    call
        The parsed call JSON.
    source
        Where the call came from (a file name), shown in the error message.
    require_timeline_party_ids
        When a ``speakersTimeline`` is present, require a ``partyId`` on every party (Gong's
        rule). ``False`` only checks that the timeline's references resolve.

    Raises
    ------
    CallValidationError
        With ``.problems`` listing every problem found, each with its JSON path.
    """
    problems = problems_in_call(call, require_timeline_party_ids=require_timeline_party_ids)
    if problems:
        raise CallValidationError(problems, source)


def problems_in_call(call: object, *, require_timeline_party_ids: bool = True) -> list[Problem]:
    """Return every contract problem of a call, in document order (empty when it is valid).

    Parameters
    ----------
    call
        The parsed call JSON.
    require_timeline_party_ids
        As in `validate_call`.

    Returns
    -------
    list of Problem
        Each with a JSON path such as ``$.parties[1].mediaChannelId`` and a message.
    """
    return check_call(call, require_timeline_party_ids)


def party_key(party: dict) -> str | None:
    """Return the key that identifies a party's voice across calls, or ``None``.

    Parameters
    ----------
    party
        One entry of the call's ``parties``.

    Returns
    -------
    str or None
        The Gong ``userId`` when present, else the lower-cased ``emailAddress``.
    """
    user_id = party.get("userId")
    if isinstance(user_id, str) and user_id.strip():
        return user_id.strip()
    email = party.get("emailAddress")
    if isinstance(email, str) and email.strip():
        return email.strip().lower()
    return None


class _JsonValueError(ValueError):
    """Valid for Python's json module, but not JSON a careful sender produces."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _JsonValueError(f"key {key!r} appears twice in one object")
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    raise _JsonValueError(f"{name} is not a JSON value")
