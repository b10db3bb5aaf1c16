"""Loading and validating the call metadata (the body of Gong's POST /v2/calls)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from diarize.call import (
    DIRECTIONS,
    LANGUAGE_CODES,
    load_call,
    party_key,
    problems_in_call,
    validate_call,
)
from diarize.errors import CallValidationError, DiarizeError, Problem
from tests.contract import example_call, example_channel_call

TL = "$.speakersTimeline"
SEG0 = "$.speakersTimeline.speechSegments[0]"


def problem_at(call: object, path: str, **kwargs) -> Problem:
    """The problem reported at exactly ``path`` (fails the test when there is none)."""
    problems = problems_in_call(call, **kwargs)
    found = [p for p in problems if p.path == path]
    assert found, f"no problem at {path}; got {[str(p) for p in problems]}"
    return found[0]


def mutated(change: Callable[[dict], object]) -> dict:
    call = example_call()
    change(call)
    return call


def test_valid_examples_pass() -> None:
    for call in (example_call(), example_channel_call()):
        before = copy.deepcopy(call)
        validate_call(call)
        assert problems_in_call(call) == []
        assert call == before, "validation must not modify the call"


def test_minimal_call_passes() -> None:
    call = {
        "clientUniqueId": "c-1",
        "actualStart": "2024-01-02T03:04:05Z",
        "direction": "Unknown",
        "primaryUser": "42",
        "parties": [{"userId": "42"}],
    }
    assert problems_in_call(call) == []


def test_unknown_keys_are_allowed() -> None:
    call = example_call()
    call["x-pbx-trunk"] = "sip-3"
    call["parties"][1]["department"] = "Procurement"
    assert problems_in_call(call) == []


def test_constants() -> None:
    assert frozenset({"Inbound", "Outbound", "Conference", "Unknown"}) == DIRECTIONS
    assert len(LANGUAGE_CODES) == 133
    assert {"en-US", "pa-Guru-IN", "yue-Hant-HK", "fil-PH"} <= LANGUAGE_CODES


def _set(path: tuple, value: object) -> Callable[[dict], None]:
    def change(call: dict) -> None:
        node = call
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value

    return change


def _drop(path: tuple) -> Callable[[dict], None]:
    def change(call: dict) -> None:
        node = call
        for step in path[:-1]:
            node = node[step]
        del node[path[-1]]

    return change


RULES = [
    # required top-level fields
    *[(_drop((key,)), f"$.{key}", "is required")
      for key in ("clientUniqueId", "actualStart", "direction", "parties", "primaryUser")],
    (_set(("clientUniqueId",), ""), "$.clientUniqueId", "must not be empty"),
    (_set(("clientUniqueId",), "x" * 2049), "$.clientUniqueId", "at most 2048 characters"),
    (_set(("clientUniqueId",), 17), "$.clientUniqueId", "must be a string, got integer"),
    (_set(("direction",), "Sideways"), "$.direction", "'Inbound'"),
    (_set(("direction",), "inbound"), "$.direction", "did you mean 'Inbound'"),
    (_set(("primaryUser",), "  "), "$.primaryUser", "must not be empty"),
    (_set(("primaryUser",), "dana@example.com"), "$.primaryUser", "not an e-mail"),
    # optional scalars
    (_set(("title",), 5), "$.title", "must be a string"),
    (_set(("title",), None), "$.title", "omit the field"),
    (_set(("purpose",), "p" * 256), "$.purpose", "at most 255 characters, got 256"),
    (_set(("disposition",), "d" * 300), "$.disposition", "at most 255"),
    (_set(("customData",), {"a": 1}), "$.customData", "must be a string, got object"),
    (_set(("meetingUrl",), 3), "$.meetingUrl", "must be a string"),
    (_set(("callProviderCode",), ["zoom"]), "$.callProviderCode", "must be a string"),
    (_set(("workspaceId",), ""), "$.workspaceId", "must not be empty"),
    (_set(("workspaceId",), 623457276584334), "$.workspaceId", "must be a string"),
    (_set(("languageCode",), "xx-XX"), "$.languageCode", "accepted values"),
    (_set(("languageCode",), "en_us"), "$.languageCode", "did you mean 'en-US'"),
    (_set(("duration",), -0.5), "$.duration", ">= 0"),
    (_set(("duration",), "125.8"), "$.duration", "must be a number, got string"),
    (_set(("duration",), True), "$.duration", "got boolean"),
    (_set(("duration",), float("nan")), "$.duration", ">= 0"),
    (_set(("downloadMediaUrl",), "ftp://files.example.com/a.wav"), "$.downloadMediaUrl", "'ftp'"),
    (_set(("downloadMediaUrl",), "/media/a.wav"), "$.downloadMediaUrl", "relative"),
    (_set(("downloadMediaUrl",), "https:///a.wav"), "$.downloadMediaUrl", "valid host"),
    (_set(("flowContext",), "task-9"), "$.flowContext", "must be an object"),
    (_set(("flowContext",), {"taskId": ["9"]}), "$.flowContext.taskId", "integer or string"),
    # times
    (_set(("scheduledEnd",), "2024-05-14T15:00:00-07:00"), "$.scheduledEnd", "before"),
    (_set(("scheduledStart",), "yesterday"), "$.scheduledStart", "ISO-8601"),
    (_set(("actualStart",), 1715726528), "$.actualStart", "must be a string"),
    # call context
    (_set(("context",), {"system": "Salesforce"}), "$.context", "must be an array"),
    (_set(("context", 0), "Salesforce"), "$.context[0]", "must be an object"),
    (_drop(("context", 0, "system")), "$.context[0].system", "is required"),
    (_set(("context", 0, "system"), "Zoho"), "$.context[0].system", "'Generic'"),
    (_set(("context", 0, "objects"), {}), "$.context[0].objects", "must be an array"),
    (_set(("context", 0, "objects", 0, "objectType"), "Deal"),
     "$.context[0].objects[0].objectType", "'Opportunity'"),
    (_drop(("context", 0, "objects", 0, "objectId")),
     "$.context[0].objects[0].objectId", "is required"),
    (_set(("context", 0, "objects", 0, "objectId"), ""),
     "$.context[0].objects[0].objectId", "must not be empty"),
    (_set(("context", 0, "objects", 0, "fields", 0), "StageName"),
     "$.context[0].objects[0].fields[0]", "must be an object"),
    (_set(("context", 0, "objects", 0, "fields", 0, "name"), 7),
     "$.context[0].objects[0].fields[0].name", "must be a string"),
    # parties
    (_set(("parties",), {"userId": "1"}), "$.parties", "must be an array"),
    (_set(("parties",), []), "$.parties", "at least one party"),
    (_set(("parties", 1), "Sam"), "$.parties[1]", "must be an object, got string"),
    (_set(("parties", 1, "phoneNumber"), 12125550199), "$.parties[1].phoneNumber", "string"),
    (_set(("parties", 1, "name"), None), "$.parties[1].name", "got null"),
    (_set(("parties", 1, "emailAddress"), "sam at acme"), "$.parties[1].emailAddress", "e-mail"),
    (_set(("parties", 1, "emailAddress"), "sam@acme"), "$.parties[1].emailAddress", "e-mail"),
    (_set(("parties", 1, "userId"), ""), "$.parties[1].userId", "must not be empty"),
    (_set(("parties", 1, "userId"), "sam@acme.example"), "$.parties[1].userId", "e-mail"),
    (_set(("parties", 1, "partyId"), ""), "$.parties[1].partyId", "must not be empty"),
    (_set(("parties", 1, "partyId"), 2), "$.parties[1].partyId", "must be a string"),
    (_set(("parties", 1, "partyId"), "1"), "$.parties[1].partyId", "already the partyId of"),
    (_set(("parties", 1, "mediaChannelId"), 2), "$.parties[1].mediaChannelId",
     "must be 0 or 1, got 2"),
    (_set(("parties", 1, "mediaChannelId"), -1), "$.parties[1].mediaChannelId", "0 or 1"),
    (_set(("parties", 1, "mediaChannelId"), "0"), "$.parties[1].mediaChannelId", "integer"),
    (_set(("parties", 1, "mediaChannelId"), True), "$.parties[1].mediaChannelId", "boolean"),
    (_set(("parties", 1, "mediaChannelId"), 1.0), "$.parties[1].mediaChannelId", "number"),
    (_set(("parties", 1, "context", 0, "objects", 0, "objectType"), "Opportunity,Account"),
     "$.parties[1].context[0].objects[0].objectType", "'Lead,Contact'"),
    (_set(("parties", 1, "context", 0, "system"), "salesforce"),
     "$.parties[1].context[0].system", "did you mean 'Salesforce'"),
    # speakers timeline
    (_set(("speakersTimeline",), []), TL, "must be an object, got array"),
    (_set(("speakersTimeline", "precise"), "yes"), f"{TL}.precise", "must be a boolean"),
    (_drop(("speakersTimeline", "speechSegments")), f"{TL}.speechSegments", "is required"),
    (_set(("speakersTimeline", "speechSegments"), {}), f"{TL}.speechSegments", "array"),
    (_set(("speakersTimeline", "speechSegments", 0), [0, 10]), SEG0, "must be an object"),
    (_drop(("speakersTimeline", "speechSegments", 0, "fromTime")), f"{SEG0}.fromTime", "required"),
    (_drop(("speakersTimeline", "speechSegments", 0, "toTime")), f"{SEG0}.toTime", "required"),
    (_set(("speakersTimeline", "speechSegments", 0, "fromTime"), -1), f"{SEG0}.fromTime",
     "between 0 and"),
    (_set(("speakersTimeline", "speechSegments", 0, "fromTime"), 0.5), f"{SEG0}.fromTime",
     "must be an integer, got number"),
    (_set(("speakersTimeline", "speechSegments", 0, "toTime"), 0), f"{SEG0}.toTime",
     "must be after fromTime"),
    (_set(("speakersTimeline", "speechSegments", 0, "toTime"), 2**31), f"{SEG0}.toTime",
     "2147483647"),
    (_drop(("speakersTimeline", "speechSegments", 0, "partyIds")), f"{SEG0}.partyIds", "required"),
    (_set(("speakersTimeline", "speechSegments", 0, "partyIds"), "1"), f"{SEG0}.partyIds",
     "must be an array"),
    (_set(("speakersTimeline", "speechSegments", 0, "partyIds"), []), f"{SEG0}.partyIds",
     "at least one party"),
    (_set(("speakersTimeline", "speechSegments", 0, "partyIds"), [1]), f"{SEG0}.partyIds[0]",
     "must be a string, got integer"),
    (_set(("speakersTimeline", "speechSegments", 0, "partyIds"), ["1", ""]),
     f"{SEG0}.partyIds[1]", "must not be empty"),
    (_set(("speakersTimeline", "speechSegments", 0, "partyIds"), ["1", "7"]),
     f"{SEG0}.partyIds[1]", "'7' is not the partyId of any party"),
    (_set(("speakersTimeline", "speechSegments", 0, "partyIds"), ["2", "2"]),
     f"{SEG0}.partyIds[1]", "listed twice"),
    (_drop(("parties", 1, "partyId")), "$.parties[1].partyId", "required when speakersTimeline"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "path", "fragment"), RULES, ids=[r[1] for r in RULES])
def test_each_rule_reports_its_path(change, path: str, fragment: str) -> None:
    problem = problem_at(mutated(change), path)
    assert fragment in problem.message
    with pytest.raises(CallValidationError) as info:
        validate_call(mutated(change), source="call.json")
    assert any(p.path == path for p in info.value.problems)


def test_top_level_must_be_an_object() -> None:
    for value in ([], "call", None, 3):
        assert problems_in_call(value)[0].path == "$"


def test_missing_required_key_hints_at_case() -> None:
    call = example_call()
    call["primaryuser"] = call.pop("primaryUser")
    assert "found 'primaryuser'" in problem_at(call, "$.primaryUser").message


def test_primary_user_needs_exactly_one_party() -> None:
    call = example_call()
    call["parties"][0]["userId"] = "111"
    message = problem_at(call, "$.parties").message
    assert message.startswith("no party has userId equal to primaryUser '234599484848423'")

    call = example_call()
    call["parties"][1]["userId"] = call["primaryUser"]
    message = problem_at(call, "$.parties").message
    assert "$.parties[0], $.parties[1]" in message and "exactly one" in message


def test_rep_channel_must_not_contradict() -> None:
    call = example_channel_call()
    call["parties"][1]["mediaChannelId"] = 0
    problem = problem_at(call, "$.parties[1].mediaChannelId")
    assert "$.parties[0].mediaChannelId is 1" in problem.message
    # Two parties on the rep's channel (a shared headset, a bridge) do not contradict.
    call["parties"][1]["mediaChannelId"] = 1
    assert problems_in_call(call) == []


def test_timeline_party_ids_can_be_left_to_the_pipeline() -> None:
    call = example_call()
    del call["parties"][1]["partyId"]
    call["speakersTimeline"]["speechSegments"] = [{"fromTime": 0, "toTime": 5, "partyIds": ["1"]}]
    assert problems_in_call(call, require_timeline_party_ids=False) == []
    assert [p.path for p in problems_in_call(call)] == ["$.parties[1].partyId"]
    # Unresolved references stay a problem either way.
    call["speakersTimeline"]["speechSegments"][0]["partyIds"] = ["2"]
    problem_at(call, f"{SEG0}.partyIds[0]", require_timeline_party_ids=False)


@pytest.mark.parametrize(
    "when",
    [
        "2024-05-14T15:32:08Z",
        "2024-05-14T15:32:08-08:00",
        "2024-05-14T15:32:08+05:30",
        "2024-05-14T15:32:08+00:00",
        "2024-05-14T15:32:08.5+01:00",
        "2024-05-14T15:32:08.123456789Z",
        "2024-05-14T15:32Z",
        "2024-02-29T00:00:00+14:00",
    ],
)
def test_times_with_offset_are_accepted(when: str) -> None:
    call = example_channel_call()
    call["actualStart"] = when
    assert problems_in_call(call) == []


@pytest.mark.parametrize(
    ("when", "fragment"),
    [
        ("2024-05-14T15:32:08", "naive time without a UTC offset"),
        ("2024-05-14T15:32:08.250", "naive"),
        ("2024-05-14", "ISO-8601"),
        ("2024-05-14 15:32:08Z", "ISO-8601"),
        ("2024-05-14T15:32:08+0800", "ISO-8601"),
        ("14/05/2024 15:32", "ISO-8601"),
        ("\u0662\u0660\u0662\u0664-05-14T15:32:08Z", "ISO-8601"),  # Arabic-Indic digits
        ("2023-02-29T10:00:00Z", "not a real date"),
        ("2024-04-31T10:00:00Z", "not a real date"),
        ("2024-05-14T24:00:00Z", "not a real date"),
        ("2024-05-14T12:60:00Z", "not a real date"),
        ("2024-05-14T12:00:00+19:00", "impossible UTC offset"),
        ("2024-05-14T12:00:00+05:75", "impossible UTC offset"),
    ],
)
def test_bad_times_are_rejected(when: str, fragment: str) -> None:
    call = example_call()
    call["scheduledStart"] = when
    problem = problem_at(call, "$.scheduledStart")
    assert fragment in problem.message


def test_scheduled_times_compare_across_offsets() -> None:
    call = example_call()
    call["scheduledStart"] = "2024-05-14T16:00:00+01:00"  # 15:00Z
    call["scheduledEnd"] = "2024-05-14T10:30:00-05:00"  # 15:30Z
    assert problems_in_call(call) == []
    call["scheduledEnd"] = "2024-05-14T09:30:00-05:00"  # 14:30Z
    problem_at(call, "$.scheduledEnd")


def test_all_problems_are_reported_at_once() -> None:
    call = example_call()
    call["direction"] = "Sideways"
    call["actualStart"] = "2024-05-14T15:32:08"
    call["parties"][1]["mediaChannelId"] = 2
    call["speakersTimeline"]["speechSegments"][2]["partyIds"] = ["9"]
    del call["clientUniqueId"]
    with pytest.raises(CallValidationError) as info:
        validate_call(call, source="call.json")
    paths = [p.path for p in info.value.problems]
    assert paths == [
        "$.clientUniqueId",
        "$.actualStart",
        "$.direction",
        "$.parties[1].mediaChannelId",
        "$.speakersTimeline.speechSegments[2].partyIds[0]",
    ]
    message = str(info.value)
    assert message.startswith("call.json: invalid call metadata: $.clientUniqueId: is required")
    assert "\n" not in message and isinstance(info.value, DiarizeError)


def test_errors_do_not_echo_urls_or_custom_data() -> None:
    call = example_call()
    call["downloadMediaUrl"] = "ftp://files.example.com/a.wav?X-Amz-Signature=s3cr3t"
    call["customData"] = 12345
    text = " ".join(str(p) for p in problems_in_call(call))
    assert "s3cr3t" not in text and "files.example.com" not in text
    assert "12345" not in text


def test_party_key() -> None:
    assert party_key({"userId": "42", "emailAddress": "A@B.com"}) == "42"
    assert party_key({"emailAddress": " Sam.Okafor@Acme.Example "}) == "sam.okafor@acme.example"
    assert party_key({"name": "Sam", "userId": ""}) is None


def _write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "call.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_load_call_reads_a_valid_file(tmp_path: Path) -> None:
    path = _write(tmp_path, json.dumps(example_call(), indent=2))
    assert load_call(path) == example_call()
    assert load_call(str(path)) == example_call()
    bom = _write(tmp_path, b"\xef\xbb\xbf" + json.dumps(example_call()).encode())
    assert load_call(bom)["clientUniqueId"] == example_call()["clientUniqueId"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('{\n  "direction": "Inbound",\n  "parties": [\n    {"userId": "1",}\n  ]\n}',
         "invalid JSON at line 4, column 20"),
        ('{"a": 1}\n{"b": 2}', "invalid JSON at line 2, column 1: Extra data"),
        ("", "the file is empty"),
        ('{"parties": [], "parties": []}', "'parties' appears twice"),
        ('{"duration": NaN}', "NaN is not a JSON value"),
        ("[1, 2]", "must be a JSON object, got array"),
        (b'{"title": "\xff"}', "not UTF-8"),
    ],
)  # fmt: skip
def test_load_call_reports_bad_files(tmp_path: Path, content, fragment: str) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(CallValidationError) as info:
        load_call(path)
    [problem] = info.value.problems
    assert problem.path == "$" and fragment in problem.message
    assert str(path) in str(info.value)


def test_load_call_reports_missing_and_directory(tmp_path: Path) -> None:
    with pytest.raises(CallValidationError, match="file not found"):
        load_call(tmp_path / "nope.json")
    with pytest.raises(CallValidationError, match="is a directory"):
        load_call(tmp_path)
