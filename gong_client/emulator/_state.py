"""The emulator's configuration, stored calls, company-wide limits, faults and request log."""

from __future__ import annotations

import json
import math
import os
import random
import re
import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from gong_client._config import MAX_MEDIA_BYTES

__all__ = [
    "CALL_ID_RE",
    "CompanyLimits",
    "EmulatorConfig",
    "Fault",
    "Faults",
    "RateRecord",
    "RequestLog",
    "Store",
]

CALL_ID_RE = re.compile(r"[0-9]{1,20}")
"""Gong call ids are numeric strings of up to 20 digits; anything else is unknown."""


@dataclass(frozen=True, repr=False)
class EmulatorConfig:
    """How the emulator behaves.

    Parameters
    ----------
    data_dir
        Where calls (``calls/<callId>.json``) and media (``media/<callId>.<ext>``) are kept.
    access_keys
        Accepted Basic credentials, access key -> secret.
    bearer_tokens, revoked_tokens
        Accepted OAuth tokens, and tokens answered with 403 (revoked or wrong region).
    limit_per_s, daily_limit
        The company-wide limits: requests in any one-second window, and per UTC day.
    max_media_bytes
        The media size cap (Gong's 1.5 GB).
    fail_rate, drop_rate, throttle_rate
        Fractions of API requests answered 500, dropped (the connection closes after the
        status line), or answered 429 beyond the real limits. A failure or drop happens
        before or after the request is processed (half each): after means the call or media
        *was* stored, which is what makes retrying a POST dangerous.
    slow_s, slow_rate
        Delay, in seconds, added to a fraction ``slow_rate`` of API requests.
    cut_rate
        Fraction of media uploads whose connection is dropped part-way through the body (a
        random share of it read first); on other requests, a drop before processing.
    throttle_burst_s
        When above 0, an injected 429 starts a burst: every API request for that many seconds
        is answered 429 with the ``Retry-After`` left in the burst.
    seed
        Seed of the fault draws (``None``: random).
    app_url
        Base of the call URLs returned by the media step (``{app_url}/call?id=...``);
        ``None``: the emulator's own ``/emulator/calls/{id}``, since it is not Gong.
    page_size
        Calls per page of ``GET /v2/calls``.
    """

    data_dir: Path
    access_keys: Mapping[str, str] = field(default_factory=dict)
    bearer_tokens: frozenset[str] = frozenset()
    revoked_tokens: frozenset[str] = frozenset()
    limit_per_s: int = 3
    daily_limit: int = 10_000
    max_media_bytes: int = MAX_MEDIA_BYTES
    fail_rate: float = 0.0
    drop_rate: float = 0.0
    throttle_rate: float = 0.0
    slow_s: float = 0.0
    slow_rate: float = 1.0
    cut_rate: float = 0.0
    throttle_burst_s: float = 0.0
    seed: int | None = None
    app_url: str | None = None
    page_size: int = 100

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        rates = (self.fail_rate, self.drop_rate, self.throttle_rate, self.slow_rate, self.cut_rate)
        if any(not 0.0 <= r <= 1.0 for r in rates):
            raise ValueError("fault rates must lie between 0 and 1")
        if self.fail_rate + self.drop_rate + self.throttle_rate + self.cut_rate > 1.0:
            raise ValueError("fail_rate + drop_rate + throttle_rate + cut_rate must not exceed 1")
        if self.throttle_burst_s < 0:
            raise ValueError("throttle_burst_s must be >= 0")
        if min(self.limit_per_s, self.daily_limit, self.max_media_bytes, self.page_size) < 1:
            raise ValueError("limits must be positive")
        if self.slow_s < 0:
            raise ValueError("slow_s must be >= 0")

    def __repr__(self) -> str:
        return (
            f"EmulatorConfig(data_dir={str(self.data_dir)!r}, access_keys={len(self.access_keys)}"
            f" key(s), bearer_tokens={len(self.bearer_tokens)}, limit_per_s={self.limit_per_s}, "
            f"daily_limit={self.daily_limit}, fail_rate={self.fail_rate}, "
            f"drop_rate={self.drop_rate}, throttle_rate={self.throttle_rate}, "
            f"slow_s={self.slow_s}, cut_rate={self.cut_rate}, "
            f"throttle_burst_s={self.throttle_burst_s}, seed={self.seed})"
        )


@dataclass(frozen=True)
class Fault:
    """What to do to one request: ``kind`` in {None, "fail", "drop", "throttle", "cut"}.

    ``cut_fraction`` is the share of a media body read before a "cut" drops the connection;
    ``retry_after_s`` is the ``Retry-After`` of a "throttle". A delay of ``slow_s`` comes
    before the request is processed, or after it when ``slow_after`` (the work is then done
    although a client that timed out never hears of it).
    """

    kind: str | None = None
    after: bool = False
    slow_s: float = 0.0
    cut_fraction: float = 0.0
    retry_after_s: int = 1
    slow_after: bool = False


class Faults:
    """Seeded fault draws, one per API request."""

    def __init__(
        self, config: EmulatorConfig, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._config = config
        self._rng = random.Random(config.seed)
        self._clock = clock
        self._burst_until = -math.inf
        self.counts: dict[str, int] = {}
        """How many of each kind were injected (a burst's 429s counted one by one)."""

    def draw(self) -> Fault:
        """Draw the fault of the next request."""
        fault = self._draw()
        if fault.slow_s:
            fault = replace(fault, slow_after=self._rng.random() < 0.5)
        for kind in (fault.kind, "slow" if fault.slow_s else None):
            if kind is not None:
                self.counts[kind] = self.counts.get(kind, 0) + 1
        return fault

    def _draw(self) -> Fault:
        c = self._config
        pick, after, slow = self._rng.random(), self._rng.random() < 0.5, self._rng.random()
        slow_s = c.slow_s if c.slow_s > 0 and slow < c.slow_rate else 0.0
        now = self._clock()
        if now < self._burst_until:
            return Fault("throttle", False, 0.0, retry_after_s=math.ceil(self._burst_until - now))
        for kind, rate in (("fail", c.fail_rate), ("drop", c.drop_rate)):
            if pick < rate:
                return Fault(kind, after, slow_s)
            pick -= rate
        if pick < c.throttle_rate:
            if c.throttle_burst_s > 0:
                self._burst_until = now + c.throttle_burst_s
                return Fault("throttle", False, 0.0, retry_after_s=math.ceil(c.throttle_burst_s))
            return Fault("throttle", False, slow_s)
        pick -= c.throttle_rate
        if pick < c.cut_rate:
            return Fault("cut", False, slow_s, cut_fraction=self._rng.random())
        return Fault(None, False, slow_s)


class CompanyLimits:
    """Gong's company-wide limits: ``limit_per_s`` in any 1 s window, ``daily_limit`` a UTC day.

    Requests refused with 429 do not count.
    """

    def __init__(
        self,
        limit_per_s: int,
        daily_limit: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.limit_per_s = limit_per_s
        self.daily_limit = daily_limit
        self._clock, self._wall = clock, wall
        self._recent: deque[float] = deque()
        self._day, self._today = "", 0

    def admit(self) -> int | None:
        """Count a request and return ``None``, or return the ``Retry-After`` seconds."""
        now, wall = self._clock(), datetime.fromtimestamp(self._wall(), timezone.utc)
        day = wall.strftime("%Y-%m-%d")
        if day != self._day:
            self._day, self._today = day, 0
        if self._today >= self.daily_limit:
            midnight = (wall + timedelta(days=1)).replace(hour=0, minute=0, second=0)
            return max(1, math.ceil((midnight - wall).total_seconds()))
        while self._recent and self._recent[0] <= now - 1.0:
            self._recent.popleft()
        if len(self._recent) >= self.limit_per_s:
            return max(1, math.ceil(self._recent[0] + 1.0 - now))
        self._recent.append(now)
        self._today += 1
        return None


class RateRecord:
    """How fast API requests came, as the server saw them, kept for the whole run.

    Two series: every request that ``arrived`` (before auth and limits), and those
    ``admitted`` under the company-wide limit. For each, the most requests that fell into any
    one-second window (sliding, on the monotonic clock), and the count per whole second of
    wall-clock time. Unlike the request log, nothing is dropped, however long the run.
    """

    SERIES = ("arrived", "admitted")

    def __init__(self, window_s: float = 1.0) -> None:
        self.window_s = window_s
        self._recent: dict[str, deque[float]] = {k: deque() for k in self.SERIES}
        self._max = dict.fromkeys(self.SERIES, 0)
        self._per_second: dict[str, dict[int, int]] = {k: {} for k in self.SERIES}

    def add(self, series: str, mono_s: float, wall_s: float) -> None:
        """Count one request of a series, received at these clock readings."""
        recent = self._recent[series]
        recent.append(mono_s)
        while recent[0] <= mono_s - self.window_s:
            recent.popleft()
        self._max[series] = max(self._max[series], len(recent))
        second = int(wall_s)
        counts = self._per_second[series]
        counts[second] = counts.get(second, 0) + 1

    def summary(self) -> dict[str, Any]:
        """``{series: {maxInAnyWindow, total, perSecond: {unix second: count}}}``."""
        return {
            series: {
                "maxInAnyWindow": self._max[series],
                "total": sum(self._per_second[series].values()),
                "perSecond": {str(k): v for k, v in sorted(self._per_second[series].items())},
            }
            for series in self.SERIES
        }


class RequestLog:
    """The last ``size`` API requests, as dicts, for the read-back endpoint."""

    def __init__(self, size: int = 10_000) -> None:
        self._items: deque[dict[str, Any]] = deque(maxlen=size)
        self._seq = 0

    def add(self, item: dict[str, Any]) -> None:
        """Append one request record (numbered in arrival order)."""
        self._seq += 1
        self._items.append({"seq": self._seq, **item})

    def items(self) -> list[dict[str, Any]]:
        """All kept records, oldest first."""
        return list(self._items)


class Store:
    """Calls and media on disk under the data directory, indexed in memory.

    Paths are built only from call ids this store generated itself (looked up by the id in
    the URL, never joined from it).
    """

    def __init__(self, data_dir: Path) -> None:
        self.calls_dir = data_dir / "calls"
        self.media_dir = data_dir / "media"
        self.tmp_dir = data_dir / "tmp"
        for d in (self.calls_dir, self.media_dir, self.tmp_dir):
            d.mkdir(parents=True, exist_ok=True)
        self._records: dict[str, dict[str, Any]] = {}
        self._by_cuid: dict[str, str] = {}
        for path in sorted(self.calls_dir.glob("*.json")):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(record, dict) and CALL_ID_RE.fullmatch(str(record.get("callId"))):
                self._records[record["callId"]] = record
                self._by_cuid[record["clientUniqueId"]] = record["callId"]

    def get(self, call_id: str) -> dict[str, Any] | None:
        """Return a stored call by id (``None`` for an unknown or malformed id)."""
        if not CALL_ID_RE.fullmatch(call_id):
            return None
        return self._records.get(call_id)

    def by_client_unique_id(self, cuid: str) -> dict[str, Any] | None:
        """Return the stored call with this clientUniqueId, if any."""
        call_id = self._by_cuid.get(cuid)
        return self._records[call_id] if call_id else None

    def all(self) -> list[dict[str, Any]]:
        """Every stored call, in creation order."""
        return sorted(self._records.values(), key=lambda r: r["seq"])

    def create(self, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        """Store a new call and return its record."""
        call_id = str(10**18 + secrets.randbelow(9 * 10**18))
        while call_id in self._records:
            call_id = str(10**18 + secrets.randbelow(9 * 10**18))
        record = {
            "callId": call_id,
            "seq": len(self._records) + 1,
            "clientUniqueId": body["clientUniqueId"],
            "createdAt": time.time(),
            "requestId": request_id,
            "call": body,
            "media": None,
        }
        self._records[call_id] = record
        self._by_cuid[body["clientUniqueId"]] = call_id
        self._save(record)
        return record

    def new_temp_path(self) -> Path:
        """A fresh file path under the data directory for an incoming upload."""
        return self.tmp_dir / f"{secrets.token_hex(12)}.part"

    def attach_media(self, record: dict[str, Any], temp: Path, media: dict[str, Any]) -> None:
        """Move a received file into place as the call's media (replacing any earlier one)."""
        final = self.media_dir / f"{record['callId']}.{media['extension']}"
        old = record.get("media")
        os.replace(temp, final)
        if old and old.get("file") and old["file"] != final.name:
            (self.media_dir / old["file"]).unlink(missing_ok=True)
        uploads = (old or {}).get("uploads", 0) + 1
        record["media"] = {**media, "file": final.name, "uploads": uploads}
        self._save(record)

    def media_path(self, record: dict[str, Any]) -> Path | None:
        """The stored media file of a call, or ``None``."""
        media = record.get("media")
        return self.media_dir / media["file"] if media else None

    def _save(self, record: dict[str, Any]) -> None:
        path = self.calls_dir / f"{record['callId']}.json"
        temp = path.with_suffix(".tmp")
        temp.write_text(json.dumps(record, indent=1), encoding="utf-8")
        os.replace(temp, path)
