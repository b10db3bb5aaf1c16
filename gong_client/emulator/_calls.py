"""The emulated endpoints: ``POST /v2/calls``, ``PUT /v2/calls/{id}/media``, ``GET /v2/calls``.

Where Gong's behaviour is not documented the emulator picks one and says so: a repeated
clientUniqueId is answered 409; a second media PUT replaces the first (PUT semantics); a media
PUT for a call created with ``downloadMediaUrl`` is a 400; an unknown call id is a 404.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from gong_client._sniff import sniff_format
from gong_client.emulator._context import Context, DroppedResponse, gong_error
from gong_client.emulator._receive import (
    MediaSink,
    UploadRejected,
    boundary_of,
    declared_length,
    read_capped,
)

if TYPE_CHECKING:
    from gong_client.emulator._app import Emulator

__all__ = ["add_call", "add_media", "list_calls"]

MAX_JSON_BYTES = 10 * 1024 * 1024
MULTIPART_OVERHEAD_BYTES = 64 * 1024


async def add_call(emulator: Emulator, request: Request, ctx: Context) -> Response:
    """``POST /v2/calls``: validate, refuse a repeated clientUniqueId, store the call."""
    from diarize.call import problems_in_call

    if not request.headers.get("content-type", "").startswith("application/json"):
        return gong_error(ctx, 400, "the body must be application/json")
    try:
        raw = await read_capped(request, MAX_JSON_BYTES)
    except UploadRejected as exc:
        return gong_error(ctx, exc.status, str(exc))
    except ClientDisconnect:  # nobody reads this answer; it is logged for the tests
        return gong_error(ctx, 400, "the client disconnected before its body arrived")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return gong_error(ctx, 400, f"malformed JSON body: {exc}")
    ctx.notes["body"] = body
    problems = problems_in_call(body)
    if problems:
        return gong_error(ctx, 400, *(str(p) for p in problems))
    cuid = body["clientUniqueId"]
    ctx.notes["clientUniqueId"] = cuid
    if emulator.store.by_client_unique_id(cuid) is not None:
        return gong_error(ctx, 409, f"a call with clientUniqueId {cuid[:100]!r} already exists")
    record = emulator.store.create(body, ctx.request_id)
    ctx.notes["callId"] = record["callId"]
    return JSONResponse({"requestId": ctx.request_id, "callId": record["callId"]})


async def add_media(emulator: Emulator, request: Request, ctx: Context) -> Response:
    """``PUT /v2/calls/{id}/media``: stream the ``mediaFile`` part to disk, check, store."""
    store, config = emulator.store, emulator.config
    record = store.get(request.path_params["call_id"])
    if record is None:
        return gong_error(ctx, 404, "no call with this id; create it with POST /v2/calls first")
    ctx.notes["callId"] = record["callId"]
    if record["call"].get("downloadMediaUrl"):
        return gong_error(ctx, 400, "this call's media comes from its downloadMediaUrl")
    try:
        boundary = boundary_of(request.headers.get("content-type"))
        declared_length(request, config.max_media_bytes + MULTIPART_OVERHEAD_BYTES)
    except UploadRejected as exc:
        return gong_error(ctx, exc.status, str(exc))
    sink = MediaSink(boundary, store.new_temp_path(), config.max_media_bytes)
    cut_at = None
    if ctx.fault.kind == "cut":
        cut_at = int(ctx.fault.cut_fraction * int(request.headers.get("content-length") or 0))
    try:
        read = 0
        async for chunk in request.stream():
            sink.feed(chunk)
            read += len(chunk)
            if cut_at is not None and read >= cut_at:
                sink.discard()
                ctx.notes["cutAfterBytes"] = read
                return DroppedResponse()
        received = sink.finish()
        with sink.path.open("rb") as f:
            fmt = sniff_format(f)
        if isinstance(fmt, str):
            raise UploadRejected(f"unsupported media: {fmt}")
    except UploadRejected as exc:
        sink.discard()
        return gong_error(ctx, exc.status, str(exc))
    except ClientDisconnect:  # nobody reads this answer; it is logged for the tests
        sink.discard()
        return gong_error(ctx, 400, "the client disconnected during the upload")
    except OSError as exc:
        sink.discard()
        return gong_error(ctx, 500, f"the emulator could not store the media ({exc.strerror})")
    media = {
        "bytes": received.size_bytes,
        "sha256": received.sha256,
        "format": fmt.name,
        "extension": fmt.extension,
        "declaredContentType": received.content_type,
        "filename": received.filename,
        "uploadedAt": ctx.received_at,
    }
    store.attach_media(record, sink.path, media)
    ctx.notes["media"] = {k: media[k] for k in ("bytes", "sha256", "declaredContentType")}
    url = _call_url(record, config.app_url, request)
    return JSONResponse({"requestId": ctx.request_id, "callId": record["callId"], "url": url}, 201)


async def list_calls(emulator: Emulator, request: Request, ctx: Context) -> Response:
    """``GET /v2/calls``: calls whose actualStart lies in [fromDateTime, toDateTime)."""
    query = request.query_params
    start, end = _parse_time(query.get("fromDateTime")), _parse_time(query.get("toDateTime"))
    if start is None or end is None:
        return gong_error(ctx, 400, "fromDateTime and toDateTime must be ISO-8601 with an offset")
    offset = _read_cursor(query.get("cursor"))
    if offset is None:
        return gong_error(ctx, 400, "the cursor is not valid")
    matching = []
    for record in emulator.store.all():
        when = _parse_time(str(record["call"].get("actualStart", "")))
        if when is not None and start <= when < end:
            matching.append(record)
    if not matching:
        return gong_error(ctx, 404, "No calls found corresponding to the provided filters")
    size = emulator.config.page_size
    page = matching[offset : offset + size]
    records: dict[str, Any] = {
        "totalRecords": len(matching),
        "currentPageSize": len(page),
        "currentPageNumber": offset // size,
    }
    if offset + size < len(matching):
        records["cursor"] = base64.urlsafe_b64encode(f"o:{offset + size}".encode()).decode()
    calls = [_basic_data(r, _call_url(r, emulator.config.app_url, request)) for r in page]
    return JSONResponse({"requestId": ctx.request_id, "records": records, "calls": calls})


def _call_url(record: dict[str, Any], app_url: str | None, request: Request) -> str:
    """Where a person sees the call: the emulator's own read-back route unless `app_url` is
    set (this is not Gong, so no app.gong.io link for a call that Gong never saw)."""
    if app_url is None:
        return f"{str(request.base_url).rstrip('/')}/emulator/calls/{record['callId']}"
    return f"{app_url.rstrip('/')}/call?id={record['callId']}"


def _basic_data(record: dict[str, Any], url: str) -> dict[str, Any]:
    call = record["call"]
    data: dict[str, Any] = {
        "id": record["callId"],
        "url": url,
        "started": call["actualStart"],
        "primaryUserId": call["primaryUser"],
        "direction": call["direction"],
        "clientUniqueId": record["clientUniqueId"],
    }
    for key in ("title", "purpose", "customData", "workspaceId"):
        if isinstance(call.get(key), str):
            data[key] = call[key]
    if isinstance(call.get("duration"), (int, float)):
        data["duration"] = round(call["duration"])
    if record.get("media"):
        data["media"] = "Video" if record["media"]["format"] in ("MP4", "MKV") else "Audio"
    return data


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.astimezone(timezone.utc) if when.tzinfo else None


def _read_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not text.startswith("o:") or not text[2:].isdigit():
        return None
    return int(text[2:])
