"""Property tests of the call contract: bodies generated from it, valid and broken on purpose.

Valid bodies pass the checks and come out of the pipeline unchanged but for what the tool
adds (``speakersTimeline``, a missing ``partyId``; the timeline supersedes ``mediaChannelId``).
Each broken body breaks one rule: it is rejected with that rule's JSON path, an enum's
error lists the allowed values, and ``timeline`` and ``upload`` both exit 2 with the same line,
before any audio or credential is looked at.
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from diarize.example import example_call
from gong_client.cli import app
from gong_client.contract import (
    CALL_OBJECT_TYPES,
    CONTEXT_SYSTEMS,
    DIRECTIONS,
    FREE_TEXT_MAX_CHARS,
    LANGUAGE_CODES,
    PARTY_OBJECT_TYPES,
    check_call,
)

_KNOWN_KEYS = {
    *example_call(),
    "purpose",
    "disposition",
    "customData",
    "meetingUrl",
    "callProviderCode",
    "workspaceId",
    "languageCode",
    "scheduledStart",
    "scheduledEnd",
    "duration",
    "downloadMediaUrl",
    "context",
    "flowContext",
    "speakersTimeline",
}

text = st.text(max_size=40)
filled = st.text(min_size=1, max_size=40).filter(lambda s: s.strip())
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)


_ZONES = [timezone(timedelta(minutes=m)) for m in (0, -420, 330, 840, -720)]
moments = st.datetimes(
    datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.sampled_from(_ZONES)
)


def stamp(moment: datetime) -> str:
    """ISO-8601 with an offset, as Gong wants it (UTC as 'Z' now and then)."""
    text = moment.replace(microsecond=0).isoformat()
    return text.replace("+00:00", "Z") if moment.minute % 2 else text


def contexts(object_types: frozenset[str]) -> st.SearchStrategy:
    objects = st.fixed_dictionaries(
        {"objectType": st.sampled_from(sorted(object_types)), "objectId": filled},
        optional={
            "fields": st.lists(
                st.fixed_dictionaries({"name": text, "value": json_values}), max_size=2
            )
        },
    )
    return st.lists(
        st.fixed_dictionaries(
            {"system": st.sampled_from(sorted(CONTEXT_SYSTEMS))},
            optional={"objects": st.lists(objects, max_size=2)},
        ),
        min_size=1,
        max_size=2,
    )


party_extras = st.fixed_dictionaries(
    {},
    optional={
        "name": text,
        "phoneNumber": text,
        "emailAddress": st.from_regex(r"[a-z0-9._]{1,12}@[a-z]{1,8}\.[a-z]{2,4}", fullmatch=True),
        "context": contexts(PARTY_OBJECT_TYPES),
        "customerField": json_values,  # unknown keys are allowed
    },
)


@st.composite
def valid_calls(draw) -> dict:
    """The example stereo call (rep on the left channel) with optional fields drawn."""
    call = example_call()
    call.update(
        draw(
            st.fixed_dictionaries(
                {"direction": st.sampled_from(sorted(DIRECTIONS))},
                optional={
                    "title": text,
                    "purpose": st.text(max_size=FREE_TEXT_MAX_CHARS),
                    "disposition": text,
                    "customData": text,
                    "meetingUrl": text,
                    "callProviderCode": text,
                    "workspaceId": filled,
                    "languageCode": st.sampled_from(sorted(LANGUAGE_CODES)),
                    "duration": st.integers(0, 10**6)
                    | st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
                    "downloadMediaUrl": st.just("https://media.example.com/calls/1.wav"),
                    "context": contexts(CALL_OBJECT_TYPES),
                    "flowContext": st.fixed_dictionaries({"taskId": filled | st.integers(0)}),
                },
            )
        )
    )
    if draw(st.booleans()):
        start = draw(moments)
        end = (start + timedelta(seconds=draw(st.integers(0, 10**6)))).astimezone(
            draw(st.sampled_from(_ZONES))
        )
        call["scheduledStart"], call["scheduledEnd"] = stamp(start), stamp(end)
    for party in call["parties"]:
        extras = draw(party_extras)
        if "emailAddress" in party:
            extras.pop("emailAddress", None)
        party.update(extras)
    if draw(st.booleans()):
        for i, party in enumerate(call["parties"]):
            party["partyId"] = f"p{i}-{draw(st.integers(0, 99))}"
    extra_keys = st.text(min_size=1, max_size=12).filter(lambda k: k not in _KNOWN_KEYS)
    call.update(draw(st.dictionaries(extra_keys, json_values, max_size=2)))
    return call


# A mutation breaks one rule: (the broken call, the JSON path, words the message must hold).
Mutation = Callable[[dict, st.DataObject], tuple[dict, str, list[str]]]


def _drop_required(call: dict, data: st.DataObject):
    key = data.draw(st.sampled_from(["clientUniqueId", "actualStart", "direction", "parties"]))
    del call[key]
    return call, f"$.{key}", ["is required"]


def _wrong_type(call: dict, data: st.DataObject):
    key = data.draw(st.sampled_from(["title", "direction", "clientUniqueId", "customData"]))
    call[key] = data.draw(
        st.integers() | st.booleans() | st.lists(st.integers(), max_size=2) | st.none()
    )
    return call, f"$.{key}", ["must be a string"]


def _not_in(allowed: frozenset[str]) -> st.SearchStrategy:
    return st.text(min_size=1, max_size=20).filter(lambda v: v not in allowed)


def _bad_direction(call: dict, data: st.DataObject):
    call["direction"] = data.draw(_not_in(DIRECTIONS))
    return call, "$.direction", [repr(v) for v in sorted(DIRECTIONS)]


def _bad_system(call: dict, data: st.DataObject):
    call["context"] = [{"system": data.draw(_not_in(CONTEXT_SYSTEMS))}]
    return call, "$.context[0].system", [repr(v) for v in sorted(CONTEXT_SYSTEMS)]


def _bad_party_object_type(call: dict, data: st.DataObject):
    bad = data.draw(_not_in(PARTY_OBJECT_TYPES))
    call["parties"][1]["context"] = [
        {"system": "HubSpot", "objects": [{"objectType": bad, "objectId": "7"}]}
    ]
    path = "$.parties[1].context[0].objects[0].objectType"
    return call, path, [repr(v) for v in sorted(PARTY_OBJECT_TYPES)]


def _bad_language(call: dict, data: st.DataObject):
    call["languageCode"] = data.draw(_not_in(LANGUAGE_CODES))
    return call, "$.languageCode", [f"{len(LANGUAGE_CODES)} accepted values", "'"]


def _bad_channel(call: dict, data: st.DataObject):
    call["parties"][0]["mediaChannelId"] = data.draw(
        st.integers().filter(lambda v: v not in (0, 1))
    )
    return call, "$.parties[0].mediaChannelId", ["must be 0 or 1"]


def _naive_time(call: dict, data: st.DataObject):
    call["actualStart"] = stamp(data.draw(moments))[:19]
    return call, "$.actualStart", ["without a UTC offset"]


def _long_purpose(call: dict, data: st.DataObject):
    call["purpose"] = "x" * data.draw(st.integers(FREE_TEXT_MAX_CHARS + 1, 2000))
    return call, "$.purpose", [f"at most {FREE_TEXT_MAX_CHARS} characters"]


def _backwards_segment(call: dict, data: st.DataObject):
    start = data.draw(st.integers(0, 10**6))
    end = data.draw(st.integers(0, start))
    call["parties"][0]["partyId"] = "rep"
    call["speakersTimeline"] = {
        "precise": False,
        "speechSegments": [{"fromTime": start, "toTime": end, "partyIds": ["rep"]}],
    }
    return call, "$.speakersTimeline.speechSegments[0].toTime", ["must be after fromTime"]


def _bad_email(call: dict, data: st.DataObject):
    call["parties"][1]["emailAddress"] = data.draw(st.from_regex(r"[a-z]{1,10}", fullmatch=True))
    return call, "$.parties[1].emailAddress", ["is not an e-mail address"]


def _negative_duration(call: dict, data: st.DataObject):
    call["duration"] = data.draw(st.integers(max_value=-1) | st.floats(max_value=-0.001))
    return call, "$.duration", ["must be a number of seconds >= 0"]


MUTATIONS: list[Mutation] = [
    _drop_required,
    _wrong_type,
    _bad_direction,
    _bad_system,
    _bad_party_object_type,
    _bad_language,
    _bad_channel,
    _naive_time,
    _long_purpose,
    _backwards_segment,
    _bad_email,
    _negative_duration,
]


@st.composite
def broken_calls(draw) -> tuple[dict, str, list[str]]:
    mutation = draw(st.sampled_from(MUTATIONS))
    return mutation(copy.deepcopy(draw(valid_calls())), draw(st.data()))


@settings(max_examples=300, deadline=None)
@given(valid_calls())
def test_valid_calls_pass_the_contract(call) -> None:
    assert check_call(call, require_timeline_party_ids=False) == []


@settings(max_examples=300, deadline=None)
@given(broken_calls())
def test_each_broken_call_is_rejected_at_its_path(case) -> None:
    call, path, words = case
    problems = check_call(call, require_timeline_party_ids=False)
    at_path = [p.message for p in problems if p.path == path]
    assert at_path, (path, problems)
    assert any(all(word in message for word in words) for message in at_path), at_path


@pytest.fixture(scope="module")
def short_call() -> tuple:
    from diarize.example import stereo_example

    example = stereo_example()
    return example.samples[:, : 8 * example.sample_rate].copy(), example.sample_rate


def _without_added(call: dict) -> dict:
    call = copy.deepcopy(call)
    call.pop("speakersTimeline", None)
    for party in call["parties"]:
        party.pop("partyId", None)
        party.pop("mediaChannelId", None)
    return call


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(call=valid_calls())
def test_valid_calls_come_out_unchanged_but_for_what_the_tool_adds(call, short_call) -> None:
    from diarize.pipeline import process_call

    samples, sample_rate = short_call
    before = copy.deepcopy(call)
    out = process_call(samples, call, sample_rate=sample_rate).call
    assert call == before  # the input is not modified
    assert _without_added(out) == _without_added(before)
    assert "speakersTimeline" in out
    for given_party, out_party in zip(before["parties"], out["parties"], strict=True):
        if "partyId" in given_party:
            assert out_party["partyId"] == given_party["partyId"]
    assert check_call(out, require_timeline_party_ids=True) == []


def _cli(command: str, call_file: Path) -> tuple[int, str]:
    """``gong-diarize COMMAND missing.wav --call CALL_FILE`` in-process: exit code, stderr."""
    args = [command, str(call_file.parent / "no-such-recording.wav"), "--call", str(call_file)]
    if command == "upload":
        args += ["--state-dir", str(call_file.parent / "state")]
    result = CliRunner().invoke(app, args, env={"GONG_ACCESS_KEY": "", "GONG_BEARER_TOKEN": ""})
    return result.exit_code, result.stderr


@settings(max_examples=40, deadline=None)
@given(broken_calls())
def test_timeline_and_upload_reject_a_broken_call_alike_before_audio(case) -> None:
    call, path, words = case
    assume(path != "$.clientUniqueId")  # upload derives a missing one from the recording
    with tempfile.TemporaryDirectory() as folder:
        call_file = Path(folder) / "call.json"
        call_file.write_text(json.dumps(call), encoding="utf-8")
        timeline, upload = _cli("timeline", call_file), _cli("upload", call_file)
    assert timeline[0] == upload[0] == 2, (timeline, upload)
    assert timeline[1] == upload[1]
    line = timeline[1].strip()
    assert "\n" not in line and f"{path}: " in line, line
    assert f"{call_file}: invalid call metadata" in line
    assert "no-such-recording" not in line  # the call is judged before the audio is looked at
    for word in words:
        assert word in line or "(and " in line, (word, line)


@pytest.mark.parametrize("command", ["timeline", "upload"])
def test_a_missing_call_file_is_named(command, tmp_path) -> None:
    code, stderr = _cli(command, tmp_path / "calls" / "nowhere.json")
    assert code == 2
    assert f"{tmp_path / 'calls' / 'nowhere.json'}: invalid call metadata: $: file not found" in (
        stderr
    )
