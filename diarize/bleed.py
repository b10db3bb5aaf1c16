"""Crosstalk and echo: telling the other side's leaked voice from a channel's own speech.

In a dual-channel call each side's voice often leaks into the other channel, 10-30 dB down
and a few milliseconds late (acoustic echo, crosstalk in the PBX). A VAD happily calls that
speech. A leaked frame is a delayed, scaled copy of the other channel, so its normalised
cross-correlation with the other channel's recent past is high, and it is much quieter than
the original. A real overlap (a short "yeah" while the other talks) is dominated by the
channel's own voice, so its correlation with the other channel stays low and it is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import fft as sp_fft

__all__ = ["BleedParams", "frame_coherence", "frame_levels_db"]

_EPS = 1e-10


@dataclass(frozen=True)
class BleedParams:
    """Hyper-parameters of leak detection (tuned values: `models/*.yaml`).

    Parameters
    ----------
    max_delay_ms
        Longest delay of a leak behind its source that is searched.
    min_level_gap_db
        A frame is a leak candidate only if it is at least this much quieter than the other
        channel in the same frame.
    min_coherence
        Normalised cross-correlation above which a candidate frame counts as a leak.
    max_leak_share
        A speech region is dropped when leaked frames make up at least this share of it.
    """

    max_delay_ms: float = 30.0
    min_level_gap_db: float = 6.0
    min_coherence: float = 0.5
    max_leak_share: float = 0.3


def frame_levels_db(frames: np.ndarray) -> np.ndarray:
    """Level in dBFS of each frame; frames shape: (..., num_frames, frame_samples)."""
    return 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=-1) + _EPS)


def frame_coherence(
    target: np.ndarray,
    source: np.ndarray,
    frame_starts: np.ndarray,
    frame_samples: int,
    max_delay: int,
) -> np.ndarray:
    """How well each target frame is explained by a delayed copy of `source`.

    Parameters
    ----------
    target, source
        Two channels of one signal, same length; ``source`` must hold ``max_delay`` samples
        of history before the first frame start.
    frame_starts
        Sample index of each frame to score (each >= ``max_delay``).
    frame_samples
        Frame length in samples.
    max_delay
        Largest delay, in samples, of ``target`` behind ``source``.

    Returns
    -------
    shape: (len(frame_starts),) the largest absolute normalised cross-correlation between the
    target frame and the source over delays ``0..max_delay``.
    """
    if len(frame_starts) == 0:
        return np.zeros(0)
    span = frame_samples + max_delay
    # Shifts 0..max_delay reach source samples up to span - 1 only, so a circular correlation
    # over span samples (zero-padded) never wraps around.
    fft_size = 1 << int(np.ceil(np.log2(span)))
    # shape: (num_frames, frame_samples)
    a = sliding_window_view(target, frame_samples)[frame_starts]
    # shape: (num_frames, span): source from `max_delay` samples before the frame to its end
    b = sliding_window_view(source, span)[frame_starts - max_delay]
    # single-precision FFTs: twice as fast, and ample for a correlation that is thresholded
    spectrum = np.conj(sp_fft.rfft(a, fft_size)) * sp_fft.rfft(b, fft_size)
    # shape: (num_frames, max_delay + 1): correlation at shift m = max_delay - delay
    correlation = sp_fft.irfft(spectrum, fft_size)[:, : max_delay + 1]
    energy_a = np.sum(np.square(a, dtype=np.float64), axis=1)
    # energy of the source window aligned with the target at each shift m (b[m : m + frame]):
    # differences of one running sum of squares over the stretch of source the frames reach
    low = int(frame_starts.min()) - max_delay
    high = int(frame_starts.max()) + frame_samples
    running = np.concatenate([[0.0], np.cumsum(np.square(source[low:high], dtype=np.float64))])
    # shape: (num_frames, max_delay + 1)
    window_starts = (frame_starts - max_delay - low)[:, None] + np.arange(max_delay + 1)
    energy_b = np.maximum(running[window_starts + frame_samples] - running[window_starts], 0.0)
    normalised = np.abs(correlation) / np.sqrt(energy_a[:, None] * energy_b + _EPS)
    return normalised.max(axis=1)
