"""What travels between the batch driver and its executors: `Job`, `WorkSettings`, `Outcome`.

All three are plain picklable data: a job goes to a worker process (or a Ray actor), an
outcome comes back. Nothing here imports torch or the models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diarize.options import Options

__all__ = ["Job", "Outcome", "WorkSettings"]


@dataclass(frozen=True)
class Job:
    """One call to diarize.

    Attributes
    ----------
    index
        Position of the call in the manifest (0-based); unique within a batch.
    line
        Where the call was listed: its line number in a JSONL or CSV manifest (1-based), 0 for
        a folder.
    audio
        Absolute path of the recording.
    call
        The validated call JSON (with its clientUniqueId).
    name
        The stem of the call's output files under ``--out``.
    key
        Content key: a hash of the recording's bytes, the call JSON and the diarization
        options; an output stamped with the same key is up to date.
    channels
        Channel count read from the file's header (0 when it could not be read).
    """

    index: int
    line: int
    audio: str
    call: dict[str, Any]
    name: str
    key: str
    channels: int = 0

    @property
    def client_unique_id(self) -> str:
        """The call's clientUniqueId."""
        return str(self.call.get("clientUniqueId", ""))

    @property
    def priority(self) -> int:
        """Lower runs first: stereo calls (light: a speech detector per channel) before mono
        ones (heavy: speaker diarization), so that a stereo call never waits behind them."""
        return 0 if self.channels == 2 else 1

    @property
    def label(self) -> str:
        """A short name for messages: the recording's file name."""
        return Path(self.audio).name


@dataclass(frozen=True)
class WorkSettings:
    """What every call of a batch is diarized with; the same for all jobs.

    Attributes
    ----------
    options
        The diarization options (no progress hook: it would not cross processes).
    rttm
        Also render the timeline as RTTM.
    threads
        Torch threads per worker process (``None``: leave torch's default).
    """

    options: Options = field(default_factory=Options)
    rttm: bool = False
    threads: int | None = None


@dataclass
class Outcome:
    """What working on one `Job` gave.

    Attributes
    ----------
    index
        The job's index.
    ok
        Whether the call was diarized.
    call
        The enriched call JSON (when ok).
    rttm
        The timeline as RTTM (when ok and asked for).
    layout
        The recording's channel layout (``dual-channel``, ``mono``, ...), when known.
    audio_s
        Duration of the recording, seconds (0 when unknown).
    processing_s
        Seconds spent on the call in the worker.
    segments
        The timeline as ``(start_s, end_s, partyId)`` tuples, for the who-spoke-when strip.
    speakers
        How many voices were found (tied to a party or not).
    note
        Why no timeline was added, when none was (e.g. voices that match no party).
    error
        One line saying what went wrong (when not ok).
    reason
        The kind of failure, for the totals: ``audio``, ``call``, ``parties``, ``model``,
        ``worker died``, ``internal``, ...
    worker
        Which worker did it (a process id or an actor name), for the record.
    """

    index: int
    ok: bool
    call: dict[str, Any] | None = None
    rttm: str | None = None
    layout: str | None = None
    audio_s: float = 0.0
    processing_s: float = 0.0
    segments: list[tuple[float, float, str]] = field(default_factory=list)
    speakers: int = 0
    note: str | None = None
    error: str | None = None
    reason: str | None = None
    worker: str | None = None

    @classmethod
    def failure(
        cls, job: Job, error: str, reason: str, *, processing_s: float = 0.0, worker: str = ""
    ) -> Outcome:
        """A failed outcome for `job` (an executor builds one when a worker dies on it)."""
        line = " ".join(str(error).split()) or reason
        return cls(
            job.index, False, error=line, reason=reason, processing_s=processing_s, worker=worker
        )
