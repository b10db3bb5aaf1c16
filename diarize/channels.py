"""What the two channels of a recording hold: one side each, the same mix twice, or one side only.

Evidence is gathered block by block while the stereo pass runs (`LayoutEvidence.update`)
and judged once at the end (`LayoutEvidence.classify`), so the file is read only once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

__all__ = ["ChannelLayout", "LayoutEvidence", "LayoutParams"]


class ChannelLayout(str, Enum):
    """The kinds of recording the pipeline tells apart."""

    MONO = "mono"
    """One channel."""
    DUAL_CHANNEL = "dual-channel"
    """Stereo with one side of the call on each channel."""
    DUPLICATED_MONO = "duplicated-mono"
    """Stereo whose channels carry the same (or nearly the same) mix: really mono."""
    ONE_SILENT_CHANNEL = "one-silent-channel"
    """Stereo with speech on one channel only: really mono."""

    @property
    def is_mono_like(self) -> bool:
        """Whether speakers must be told apart by voice rather than by channel."""
        return self is not ChannelLayout.DUAL_CHANNEL


@dataclass(frozen=True)
class LayoutParams:
    """Hyper-parameters of the layout decision (tuned values: `models/*.yaml`).

    Parameters
    ----------
    silent_level_db
        A channel whose loudest frame stays below this level (dBFS) is silent.
    min_speech_share
        A channel with less speech than this share of the other channel's is silent.
    duplicate_correlation
        Whole-file correlation of the two channels above which they are duplicates.
    duplicate_frame_share
        Share of each channel's speech that is near-identical on the other channel above which
        the channels are duplicates (catches small delays and gain differences).
    similar_frame_coherence, similar_frame_gap_db
        A jointly active frame is near-identical if both channels correlate above
        ``similar_frame_coherence`` and their levels differ by less than ``similar_frame_gap_db``.
    """

    silent_level_db: float = -60.0
    min_speech_share: float = 0.02
    duplicate_correlation: float = 0.95
    duplicate_frame_share: float = 0.6
    similar_frame_coherence: float = 0.9
    similar_frame_gap_db: float = 3.0


@dataclass
class LayoutEvidence:
    """Statistics of both channels, accumulated over the blocks of one recording."""

    sum_squares: np.ndarray = field(default_factory=lambda: np.zeros(2))
    sum_cross: float = 0.0
    peak_level_db: np.ndarray = field(default_factory=lambda: np.full(2, -np.inf))
    speech_frames: np.ndarray = field(default_factory=lambda: np.zeros(2, dtype=np.int64))
    joint_frames: int = 0
    checked_frames: int = 0
    similar_frames: int = 0

    def update(
        self,
        samples: np.ndarray,
        levels_db: np.ndarray,
        speech: np.ndarray,
        joint: int,
        checked: int,
        similar: int,
    ) -> None:
        """Add one block.

        Parameters
        ----------
        samples
            shape: (2, num_samples).
        levels_db
            shape: (2, num_frames): level of each frame.
        speech
            shape: (2, num_frames): frames each channel's VAD calls speech (leaks removed).
        joint, checked, similar
            How many frames both channels call speech, how many of those were compared, and
            how many of the compared ones were near-identical.
        """
        self.sum_squares += [float(np.dot(channel, channel)) for channel in samples]
        self.sum_cross += float(np.dot(samples[0], samples[1]))
        if levels_db.shape[1]:
            self.peak_level_db = np.maximum(self.peak_level_db, levels_db.max(axis=1))
        self.speech_frames += speech.sum(axis=1)
        self.joint_frames += joint
        self.checked_frames += checked
        self.similar_frames += similar

    @property
    def correlation(self) -> float:
        """Whole-recording correlation of the two channels at zero lag."""
        denominator = np.sqrt(self.sum_squares[0] * self.sum_squares[1])
        return float(self.sum_cross / denominator) if denominator > 0 else 0.0

    @property
    def similar_share(self) -> float:
        """Estimated share of the less talkative channel's speech that the other duplicates."""
        if self.checked_frames == 0:
            return 0.0
        similar = self.similar_frames * self.joint_frames / self.checked_frames
        return float(similar / max(1, int(self.speech_frames.min())))

    def classify(self, params: LayoutParams) -> tuple[ChannelLayout, int | None]:
        """The layout, and the silent channel's index for `ONE_SILENT_CHANNEL`."""
        silent = [
            self.peak_level_db[ch] < params.silent_level_db
            or self.speech_frames[ch] < params.min_speech_share * self.speech_frames[1 - ch]
            for ch in (0, 1)
        ]
        if silent[0] != silent[1]:
            return ChannelLayout.ONE_SILENT_CHANNEL, 0 if silent[0] else 1
        if self.correlation >= params.duplicate_correlation or (
            self.similar_share >= params.duplicate_frame_share
        ):
            return ChannelLayout.DUPLICATED_MONO, None
        return ChannelLayout.DUAL_CHANNEL, None

    def to_dict(self) -> dict:
        """The evidence as plain numbers, for the run summary."""
        return {
            "correlation": round(self.correlation, 4),
            "peakLevelDb": [round(float(v), 1) for v in self.peak_level_db],
            "speechFrames": [int(v) for v in self.speech_frames],
            "jointFrames": self.joint_frames,
            "similarShare": round(self.similar_share, 3),
        }
