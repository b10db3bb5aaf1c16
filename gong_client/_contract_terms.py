"""The words of the Gong call contract: its enums, limits, date-time rule and problem type.

The rules that use them walk a call in `gong_client.contract`; this module holds only what
they share, so each stays small.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

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
    "article",
    "describe_problems",
    "kind",
    "not_allowed",
    "parse_time",
    "show",
]


@dataclass(frozen=True)
class Problem:
    """One contract violation in a call JSON: where it is (a JSON path) and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def describe_problems(problems: list, source: str | None = None, shown: int = 5) -> str:
    """One line for a list of call problems: ``source: invalid call metadata: p1; p2 ...``."""
    where = f"{source}: " if source else ""
    listed = "; ".join(str(p) for p in problems[:shown])
    more = f" (and {len(problems) - shown} more)" if len(problems) > shown else ""
    return f"{where}invalid call metadata: {listed}{more}"


DIRECTIONS = frozenset({"Inbound", "Outbound", "Conference", "Unknown"})
CONTEXT_SYSTEMS = frozenset({"Salesforce", "HubSpot", "MicrosoftDynamic", "Generic"})
CALL_OBJECT_TYPES = frozenset(
    {"Opportunity", "Account", "Lead", "Contact", "User", "Opportunity,Account"}
)
PARTY_OBJECT_TYPES = frozenset(
    {"Lead", "Contact", "Account", "Opportunity", "User", "Lead,Contact"}
)
_LANGUAGE_LIST = """
    af-ZA am-ET ar-AE ar-BH ar-DZ ar-EG ar-IL ar-IQ ar-JO ar-KW ar-LB ar-MA ar-MR ar-OM ar-PS
    ar-QA ar-SA ar-TN ar-YE az-AZ bg-BG bn-BD bn-IN bs-BA ca-ES cs-CZ da-DK de-AT de-CH de-DE
    el-GR en-AB en-AU en-CA en-GB en-IE en-IN en-NZ en-PH en-SG en-US en-WL en-ZA es-AR es-BO
    es-CL es-CO es-CR es-DO es-EC es-ES es-GT es-HN es-MX es-NI es-PA es-PE es-PR es-PY es-SV
    es-US es-UY et-EE eu-ES fa-IR fi-FI fil-PH fr-BE fr-CA fr-CH fr-FR gl-ES gu-IN he-IL hi-IN
    hr-HR hu-HU hy-AM id-ID is-IS it-CH it-IT ja-JP jv-ID ka-GE kk-KZ km-KH kn-IN ko-KR lo-LA
    lt-LT lv-LV mk-MK ml-IN mn-MN mr-IN ms-MY my-MM ne-NP nl-BE nl-NL no-NO pa-Guru-IN pl-PL
    pt-BR pt-PT ro-RO ru-RU si-LK sk-SK sl-SI sq-AL sr-RS su-ID sv-SE sw-KE sw-TZ ta-IN ta-LK
    ta-MY ta-SG te-IN th-TH tr-TR uk-UA ur-IN ur-PK uz-UZ vi-VN yue-Hant-HK zh-CN zh-TW zu-ZA
"""
LANGUAGE_CODES = frozenset(_LANGUAGE_LIST.split())

CLIENT_UNIQUE_ID_MAX_CHARS = 2048
FREE_TEXT_MAX_CHARS = 255
INT32_MAX = 2**31 - 1
_MAX_OFFSET = timedelta(hours=18)

# Extended ISO-8601 date-time; seconds and fractions optional, offset checked separately so a
# naive time gets its own message.
# Extended ISO-8601 date-time; seconds and fractions optional, offset checked separately so a
# naive time gets its own message.
_TIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?",
    re.ASCII,
)
_TIME_HINT = "use 'Z' or an offset, e.g. '2018-02-17T02:30:00-08:00'"


def kind(value: object) -> str:
    """The JSON type name of a parsed value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def show(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[: limit - 3] + "...")


def article(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def not_allowed(value: str, allowed: frozenset[str]) -> str:
    """Why `value` is not in the enum `allowed`: the allowed values (all of a short enum; of a
    long one, those of the same language), and the likely intended one."""
    near = [a for a in allowed if a.lower() == value.lower().replace("_", "-")]
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    if len(allowed) <= 8:
        listed = ", ".join(repr(a) for a in sorted(allowed))
        return f"must be one of {listed}; got {show(value)}{hint}"
    prefix = value.replace("_", "-").split("-")[0].lower()
    same = sorted(a for a in allowed if a.split("-")[0].lower() == prefix)
    listed = ", ".join(repr(a) for a in same) if same else "'en-US', 'de-DE', 'fr-FR', ..."
    return (
        f"is not one of the {len(allowed)} accepted values ({listed}; all are in the"
        f" Gong API's list of language codes), got {show(value)}{hint}"
    )


def parse_time(text: str) -> tuple[datetime | None, str | None]:
    """Parse an ISO-8601 date-time with offset; return (time, None) or (None, reason)."""
    match = _TIME_RE.fullmatch(text)
    if not match:
        return None, f"must be an ISO-8601 date-time ({_TIME_HINT}), got {show(text)}"
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    if offset is None:
        return None, f"is a naive time without a UTC offset ({_TIME_HINT}), got {show(text)}"
    if offset == "Z":
        tz = timezone.utc
    else:
        sign = -1 if offset[0] == "-" else 1
        delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
        if delta > _MAX_OFFSET or int(offset[4:6]) >= 60:
            return None, f"has an impossible UTC offset {offset!r}"
        tz = timezone(sign * delta)
    micros = int((fraction or "0").ljust(6, "0")[:6])
    try:
        when = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micros, tz
        )
    except ValueError as exc:
        return None, f"is not a real date and time ({exc}), got {show(text)}"
    return when, None
