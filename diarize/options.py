"""Run-time choices for one call: what to emit and how to map voices to parties.

These are inputs of a run, not tuned numbers: tuned hyper-parameters live in the versioned
YAML files under `models/`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["Options", "ProgressHook"]

ProgressHook = Callable[..., None]
"""Called as ``hook(step: str, completed: int, total: int)`` while long work runs."""


@dataclass(frozen=True)
class Options:
    """How `process_call` treats one recording.

    Parameters
    ----------
    mode
        ``"timeline"`` adds ``speakersTimeline``; ``"channel"`` only sets ``mediaChannelId``
        on the rep's party (stereo recordings only).
    rep_channel
        0 (left) or 1 (right): overrides the party's ``mediaChannelId``.
    pipeline
        Diarization pipeline for mono audio: ``None`` for the offline default built from
        bundled weights, else a pyannote pipeline id (needs ``hf_token``) or a local directory.
    trust_pipeline
        Load a `pipeline` whose ``config.yaml`` names classes outside pyannote.audio and this
        project (pyannote imports and runs them); refused otherwise.
    num_speakers, min_speakers, max_speakers
        Speaker-count hints; by default the call's party count bounds ``max_speakers``.
    unknown
        Speakers that match no party. ``"safe"`` (default): when no speaker of a recording can
        be tied to a party while some party could be any of them, nothing is invented: the call
        gets no ``speakersTimeline`` (Gong then separates the speakers itself) and
        `CallResult.timeline_withheld` says why; otherwise like ``"add"``. ``"add"`` turns
        them into new parties ("Speaker N"); ``"drop"`` leaves their speech out.
    exclusive
        Emit a non-overlapping timeline (one speaker at a time).
    voiceprints
        Directory of the voiceprint store (``gong-diarize enroll``, learning); default the
        per-user folder of `diarize.voiceprints.default_store_dir`.
    learn_voiceprints
        Learn the rep's voiceprint from this call when it is dual-channel with a known rep
        channel and the rep's party has a ``userId`` or ``emailAddress`` (see
        `diarize.learning`). Off by default: voiceprints are biometric data.
    device
        ``"cpu"``, ``"cuda"`` or ``None`` (CUDA when available).
    batch_size
        Chunks per forward pass of the diarization models (``None``: the tuned default).
    hook
        Progress callback, see `ProgressHook`.
    """

    mode: Literal["timeline", "channel"] = "timeline"
    rep_channel: int | None = None
    pipeline: str | None = None
    hf_token: str | None = None
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None
    unknown: Literal["safe", "add", "drop"] = "safe"
    exclusive: bool = False
    voiceprints: Path | None = None
    learn_voiceprints: bool = False
    device: str | None = None
    batch_size: int | None = None
    trust_pipeline: bool = False
    hook: ProgressHook | None = None

    def __repr__(self) -> str:  # never show the token
        token = "'***'" if self.hf_token else "None"
        return (
            f"Options(mode={self.mode!r}, rep_channel={self.rep_channel!r}, "
            f"pipeline={self.pipeline!r}, hf_token={token}, num_speakers={self.num_speakers!r}, "
            f"min_speakers={self.min_speakers!r}, max_speakers={self.max_speakers!r}, "
            f"unknown={self.unknown!r}, exclusive={self.exclusive!r}, "
            f"voiceprints={self.voiceprints!r}, learn_voiceprints={self.learn_voiceprints!r}, "
            f"device={self.device!r}, "
            f"batch_size={self.batch_size!r}, trust_pipeline={self.trust_pipeline!r})"
        )

    def progress(self, step: str, completed: int, total: int) -> None:
        """Report progress through the hook, if one was given."""
        if self.hook is not None:
            self.hook(step, completed, total)
