"""Gong's API description for contract tests, and a realistic call body to test with.

The OpenAPI file lives beside the checkout (``<repo>/../shared/gong-api/openapi-v2.json``) and
is never copied into the project; every helper returns ``None`` when it is absent, so that the
tests using it can skip::

    validator = schema_validator("NewCallAddingRequest")
    if validator is None:
        pytest.skip("Gong's openapi-v2.json is not beside this checkout")
    validator.validate(body)
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

__all__ = [
    "SHARED_DIR",
    "SPEC_PATH",
    "example_call",
    "example_channel_call",
    "openapi_spec",
    "openapi_to_jsonschema",
    "schema_validator",
]

SHARED_DIR = Path(__file__).resolve().parents[1] / ".." / "shared"
SPEC_PATH = SHARED_DIR / "gong-api" / "openapi-v2.json"

# Where the published schema contradicts itself, the lenient validator follows the prose:
# ContextField.value and CrmPartyContextField.value say "type: object" while their own
# example (and every real CRM field) is a string.
_LENIENT_PATCHES = {
    ("ContextField", "value"): {},
    ("CrmPartyContextField", "value"): {},
}

_FORMATS = jsonschema.FormatChecker()


@_FORMATS.checks("int32")
def _is_int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


@_FORMATS.checks("int64")
def _is_int64(value: object) -> bool:
    return not isinstance(value, int) or -(2**63) <= value < 2**63


@lru_cache(maxsize=1)
def _load_spec() -> dict | None:
    try:
        return json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def openapi_spec() -> dict | None:
    """Return Gong's OpenAPI 3.0 document (a fresh copy), or ``None`` when it is absent."""
    spec = _load_spec()
    return None if spec is None else copy.deepcopy(spec)


def openapi_to_jsonschema(node: Any) -> Any:
    """Translate OpenAPI 3.0 schema quirks into JSON Schema (a new object is returned).

    ``nullable: true`` becomes a ``"null"`` member of ``type`` (and of ``enum`` when present).
    """
    if isinstance(node, list):
        return [openapi_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: openapi_to_jsonschema(value) for key, value in node.items()}
    if out.pop("nullable", False) is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def schema_validator(name: str, *, strict: bool = True) -> jsonschema.Validator | None:
    """Return a validator for ``components/schemas/<name>``, or ``None`` when the spec is absent.

    ``$ref``s resolve within the document; ``format: int32/int64`` ranges are checked.
    ``strict=False`` applies `_LENIENT_PATCHES` (places where the schema contradicts its own
    examples). Raises ``KeyError`` for a schema name the document lacks.
    """
    spec = openapi_spec()
    if spec is None:
        return None
    schemas = spec["components"]["schemas"]
    if name not in schemas:
        raise KeyError(f"no schema {name!r} in {SPEC_PATH.name}")
    if not strict:
        for (schema, prop), replacement in _LENIENT_PATCHES.items():
            if prop in schemas.get(schema, {}).get("properties", {}):
                schemas[schema]["properties"][prop] = replacement
    root = {
        "$ref": f"#/components/schemas/{name}",
        "components": openapi_to_jsonschema(spec["components"]),
    }
    return jsonschema.Draft4Validator(root, format_checker=_FORMATS)


def example_call() -> dict:
    """A realistic, valid ``POST /v2/calls`` body with a speakers timeline (a fresh copy).

    With `example_channel_call` it uses every documented field. Its CRM field value is a
    string, so validate it against the schema with ``strict=False``.
    """
    return {
        "clientUniqueId": "pbx-asterisk-1715726528.4411",
        "title": "Acme Corp - renewal follow-up",
        "purpose": "Renewal",
        "scheduledStart": "2024-05-14T15:30:00-07:00",
        "scheduledEnd": "2024-05-14T16:00:00-07:00",
        "actualStart": "2024-05-14T15:32:08-07:00",
        "duration": 1254.6,
        "direction": "Outbound",
        "disposition": "Connected",
        "primaryUser": "234599484848423",
        "parties": [
            {
                "partyId": "1",
                "userId": "234599484848423",
                "name": "Dana Whitfield",
                "emailAddress": "dana.whitfield@example.com",
                "phoneNumber": "+1 415-555-0100",
            },
            {
                "partyId": "2",
                "name": "Sam Okafor",
                "emailAddress": "sam.okafor@acme.example",
                "phoneNumber": "+1 212-555-0199",
                "context": [
                    {
                        "system": "Salesforce",
                        "objects": [{"objectType": "Contact", "objectId": "0033600000sV7grAAC"}],
                    }
                ],
            },
        ],
        "context": [
            {
                "system": "Salesforce",
                "objects": [
                    {
                        "objectType": "Opportunity",
                        "objectId": "0063600000AbCdEAAZ",
                        "fields": [{"name": "StageName", "value": "Negotiation"}],
                    }
                ],
            }
        ],
        "customData": "queue=renewals;agent=1017",
        "speakersTimeline": {
            "precise": False,
            "speechSegments": [
                {"fromTime": 0, "toTime": 4200, "partyIds": ["1"]},
                {"fromTime": 3900, "toTime": 9100, "partyIds": ["2"]},
                {"fromTime": 9100, "toTime": 9800, "partyIds": ["1", "2"]},
            ],
        },
        "callProviderCode": "ringcentral",
        "meetingUrl": "https://v.ringcentral.com/join/148123456",
        "workspaceId": "623457276584334",
        "languageCode": "en-US",
        "flowContext": {"taskId": "7782342274025937895"},
    }


def example_channel_call() -> dict:
    """A valid stereo call in channel mode: the rep's ``mediaChannelId``, no timeline, and a
    ``downloadMediaUrl`` instead of a media upload (a fresh copy; schema-valid when strict)."""
    return {
        "clientUniqueId": "dialer-2024-06-03-000187",
        "actualStart": "2024-06-03T09:12:44Z",
        "direction": "Inbound",
        "primaryUser": "8812004455661",
        "parties": [
            {"userId": "8812004455661", "name": "Lea Brandt", "mediaChannelId": 1},
            {"phoneNumber": "+49 30 5550 1234"},
        ],
        "downloadMediaUrl": "https://recordings.example.com/2024/06/03/000187.wav",
        "languageCode": "de-DE",
    }
