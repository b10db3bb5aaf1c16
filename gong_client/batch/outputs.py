"""The files a batch writes for each call under ``--out``, and how a rerun knows they are current.

```
OUT/calls/NAME.json     the enriched call JSON
OUT/calls/NAME.rttm     its timeline as RTTM (with --rttm)
OUT/state/NAME.json     the stamp: content key, status, and what the summary shows
```

Every file is written atomically (a temporary file, then a rename), and the stamp last: a
stamp exists only beside complete outputs. The content key hashes the recording's bytes, the
call JSON and the diarization options, so a rerun skips a call only when all three are what
they were; a changed recording, call or option makes it run again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from diarize.cli import write_atomic
from diarize.options import Options
from gong_client.batch.errors import BatchError
from gong_client.batch.jobs import Job, Outcome

__all__ = ["Outputs", "content_key", "output_name"]

_KEY_VERSION = 1
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _options_fingerprint(options: Options) -> dict[str, Any]:
    skip = {"hook", "hf_token"}
    return {
        f.name: (str(v) if isinstance(v := getattr(options, f.name), Path) else v)
        for f in dataclasses.fields(options)
        if f.name not in skip
    }


def content_key(audio_sha256: str, call: dict, options: Options) -> str:
    """The key an up-to-date output is stamped with (hex SHA-256)."""
    material = {
        "version": _KEY_VERSION,
        "audio": audio_sha256,
        "call": call,
        "options": _options_fingerprint(options),
    }
    text = json.dumps(material, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def output_name(client_unique_id: str | None, audio: Path, audio_sha256: str) -> str:
    """A file-name stem for a call: its clientUniqueId when that is a safe name, else a safe
    form of it with a short hash (so distinct ids never share a name), or for a call without
    one, the recording's stem and a short hash of its content."""
    if client_unique_id:
        safe = _UNSAFE.sub("_", client_unique_id).strip("._-")
        if safe == client_unique_id and len(safe) <= 100:
            return safe
        digest = hashlib.sha256(client_unique_id.encode()).hexdigest()[:10]
        return f"{safe[:80] or 'call'}-{digest}"
    stem = _UNSAFE.sub("_", audio.stem).strip("._-")[:60] or "call"
    return f"{stem}-{audio_sha256[:12]}"


class Outputs:
    """The per-call files under one output folder.

    Parameters
    ----------
    out
        The ``--out`` folder (created with its ``calls/`` and ``state/`` folders).
    """

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.calls = self.out / "calls"
        self.state = self.out / "state"
        try:
            self.calls.mkdir(parents=True, exist_ok=True)
            self.state.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BatchError(
                f"{self.out}: cannot create the output folder ({exc.strerror})"
            ) from None

    def call_path(self, name: str) -> Path:
        """Where a call's enriched JSON goes."""
        return self.calls / f"{name}.json"

    def rttm_path(self, name: str) -> Path:
        """Where a call's RTTM goes."""
        return self.calls / f"{name}.rttm"

    def stamp_path(self, name: str) -> Path:
        """Where a call's stamp goes."""
        return self.state / f"{name}.json"

    def stamp(self, job: Job, *, rttm: bool) -> dict[str, Any] | None:
        """The stamp of an earlier run of this very call (same key), else ``None``.

        A ``done`` stamp counts only when its outputs are still there (and the RTTM, when
        asked for now).
        """
        try:
            stamp = json.loads(self.stamp_path(job.name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(stamp, dict) or stamp.get("key") != job.key:
            return None
        if stamp.get("status") == "done":
            if not self.call_path(job.name).is_file():
                return None
            if rttm and not self.rttm_path(job.name).is_file():
                return None
        return stamp

    def write_done(self, job: Job, outcome: Outcome, record: dict[str, Any]) -> None:
        """Write the enriched call (and RTTM), then the stamp that holds `record`."""
        assert outcome.call is not None
        text = json.dumps(outcome.call, indent=2, ensure_ascii=False) + "\n"
        write_atomic(self.call_path(job.name), text)
        if outcome.rttm is not None:
            write_atomic(self.rttm_path(job.name), outcome.rttm)
        self._write_stamp(job, record)

    def write_failed(self, job: Job, record: dict[str, Any]) -> None:
        """Stamp a failure, so a rerun reports it without retrying (unless --retry-failed)."""
        self._write_stamp(job, record)

    def _write_stamp(self, job: Job, record: dict[str, Any]) -> None:
        stamp = {"key": job.key, **{k: v for k, v in record.items() if k != "callId"}}
        write_atomic(self.stamp_path(job.name), json.dumps(stamp, ensure_ascii=False) + "\n")
