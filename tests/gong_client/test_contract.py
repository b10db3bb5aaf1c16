"""Contract tests: what the client sends and what the emulator answers, against Gong's spec.

Every request and response of a session that touches each status the emulator produces is
validated against ``components/schemas`` of ``../shared/gong-api/openapi-v2.json`` (skipped
when the file is absent). Objects must also carry no field the schema does not declare.
"""

from __future__ import annotations

import pytest

from gong_client import ApiError, BasicAuth, GongError
from tests.contract import example_call, example_channel_call, openapi_spec, schema_validator
from tests.gong_client.helpers import KEY, logged_requests, make_call, write_audio

SPEC = openapi_spec()
pytestmark = pytest.mark.skipif(SPEC is None, reason="Gong's openapi-v2.json is not present")

MEDIA_TYPES = {
    "audio/wav",
    "audio/mpeg",
    "audio/flac",
    "audio/mp4",
    "video/mp4",
    "video/x-matroska",
}


def _declared(name: str) -> set[str]:
    return set(SPEC["components"]["schemas"][name]["properties"])


def _response_schema(method: str, status: int | None) -> str:
    if status is None:  # a dropped connection has no body
        return ""
    if status >= 400:
        return "ErrorResponse"
    return {
        "POST": "NewCallAddingResponse",
        "PUT": "NewCallRecordingResponse",
        "GET": "CallsResponse",
    }[method]


def _session(start_emulator, make_client, tmp_path) -> list[dict]:
    """Drive the client through successes and every error status; return the request log."""
    server = start_emulator(limit_per_s=50, fail_rate=0.0)
    client = make_client(server, rate_per_s=50)
    audio = write_audio(tmp_path / "a.wav")
    client.upload_call(audio, example_call())
    client.upload_call(None, example_channel_call())
    for attempt in (
        lambda: client.add_call(example_call()),  # 409
        lambda: make_client(server, validate=False).add_call(make_call("x", direction="Up")),
        lambda: make_client(server, auth=BasicAuth(KEY, "nope")).add_call(make_call("y")),
        lambda: client.add_call_media("1234567890123456789", audio),  # 404
    ):
        with pytest.raises(ApiError):
            attempt()
    assert client._find_existing(example_call())  # GET /v2/calls, 200
    log = logged_requests(server.base_url)
    limited = start_emulator(daily_limit=1)
    limited_client = make_client(limited, state_dir=tmp_path / "other-state")
    limited_client.add_call(make_call("z-1"))
    with pytest.raises(GongError):
        limited_client.add_call(make_call("z-2"))  # 429
    return log + logged_requests(limited.base_url)


def test_requests_and_responses_follow_the_spec(start_emulator, make_client, tmp_path) -> None:
    log = _session(start_emulator, make_client, tmp_path)
    statuses = {(r["method"], r["status"]) for r in log}
    assert {
        ("POST", 200),
        ("PUT", 201),
        ("GET", 200),
        ("POST", 409),
        ("POST", 400),
        ("POST", 401),
        ("PUT", 404),
        ("POST", 429),
    } <= statuses
    request_schema = schema_validator("NewCallAddingRequest", strict=False)
    checked_bodies = 0
    for entry in log:
        if entry["method"] == "POST" and entry["status"] != 400 and "body" in entry:
            request_schema.validate(entry["body"])
            checked_bodies += 1
        if entry["method"] == "PUT" and entry["status"] == 201:
            assert entry["media"]["declaredContentType"] in MEDIA_TYPES
        name = _response_schema(entry["method"], entry["status"])
        schema_validator(name).validate(entry["response"])
        assert set(entry["response"]) <= _declared(name), name
        if name == "CallsResponse":
            assert set(entry["response"]["records"]) <= _declared("Records")
            for listed in entry["response"]["calls"]:
                assert set(listed) <= _declared("CallBasicData")
        if entry["status"] == 429:
            assert entry["retryAfter"].isdigit()
    assert checked_bodies >= 4


def test_the_spec_lists_the_statuses_the_emulator_uses_for_call_creation() -> None:
    documented = set(SPEC["paths"]["/v2/calls"]["post"]["responses"])
    assert {"200", "400", "401", "409", "429", "500"} <= documented
