"""The Gong call contract: the JSON body of ``POST /v2/calls``, checked field by field.

The rules come from Gong's ``NewCallAddingRequest`` schema and its prose (required fields,
enums, lengths, ISO-8601 times with an offset, ``mediaChannelId`` in {0, 1}, the language
list, one party for ``primaryUser``, ``partyId`` references in ``speakersTimeline``). Where the
contract is silent the checks follow what a careful user expects. `check_call` walks a parsed
call and returns every problem with its JSON path (``$.parties[1].mediaChannelId``); unknown
keys are allowed, as the schema does not forbid them.

The client, its emulator and the audio side (`diarize.call`, which checks a call before any
audio is read) all use this one definition. It imports nothing beyond the standard library.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from gong_client._contract_terms import (
    CALL_OBJECT_TYPES,
    CLIENT_UNIQUE_ID_MAX_CHARS,
    CONTEXT_SYSTEMS,
    DIRECTIONS,
    FREE_TEXT_MAX_CHARS,
    INT32_MAX,
    LANGUAGE_CODES,
    PARTY_OBJECT_TYPES,
    Problem,
    article,
    describe_problems,
    kind,
    not_allowed,
    parse_time,
    show,
)

__all__ = [
    "CALL_OBJECT_TYPES",
    "CLIENT_UNIQUE_ID_MAX_CHARS",
    "CONTEXT_SYSTEMS",
    "DIRECTIONS",
    "FREE_TEXT_MAX_CHARS",
    "INT32_MAX",
    "LANGUAGE_CODES",
    "PARTY_OBJECT_TYPES",
    "Problem",
    "check_call",
    "describe_problems",
    "kind",
]

_MISSING: Any = object()
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def check_call(call: object, require_timeline_party_ids: bool) -> list[Problem]:
    """Every contract problem of a parsed call, in document order."""
    ck = _Checker()
    if not isinstance(call, Mapping):
        ck.add("$", f"must be a JSON object, got {kind(call)}")
        return ck.problems
    _check_fields(ck, call)
    parties = _check_parties(ck, call)
    if parties is not None:
        _check_primary_user(ck, call, parties)
    _check_timeline(ck, call, parties, require_timeline_party_ids)
    return ck.problems


class _Checker:
    """Collects problems; typed accessors record a problem and return ``_MISSING`` on misfit."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def get(
        self, obj: Mapping, key: str, path: str, kinds: set[str], *, required: bool = False
    ) -> Any:
        where = f"{path}.{key}"
        if key not in obj:
            if required:
                near = [k for k in obj if isinstance(k, str) and k.lower() == key.lower()]
                hint = f" (found {near[0]!r}; keys are case-sensitive)" if near else ""
                self.add(where, f"is required{hint}")
            return _MISSING
        value = obj[key]
        if kind(value) not in kinds:
            wanted = " or ".join(sorted(kinds - {"integer"} if "number" in kinds else kinds))
            omit = " (omit the field instead)" if value is None and not required else ""
            self.add(where, f"must be {article(wanted)}, got {kind(value)}{omit}")
            return _MISSING
        return value

    def string(
        self,
        obj: Mapping,
        key: str,
        path: str,
        *,
        required: bool = False,
        non_empty: bool = False,
        max_chars: int | None = None,
        allowed: frozenset[str] | None = None,
    ) -> str | None:
        value = self.get(obj, key, path, {"string"}, required=required)
        if value is _MISSING:
            return None
        where = f"{path}.{key}"
        if non_empty and not value.strip():
            self.add(where, "must not be empty")
            return None
        if max_chars is not None and len(value) > max_chars:
            self.add(where, f"must be at most {max_chars} characters, got {len(value)}")
        if allowed is not None and value not in allowed:
            self.add(where, not_allowed(value, allowed))
            return None
        return value

    def array(self, obj: Mapping, key: str, path: str, *, required: bool = False) -> list | None:
        value = self.get(obj, key, path, {"array"}, required=required)
        return None if value is _MISSING else value

    def time(self, obj: Mapping, key: str, path: str, *, required: bool = False) -> datetime | None:
        value = self.string(obj, key, path, required=required)
        if value is None:
            return None
        when, error = parse_time(value)
        if error:
            self.add(f"{path}.{key}", error)
        return when


def _check_fields(ck: _Checker, call: Mapping) -> None:
    """Top-level scalar fields, call context, URLs and language."""
    ck.string(
        call,
        "clientUniqueId",
        "$",
        required=True,
        non_empty=True,
        max_chars=CLIENT_UNIQUE_ID_MAX_CHARS,
    )
    ck.time(call, "actualStart", "$", required=True)
    ck.string(call, "direction", "$", required=True, allowed=DIRECTIONS)
    primary = ck.string(call, "primaryUser", "$", required=True, non_empty=True)
    if primary is not None and "@" in primary:
        ck.add("$.primaryUser", "must be a Gong user id, not an e-mail address")
    for key in ("title", "customData", "meetingUrl", "callProviderCode"):
        ck.string(call, key, "$")
    for key in ("purpose", "disposition"):
        ck.string(call, key, "$", max_chars=FREE_TEXT_MAX_CHARS)
    ck.string(call, "workspaceId", "$", non_empty=True)
    ck.string(call, "languageCode", "$", allowed=LANGUAGE_CODES)
    start = ck.time(call, "scheduledStart", "$")
    end = ck.time(call, "scheduledEnd", "$")
    if start is not None and end is not None and end < start:
        ck.add("$.scheduledEnd", "is before scheduledStart")
    duration = ck.get(call, "duration", "$", {"number", "integer"})
    if duration is not _MISSING and not (math.isfinite(duration) and duration >= 0):
        ck.add("$.duration", f"must be a number of seconds >= 0, got {duration}")
    url = ck.string(call, "downloadMediaUrl", "$", non_empty=True)
    if url is not None:
        _check_url(ck, url, "$.downloadMediaUrl")
    contexts = ck.array(call, "context", "$")
    if contexts is not None:
        _check_context(ck, contexts, "$.context", CALL_OBJECT_TYPES)
    flow = ck.get(call, "flowContext", "$", {"object"})
    if flow is not _MISSING:
        ck.get(flow, "taskId", "$.flowContext", {"string", "integer"})


def _check_url(ck: _Checker, url: str, path: str) -> None:
    """An absolute http(s) URL with a host; the URL itself is never echoed (it may be signed)."""
    try:
        parts = urlsplit(url)
        ok_port = parts.port is None or parts.port > 0
    except ValueError:
        ck.add(path, "is not a valid URL")
        return
    if parts.scheme not in ("http", "https"):
        shown = f"scheme {parts.scheme!r}" if parts.scheme else "a relative URL"
        ck.add(path, f"must be an absolute http(s) URL, got {shown}")
    elif not parts.hostname or not ok_port or any(c.isspace() for c in url):
        ck.add(path, "must be an absolute http(s) URL with a valid host and no spaces")


def _check_context(ck: _Checker, contexts: list, path: str, object_types: frozenset) -> None:
    """``context[]`` of the call or of a party: systems, objects and their fields."""
    for i, entry in enumerate(contexts):
        where = f"{path}[{i}]"
        if not isinstance(entry, Mapping):
            ck.add(where, f"must be an object, got {kind(entry)}")
            continue
        ck.string(entry, "system", where, required=True, allowed=CONTEXT_SYSTEMS)
        for j, obj in enumerate(ck.array(entry, "objects", where) or []):
            at = f"{where}.objects[{j}]"
            if not isinstance(obj, Mapping):
                ck.add(at, f"must be an object, got {kind(obj)}")
                continue
            ck.string(obj, "objectType", at, required=True, allowed=object_types)
            ck.string(obj, "objectId", at, required=True, non_empty=True)
            for k, field in enumerate(ck.array(obj, "fields", at) or []):
                if not isinstance(field, Mapping):
                    ck.add(f"{at}.fields[{k}]", f"must be an object, got {kind(field)}")
                    continue
                # "value" is any JSON value: the schema says object, its own example is text.
                ck.string(field, "name", f"{at}.fields[{k}]")


def _check_parties(ck: _Checker, call: Mapping) -> list[tuple[int, Mapping]] | None:
    """Each party's fields, unique partyIds and one rep channel; returns the party objects."""
    parties = ck.array(call, "parties", "$", required=True)
    if parties is None:
        return None
    if not parties:
        ck.add("$.parties", "must list at least one party (one for primaryUser)")
    seen_ids: dict[str, int] = {}
    channel: tuple[int, int] | None = None  # (party index, mediaChannelId)
    good: list[tuple[int, Mapping]] = []
    for i, party in enumerate(parties):
        where = f"$.parties[{i}]"
        if not isinstance(party, Mapping):
            ck.add(where, f"must be an object, got {kind(party)}")
            continue
        good.append((i, party))
        for key in ("phoneNumber", "name"):
            ck.string(party, key, where)
        email = ck.string(party, "emailAddress", where)
        if email is not None and not _EMAIL_RE.fullmatch(email):
            ck.add(f"{where}.emailAddress", f"is not an e-mail address: {show(email)}")
        user_id = ck.string(party, "userId", where, non_empty=True)
        if user_id is not None and "@" in user_id:
            ck.add(f"{where}.userId", "must be a Gong user id, not an e-mail address")
        party_id = ck.string(party, "partyId", where, non_empty=True)
        if party_id is not None:
            if party_id in seen_ids:
                first = f"$.parties[{seen_ids[party_id]}]"
                ck.add(f"{where}.partyId", f"{show(party_id)} is already the partyId of {first}")
            seen_ids.setdefault(party_id, i)
        channel = _check_channel(ck, party, where, channel, i)
        contexts = ck.array(party, "context", where)
        if contexts is not None:
            _check_context(ck, contexts, f"{where}.context", PARTY_OBJECT_TYPES)
    return good


def _check_channel(
    ck: _Checker, party: Mapping, where: str, first: tuple[int, int] | None, index: int
) -> tuple[int, int] | None:
    """``mediaChannelId`` is 0 or 1, and every party that carries one names the same channel."""
    value = ck.get(party, "mediaChannelId", where, {"integer"})
    if value is _MISSING:
        return first
    if value not in (0, 1):
        ck.add(f"{where}.mediaChannelId", f"must be 0 or 1, got {value}")
        return first
    if first is None:
        return (index, value)
    if first[1] != value:
        ck.add(
            f"{where}.mediaChannelId",
            f"is {value} but $.parties[{first[0]}].mediaChannelId is {first[1]}: it marks the"
            " rep's channel, so all parties that carry it must name the same channel",
        )
    return first


def _check_primary_user(ck: _Checker, call: Mapping, parties: list[tuple[int, Mapping]]) -> None:
    """Exactly one party has ``userId == primaryUser``."""
    primary = call.get("primaryUser")
    if not isinstance(primary, str) or not primary.strip() or "@" in primary or not parties:
        return
    hosts = [i for i, party in parties if party.get("userId") == primary]
    if not hosts:
        ck.add(
            "$.parties",
            f"no party has userId equal to primaryUser {show(primary)}; add the host as a"
            f' party with "userId": {json.dumps(primary)}',
        )
    elif len(hosts) > 1:
        listed = ", ".join(f"$.parties[{i}]" for i in hosts)
        ck.add(
            "$.parties",
            f"{len(hosts)} parties ({listed}) have userId equal to primaryUser"
            f" {show(primary)}; exactly one must",
        )


def _check_timeline(
    ck: _Checker,
    call: Mapping,
    parties: list[tuple[int, Mapping]] | None,
    require_party_ids: bool,
) -> None:
    """``speakersTimeline``: shape, integer milliseconds, and partyIds that resolve."""
    timeline = ck.get(call, "speakersTimeline", "$", {"object"})
    if timeline is _MISSING:
        return
    ck.get(timeline, "precise", "$.speakersTimeline", {"boolean"})
    segments = ck.array(timeline, "speechSegments", "$.speakersTimeline", required=True)
    known = None  # None: references cannot be judged (a party entry is not even an object)
    if parties is not None:
        if len(parties) == len(call["parties"]):
            known = {p["partyId"] for _, p in parties if isinstance(p.get("partyId"), str)}
        if require_party_ids:
            for i, party in parties:
                if "partyId" not in party:
                    ck.add(f"$.parties[{i}].partyId", "is required when speakersTimeline is sent")
    for i, segment in enumerate(segments or []):
        where = f"$.speakersTimeline.speechSegments[{i}]"
        if not isinstance(segment, Mapping):
            ck.add(where, f"must be an object, got {kind(segment)}")
            continue
        _check_segment(ck, segment, where, known)


def _check_segment(ck: _Checker, segment: Mapping, where: str, known: set[str] | None) -> None:
    """One speech segment: ``0 <= fromTime < toTime`` (int32 ms) and its party ids."""
    times = []
    for key in ("fromTime", "toTime"):
        value = ck.get(segment, key, where, {"integer"}, required=True)
        if value is not _MISSING and not 0 <= value <= INT32_MAX:
            ck.add(f"{where}.{key}", f"must be between 0 and {INT32_MAX} ms, got {value}")
            value = _MISSING
        times.append(value)
    if _MISSING not in times and times[1] <= times[0]:
        ck.add(f"{where}.toTime", f"must be after fromTime ({times[0]} ms), got {times[1]} ms")
    party_ids = ck.array(segment, "partyIds", where, required=True)
    if party_ids is None:
        return
    if not party_ids:
        ck.add(f"{where}.partyIds", "must name at least one party")
    seen: set[str] = set()
    for k, party_id in enumerate(party_ids):
        at = f"{where}.partyIds[{k}]"
        if not isinstance(party_id, str):
            ck.add(at, f"must be a string, got {kind(party_id)}")
        elif not party_id.strip():
            ck.add(at, "must not be empty")
        elif party_id in seen:
            ck.add(at, f"{show(party_id)} is listed twice")
        elif known is not None and party_id not in known:
            ck.add(at, f"{show(party_id)} is not the partyId of any party")
        if isinstance(party_id, str):
            seen.add(party_id)
