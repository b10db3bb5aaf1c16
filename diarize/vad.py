"""From per-frame speech probabilities to speech regions.

The model (see `models.silero`) gives one probability per 32 ms frame; this module turns a
channel's probabilities into ``(start_s, end_s)`` regions with hysteresis and minimum
durations, all in one vectorised pass so that hours of audio take milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["VadParams", "speech_regions"]


@dataclass(frozen=True)
class VadParams:
    """Hyper-parameters of speech detection on one channel (tuned values: `models/*.yaml`).

    Parameters
    ----------
    onset, offset
        Speech starts where the probability reaches ``onset`` and lasts while it stays at or
        above ``offset`` (hysteresis).
    min_speech_ms
        Regions shorter than this are dropped (after gaps are closed).
    min_silence_ms
        Gaps shorter than this inside a speaker's speech are closed.
    start_pad_ms, end_pad_ms
        Shift of the region edges, outward when positive; compensates the model's latency.
    """

    onset: float = 0.5
    offset: float = 0.35
    min_speech_ms: float = 200.0
    min_silence_ms: float = 250.0
    start_pad_ms: float = 30.0
    end_pad_ms: float = 30.0


def speech_regions(
    probabilities: np.ndarray,
    hop_s: float,
    params: VadParams,
    duration_s: float | None = None,
) -> list[tuple[float, float]]:
    """Speech regions in seconds from per-frame probabilities.

    Parameters
    ----------
    probabilities
        shape: (num_frames,); frame ``i`` covers ``[i * hop_s, (i + 1) * hop_s)``.
    hop_s
        Frame step in seconds.
    params
        Thresholds and durations.
    duration_s
        Length of the audio; regions are clipped to it (default: ``num_frames * hop_s``).
    """
    probabilities = np.asarray(probabilities, dtype=np.float32)
    if duration_s is None:
        duration_s = len(probabilities) * hop_s
    starts, ends = _hysteresis(probabilities, params.onset, params.offset)
    if len(starts) == 0:
        return []
    start_s = starts * hop_s - params.start_pad_ms / 1000
    end_s = ends * hop_s + params.end_pad_ms / 1000
    start_s, end_s = _close_gaps(start_s, end_s, params.min_silence_ms / 1000)
    keep = (end_s - start_s) >= params.min_speech_ms / 1000
    start_s = np.clip(start_s[keep], 0.0, duration_s)
    end_s = np.clip(end_s[keep], 0.0, duration_s)
    return [(float(s), float(e)) for s, e in zip(start_s, end_s, strict=True) if e > s]


def _hysteresis(probabilities: np.ndarray, onset: float, offset: float) -> tuple[np.ndarray, ...]:
    """Frame indices where speech regions start (inclusive) and end (exclusive)."""
    above_offset = probabilities >= offset
    # Runs where the probability stays at or above `offset` ...
    edges = np.diff(np.concatenate([[0], above_offset.astype(np.int8), [0]]))
    run_starts = np.flatnonzero(edges == 1)
    run_ends = np.flatnonzero(edges == -1)
    # ... count as speech only if they reach `onset` somewhere.
    peak_in_run = np.maximum.reduceat(probabilities, run_starts) if len(run_starts) else []
    keep = np.asarray(peak_in_run) >= onset
    return run_starts[keep], run_ends[keep]


def _close_gaps(
    start_s: np.ndarray, end_s: np.ndarray, min_gap_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Merge consecutive regions separated by less than `min_gap_s` (or overlapping)."""
    gaps = start_s[1:] - end_s[:-1]
    opens = np.concatenate([[True], gaps >= min_gap_s])
    merged_start = start_s[opens]
    merged_end = np.maximum.reduceat(end_s, np.flatnonzero(opens))
    return merged_start, merged_end
