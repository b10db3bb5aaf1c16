"""Shared helpers for the gong_client tests: credentials, real audio files, read-backs."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import soundfile as sf

KEY = "emu-key-4711"
SECRET = "emu-secret-Zq8x-never-shown"
TOKEN = "emu-bearer-9c1f-never-shown"
REVOKED = "emu-revoked-token-77"


def write_audio(
    path: Path, seconds: float = 1.0, *, sample_rate: int = 8000, seed: int = 0, channels: int = 1
) -> Path:
    """Write a short tone-plus-noise recording; the format follows the suffix (WAV, FLAC...)."""
    rng = np.random.default_rng(seed)
    frames = int(seconds * sample_rate)
    t = np.arange(frames) / sample_rate
    tone = 0.2 * np.sin(2 * np.pi * (220 + 20 * seed) * t)
    data = tone[:, None] + 0.02 * rng.standard_normal((frames, channels))
    sf.write(path, data.astype(np.float32), sample_rate)
    return path


def make_call(cuid: str | None = "pbx-0001", *, second: int = 0, **extra: Any) -> dict:
    """A small valid POST /v2/calls body (without a timeline)."""
    call: dict[str, Any] = {
        "actualStart": f"2024-05-14T15:32:{second % 60:02d}-07:00",
        "direction": "Outbound",
        "primaryUser": "234599484848423",
        "title": "Renewal follow-up",
        "parties": [
            {"partyId": "1", "userId": "234599484848423", "name": "Dana Whitfield"},
            {"partyId": "2", "name": "Sam Okafor", "phoneNumber": "+1 212-555-0199"},
        ],
    }
    if cuid is not None:
        call["clientUniqueId"] = cuid
    call.update(extra)
    return call


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_back(base_url: str, route: str) -> Any:
    """One of the emulator's ``/emulator/...`` read-backs (they need the API's credentials)."""
    response = httpx.get(f"{base_url}/emulator/{route}", auth=(KEY, SECRET))
    response.raise_for_status()
    return response.json()


def stored_calls(base_url: str) -> list[dict]:
    """The emulator's calls, read back over HTTP."""
    return read_back(base_url, "calls")["calls"]


def logged_requests(base_url: str) -> list[dict]:
    """The emulator's request log, read back over HTTP."""
    return read_back(base_url, "requests")["requests"]


def request_rate(base_url: str) -> dict:
    """Requests per second as the emulator saw them (``arrived`` and ``admitted``)."""
    return read_back(base_url, "rate")


def max_in_window(times_s: list[float], window_s: float = 1.0) -> int:
    """The most timestamps that fall in any half-open window [t, t + window_s)."""
    ordered = sorted(times_s)
    best, start = 0, 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window_s:
            start += 1
        best = max(best, end - start + 1)
    return best


def away_from_utc_midnight(margin_s: float = 300.0) -> None:
    """Wait past UTC midnight when it is near: the emulator's daily count restarts there, and
    its Retry-After is the time left until then."""
    now = datetime.now(timezone.utc)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    left_s = (midnight - now).total_seconds()
    if left_s < margin_s:
        time.sleep(left_s + 1.0)
