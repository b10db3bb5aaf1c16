"""`diarize.call` against Gong's published schema (``NewCallAddingRequest``).

What the schema rejects, `problems_in_call` rejects too, at the same JSON path. The checks
that go further than the schema, and the one place where they are more lenient, are listed
below with the reason; each list is asserted both ways, so a change in the spec shows up here.

Skipped when ``../shared/gong-api/openapi-v2.json`` is not beside the checkout.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from diarize.call import (
    CALL_OBJECT_TYPES,
    CONTEXT_SYSTEMS,
    DIRECTIONS,
    LANGUAGE_CODES,
    PARTY_OBJECT_TYPES,
    problems_in_call,
)
from tests.contract import (
    SHARED_DIR,
    example_call,
    example_channel_call,
    openapi_spec,
    openapi_to_jsonschema,
    schema_validator,
)

SPEC = openapi_spec()
needs_spec = pytest.mark.skipif(SPEC is None, reason="Gong's openapi-v2.json is absent")
SEG0 = ("speakersTimeline", "speechSegments", 0)


def _schemas() -> dict:
    assert SPEC is not None
    return SPEC["components"]["schemas"]


def schema_paths(call: object, *, strict: bool = True) -> set[str]:
    """JSON paths of the schema's errors; a missing required key is reported at its own path."""
    validator = schema_validator("NewCallAddingRequest", strict=strict)
    assert validator is not None
    paths = set()
    for error in validator.iter_errors(call):
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = set(error.validator_value) - set(error.instance)
            paths.update(f"{error.json_path}.{key}" for key in missing)
        else:
            paths.add(error.json_path)
    return paths


def our_paths(call: object) -> set[str]:
    return {p.path for p in problems_in_call(call)}


def edit(*path, value=None, drop: bool = False) -> Callable[[dict], dict]:
    """A change to ``example_call()``: set ``value`` at ``path`` (or delete it)."""

    def change(call: dict) -> dict:
        node = call
        for step in path[:-1]:
            node = node[step]
        if drop:
            del node[path[-1]]
        else:
            node[path[-1]] = copy.deepcopy(value)
        return call

    return change


@needs_spec
def test_valid_examples_satisfy_the_schema() -> None:
    assert schema_paths(example_channel_call()) == set()
    assert schema_paths(example_call(), strict=False) == set()
    assert problems_in_call(example_call()) == problems_in_call(example_channel_call()) == []


@needs_spec
def test_full_example_uses_every_documented_field() -> None:
    documented = set(_schemas()["NewCallAddingRequest"]["properties"])
    assert documented <= set(example_call()) | set(example_channel_call())
    party_fields = set(_schemas()["CallParticipant"]["properties"])
    used = set().union(*example_call()["parties"], *example_channel_call()["parties"])
    assert party_fields <= used


@needs_spec
def test_enums_match_the_spec() -> None:
    props = _schemas()["NewCallAddingRequest"]["properties"]
    assert set(props["direction"]["enum"]) == DIRECTIONS
    for name in ("CallUploadContext", "PartyUploadContext"):
        assert set(_schemas()[name]["properties"]["system"]["enum"]) == CONTEXT_SYSTEMS
    call_types = _schemas()["ExternalCrmCallObject"]["properties"]["objectType"]["enum"]
    party_types = _schemas()["ExternalCrmPartyObject"]["properties"]["objectType"]["enum"]
    assert set(call_types) == CALL_OBJECT_TYPES
    assert set(party_types) == PARTY_OBJECT_TYPES


def _listed_languages(text: str) -> set[str]:
    listed = text.split("Valid values are:")[1].splitlines()[0]
    return {code.strip() for code in listed.split(",") if code.strip()}


@needs_spec
def test_language_codes_match_the_spec_and_the_seed() -> None:
    described = _schemas()["NewCallAddingRequest"]["properties"]["languageCode"]["description"]
    assert _listed_languages(described) == LANGUAGE_CODES
    seeds = sorted((SHARED_DIR / "seed").glob("*.txt"))
    for seed in seeds:
        text = seed.read_text(encoding="utf-8")
        if "Valid values are:" in text:
            assert _listed_languages(text) == LANGUAGE_CODES


@needs_spec
def test_required_fields_are_rejected_when_missing() -> None:
    required = _schemas()["NewCallAddingRequest"]["required"]
    for key in required:
        call = edit(key, drop=True)(example_channel_call())
        assert schema_paths(call) == our_paths(call) == {f"$.{key}"}


@needs_spec
@pytest.mark.parametrize(
    ("schema", "where"), [("NewCallAddingRequest", ()), ("CallParticipant", ("parties", 1))]
)
def test_every_string_property_is_type_checked(schema: str, where: tuple) -> None:
    for key, prop in _schemas()[schema]["properties"].items():
        if prop.get("type") != "string":
            continue
        call = edit(*where, key, value=12345)(example_channel_call())
        path = "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in (*where, key))
        assert schema_paths(call) == {path}
        assert path in our_paths(call), key


@needs_spec
def test_length_limits_match_the_spec() -> None:
    for key, prop in _schemas()["NewCallAddingRequest"]["properties"].items():
        if "maxLength" not in prop:
            continue
        limit = prop["maxLength"]
        at_limit = edit(key, value="x" * limit)(example_channel_call())
        assert schema_paths(at_limit) == set() and problems_in_call(at_limit) == []
        over = edit(key, value="x" * (limit + 1))(example_channel_call())
        assert schema_paths(over) == our_paths(over) == {f"$.{key}"}


# Invalid for the schema; `problems_in_call` must report every path the schema reports.
BOTH_REJECT = [
    edit("direction", value="Sideways"),
    edit("duration", value="125.8"),
    edit("parties", value=[]),
    edit("parties", 1, value="Sam"),
    edit("parties", 1, "mediaChannelId", value=2),
    edit("parties", 1, "mediaChannelId", value=-1),
    edit("parties", 1, "mediaChannelId", value="0"),
    edit("parties", 1, "mediaChannelId", value=True),
    edit("parties", 1, "context", 0, "system", value="Zoho"),
    edit("parties", 1, "context", 0, "objects", 0, "objectType", value="Account,Lead"),
    edit("parties", 1, "context", 0, "objects", 0, "objectId", drop=True),
    edit("context", value={"system": "Salesforce"}),
    edit("context", 0, "system", drop=True),
    edit("context", 0, "objects", 0, "objectType", value="Deal"),
    edit("speakersTimeline", value=[]),
    edit("speakersTimeline", "precise", value="yes"),
    edit("speakersTimeline", "speechSegments", value={}),
    edit(*SEG0, value=[0, 10]),
    edit(*SEG0, "fromTime", drop=True),
    edit(*SEG0, "fromTime", value=-1),
    edit(*SEG0, "fromTime", value=0.5),
    edit(*SEG0, "toTime", value=2**31),
    edit(*SEG0, "partyIds", value="1"),
    edit(*SEG0, "partyIds", value=[1]),
    edit("title", value=None),
]


@needs_spec
@pytest.mark.parametrize("change", BOTH_REJECT)
def test_what_the_schema_rejects_we_reject_at_the_same_path(change) -> None:
    call = change(example_call())
    expected = schema_paths(call, strict=False)
    assert expected, "the schema should reject this example"
    assert expected <= our_paths(call)


@needs_spec
def test_top_level_non_object_is_rejected_by_both() -> None:
    assert schema_paths([]) == our_paths([]) == {"$"}


# Accepted by the schema, rejected on purpose; the reason for each is in the prose of the
# contract or in what the value would do at Gong.
STRICTER = {
    "naive time (the spec says: UTC Z or an offset)": edit(
        "actualStart", value="2024-05-14T15:32:08"
    ),
    "not a time at all": edit("scheduledStart", value="yesterday"),
    "impossible date": edit("actualStart", value="2023-02-29T10:00:00Z"),
    "scheduled end before start": edit("scheduledEnd", value="2024-05-14T15:00:00-07:00"),
    "empty clientUniqueId (minLength 0, but it is the dedup key)": edit("clientUniqueId", value=""),
    "empty primaryUser": edit("primaryUser", value=""),
    "primaryUser is an e-mail, not a Gong user id": edit("primaryUser", value="dana@example.com"),
    "no party for primaryUser (the spec: a party must be provided)": edit(
        "parties", 0, "userId", value="9"
    ),
    "languageCode outside the listed values (listed in prose only)": edit(
        "languageCode", value="en-XX"
    ),
    "negative duration": edit("duration", value=-3),
    "bad e-mail": edit("parties", 1, "emailAddress", value="sam at acme"),
    "ftp downloadMediaUrl (Gong checks an HTTP content type)": edit(
        "downloadMediaUrl", value="ftp://h/a.wav"
    ),
    "empty workspaceId": edit("workspaceId", value=""),
    "duplicate partyId": edit("parties", 1, "partyId", value="1"),
    "contradicting rep channels": lambda c: edit("parties", 1, "mediaChannelId", value=1)(
        edit("parties", 0, "mediaChannelId", value=0)(c)
    ),
    "party without partyId beside a timeline": edit("parties", 1, "partyId", drop=True),
    "timeline without speechSegments": edit("speakersTimeline", "speechSegments", drop=True),
    "segment ends before it starts": edit(*SEG0, "toTime", value=0),
    "segment with no party": edit(*SEG0, "partyIds", value=[]),
    "segment names an unknown party": edit(*SEG0, "partyIds", value=["7"]),
    "party listed twice in a segment": edit(*SEG0, "partyIds", value=["1", "1"]),
    "empty CRM objectId": edit("context", 0, "objects", 0, "objectId", value=""),
}


@needs_spec
@pytest.mark.parametrize("reason", list(STRICTER))
def test_intentionally_stricter_than_the_schema(reason: str) -> None:
    call = STRICTER[reason](example_call())
    assert schema_paths(call, strict=False) == set(), "the schema now rejects it: move the case"
    assert problems_in_call(call), reason


@needs_spec
def test_intentionally_lenient_about_crm_field_values() -> None:
    # ContextField.value is "type: object" in the schema, but its own example is "Gong Inc."
    # and CRM fields (StageName, Amount) are text: any JSON value is accepted.
    field = _schemas()["ContextField"]["properties"]["value"]
    assert field["type"] == "object" and isinstance(field["example"], str)
    call = example_call()
    assert schema_paths(call, strict=True) == {"$.context[0].objects[0].fields[0].value"}
    assert problems_in_call(call) == []


def test_openapi_nullable_becomes_a_null_type() -> None:
    node = {
        "type": "object",
        "properties": {
            "a": {"type": "string", "nullable": True, "enum": ["x"]},
            "b": {"type": "integer", "nullable": False},
            "c": {"type": "array", "items": {"type": "number", "nullable": True}},
        },
    }
    out = openapi_to_jsonschema(node)
    assert out["properties"]["a"] == {"type": ["string", "null"], "enum": ["x", None]}
    assert out["properties"]["b"] == {"type": "integer"}
    assert out["properties"]["c"]["items"] == {"type": ["number", "null"]}
    assert node["properties"]["a"]["nullable"] is True, "the input must not be modified"
