"""The CSV column convention: one dialer-export row becomes one ``POST /v2/calls`` body.

Header names are matched without regard to case, spaces, dashes or camelCase
(``Actual Start``, ``actualStart`` and ``actual_start`` are one column). Columns not listed
here are ignored, so a dialer's export can be used as it is.

==================  ==========================================  ===============================
column              also accepted as                            becomes
==================  ==========================================  ===============================
recording *         audio, recording_path, recording_file,      the recording (relative to the
                    file, filename                              CSV's folder)
actual_start *      start_time, started_at, call_start, start   ``actualStart``: ISO 8601 with
                                                                ``Z`` or an offset
rep_user_id *       agent_user_id, gong_user_id, user_id        ``primaryUser`` and the rep
                                                                party's ``userId``
client_unique_id    unique_id, call_id, recording_id            ``clientUniqueId`` (default:
                                                                ``sha256-`` of the recording)
direction           call_direction                              ``direction``: inbound / in,
                                                                outbound / out, conference,
                                                                unknown (default)
title               subject                                     ``title``
purpose                                                         ``purpose``
disposition         outcome, call_result, wrap_up               ``disposition``
duration            duration_s, duration_seconds, talk_time     ``duration``: seconds, or
                                                                ``[H:]MM:SS``
language            language_code, locale                       ``languageCode`` (``en-US``)
scheduled_start                                                 ``scheduledStart``
scheduled_end                                                   ``scheduledEnd``
rep_name            agent_name                                  the rep party's ``name``
rep_email           agent_email                                 its ``emailAddress``
rep_phone           agent_phone, extension                      its ``phoneNumber``
rep_channel         agent_channel                               its ``mediaChannelId``: left /
                                                                0, right / 1
customer_name       contact_name, customer                      the customer party's ``name``
customer_phone      contact_phone, phone_number, phone          its ``phoneNumber``
customer_email      contact_email                               its ``emailAddress``
meeting_url                                                     ``meetingUrl``
workspace_id                                                    ``workspaceId``
call_provider_code                                              ``callProviderCode``
==================  ==========================================  ===============================

(* required.) The rep is always the first party; a customer party is added when any
``customer_*`` value is given. An empty cell means "not given".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["COLUMNS", "CsvRowError", "call_from_row", "column_for_path", "normalise_header"]

COLUMNS: dict[str, tuple[str, ...]] = {
    "recording": ("audio", "recording_path", "recording_file", "file", "filename"),
    "actual_start": ("start_time", "started_at", "call_start", "start"),
    "rep_user_id": ("agent_user_id", "gong_user_id", "user_id"),
    "client_unique_id": ("unique_id", "call_id", "recording_id"),
    "direction": ("call_direction",),
    "title": ("subject",),
    "purpose": (),
    "disposition": ("outcome", "call_result", "wrap_up"),
    "duration": ("duration_s", "duration_seconds", "talk_time"),
    "language": ("language_code", "locale"),
    "scheduled_start": (),
    "scheduled_end": (),
    "rep_name": ("agent_name",),
    "rep_email": ("agent_email",),
    "rep_phone": ("agent_phone", "extension"),
    "rep_channel": ("agent_channel",),
    "customer_name": ("contact_name", "customer"),
    "customer_phone": ("contact_phone", "phone_number", "phone"),
    "customer_email": ("contact_email",),
    "meeting_url": (),
    "workspace_id": (),
    "call_provider_code": (),
}
REQUIRED = ("recording", "actual_start", "rep_user_id")
_ALIASES = {alias: name for name, aliases in COLUMNS.items() for alias in (name, *aliases)}
_PLAIN = {
    "client_unique_id": "clientUniqueId",
    "title": "title",
    "purpose": "purpose",
    "disposition": "disposition",
    "language": "languageCode",
    "meeting_url": "meetingUrl",
    "workspace_id": "workspaceId",
    "call_provider_code": "callProviderCode",
}
_TIMES = {
    "actual_start": "actualStart",
    "scheduled_start": "scheduledStart",
    "scheduled_end": "scheduledEnd",
}
_PARTY = {"name": "name", "email": "emailAddress", "phone": "phoneNumber"}
_DIRECTIONS = {
    "inbound": "Inbound",
    "in": "Inbound",
    "incoming": "Inbound",
    "outbound": "Outbound",
    "out": "Outbound",
    "outgoing": "Outbound",
    "conference": "Conference",
    "unknown": "Unknown",
}
_CHANNELS = {"left": 0, "l": 0, "0": 0, "right": 1, "r": 1, "1": 1}


@dataclass
class CsvRowError(Exception):
    """A value of a row (or the header) that cannot become call JSON."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _snake(name: str) -> str:
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.strip())
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def normalise_header(header: Sequence[str]) -> dict[str, int]:
    """Map each known column (its canonical name) to its position in the row.

    Raises
    ------
    CsvRowError
        A required column is missing, or two headers name the same column.
    """
    columns: dict[str, int] = {}
    for position, raw in enumerate(header):
        name = _ALIASES.get(_snake(raw))
        if name is None:
            continue
        if name in columns:
            first = header[columns[name]]
            raise CsvRowError(name, f"given twice (as {first!r} and {raw!r})")
        columns[name] = position
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise CsvRowError(missing[0], "required column missing (see the CSV convention)")
    return columns


def _time(field: str, text: str) -> str:
    # Python 3.10's fromisoformat takes neither "Z" nor "+0000": spell them as "+00:00"
    iso = re.sub(r"[Zz]$", "+00:00", text.replace(" ", "T", 1) if "T" not in text else text)
    iso = re.sub(r"([+-])(\d\d)(\d\d)$", r"\1\2:\3", iso)
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise CsvRowError(
            field, f"{text!r} is not an ISO 8601 time (e.g. 2024-05-14T15:32:00-07:00)"
        ) from None
    if moment.tzinfo is None:
        raise CsvRowError(
            field, f"{text!r} needs a UTC offset or Z (e.g. 2024-05-14T15:32:00-07:00)"
        )
    return moment.isoformat()


def _duration(text: str) -> float:
    try:
        if ":" in text:
            parts = [float(p) for p in text.split(":")]
            if len(parts) > 3 or any(p < 0 for p in parts):
                raise ValueError
            seconds = 0.0
            for part in parts:
                seconds = seconds * 60 + part
            return seconds
        value = float(text)
        if value < 0 or value != value or value == float("inf"):
            raise ValueError
        return value
    except ValueError:
        raise CsvRowError("duration", f"{text!r} is not seconds or [H:]MM:SS") from None


def call_from_row(columns: dict[str, int], values: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """The recording path and call JSON of one CSV row.

    Parameters
    ----------
    columns
        From `normalise_header`.
    values
        The row's cells.

    Returns
    -------
    tuple
        ``(recording path as written, call JSON)``; the call is not yet checked against the
        contract (the manifest reader does that, naming the column of each problem).

    Raises
    ------
    CsvRowError
        A value that cannot be converted, naming its column.
    """
    cell = {name: values[i].strip() if i < len(values) else "" for name, i in columns.items()}
    for name in REQUIRED:
        if not cell.get(name):
            raise CsvRowError(name, "empty (required)")
    call: dict[str, Any] = {}
    if cell.get("client_unique_id"):
        call["clientUniqueId"] = cell["client_unique_id"]
    for name, key in _TIMES.items():
        if cell.get(name):
            call[key] = _time(name, cell[name])
    direction = cell.get("direction", "")
    if direction.lower() not in _DIRECTIONS and direction:
        raise CsvRowError(
            "direction", f"{direction!r} is not inbound, outbound, conference or unknown"
        )
    call["direction"] = _DIRECTIONS.get(direction.lower(), "Unknown")
    call["primaryUser"] = cell["rep_user_id"]
    for name, key in _PLAIN.items():
        if cell.get(name):
            call[key] = cell[name]
    if cell.get("duration"):
        call["duration"] = _duration(cell["duration"])
    rep: dict[str, Any] = {"userId": cell["rep_user_id"]}
    for suffix, key in _PARTY.items():
        if cell.get(f"rep_{suffix}"):
            rep[key] = cell[f"rep_{suffix}"]
    channel = cell.get("rep_channel", "")
    if channel:
        if channel.lower() not in _CHANNELS:
            raise CsvRowError("rep_channel", f"{channel!r} is not left, right, 0 or 1")
        rep["mediaChannelId"] = _CHANNELS[channel.lower()]
    call["parties"] = [rep]
    customer = {
        key: cell[f"customer_{s}"] for s, key in _PARTY.items() if cell.get(f"customer_{s}")
    }
    if customer:
        call["parties"].append(customer)
    return cell["recording"], call


def column_for_path(json_path: str) -> str:
    """The column a call-JSON path came from (``$.parties[0].emailAddress`` -> ``rep_email``);
    the path itself when no single column maps to it."""
    flat = {**{v: k for k, v in _PLAIN.items()}, **{v: k for k, v in _TIMES.items()}}
    flat.update({"primaryUser": "rep_user_id", "direction": "direction", "duration": "duration"})
    match = re.fullmatch(r"\$\.(\w+)(?:\[(\d+)\](?:\.(\w+))?)?.*", json_path)
    if not match:
        return json_path
    top, index, key = match.groups()
    if top == "parties" and index is not None:
        who = "rep" if index == "0" else "customer"
        if key == "mediaChannelId":
            return "rep_channel"
        if key == "userId":
            return "rep_user_id"
        suffix = {v: k for k, v in _PARTY.items()}.get(key or "")
        return f"{who}_{suffix}" if suffix else json_path
    return flat.get(top, json_path)
