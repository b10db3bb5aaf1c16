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

__all__ = [
    "BleedParams",
    "energy_levels_db",
    "frame_coherence",
    "frame_levels_db",
    "window_energies",
]

_EPS = 1e-10
_BATCH_FRAMES = 128


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


def energy_levels_db(energies: np.ndarray, samples: int) -> np.ndarray:
    """Level in dBFS of stretches of `samples` samples from their energies (sums of squares):
    the same as `frame_levels_db` of the stretches themselves."""
    return 10 * np.log10(np.asarray(energies, dtype=np.float64) / samples + _EPS)


def window_energies(signal: np.ndarray, window: int) -> np.ndarray:
    """Energy (sum of squares) of every stretch of `window` consecutive samples.

    Parameters
    ----------
    signal
        shape: (..., num_samples); float32 or float64 (the result has its precision).
    window
        Stretch length in samples (at least 1, at most ``num_samples``).

    Returns
    -------
    shape: (..., num_samples - window + 1): entry ``i`` is ``sum(signal[..., i:i + window]**2)``.
    """
    if not 1 <= window <= signal.shape[-1]:
        raise ValueError(f"window must be 1..{signal.shape[-1]}, not {window}")
    num_samples = signal.shape[-1]
    count = num_samples - window + 1
    # Sums over power-of-two stretches by doubling (a few vectorised additions between two
    # buffers, where a running sum is one slow sequential pass), then `window` as a sum of
    # powers of two. The terms are all positive, so float32 sums are good to about 1e-7.
    sums = np.square(signal, dtype=np.result_type(signal, np.float32))
    spare = np.empty_like(sums)
    total: np.ndarray | None = None
    offset, size, length = 0, 1, num_samples  # sums[..., i] covers size samples from i
    while True:
        if window & size:
            part = sums[..., offset : offset + count]
            if size * 2 > window:  # the last part: sums is not written again
                return part if total is None else np.add(total, part, out=total)
            total = part.copy() if total is None else np.add(total, part, out=total)
            offset += size
        np.add(sums[..., : length - size], sums[..., size:length], out=spare[..., : length - size])
        sums, spare = spare, sums
        length -= size
        size *= 2


def frame_coherence(
    target: np.ndarray,
    source: np.ndarray,
    frame_starts: np.ndarray,
    frame_samples: int,
    max_delay: int,
    *,
    target_energies: np.ndarray | None = None,
    source_energies: np.ndarray | None = None,
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
    target_energies, source_energies
        ``window_energies(target, frame_samples)`` and ``window_energies(source,
        frame_samples)``, where the caller has them already (several calls on the same
        channels); computed here otherwise, over the stretch the frames reach only.

    Returns
    -------
    shape: (len(frame_starts),), float32: the largest absolute normalised cross-correlation
    between the target frame and the source over delays ``0..max_delay``.
    """
    if len(frame_starts) == 0:
        return np.zeros(0, dtype=np.float32)
    frame_starts = np.asarray(frame_starts, dtype=np.intp)
    span = frame_samples + max_delay
    low = int(frame_starts.min()) - max_delay
    high = int(frame_starts.max()) + frame_samples
    if target_energies is None:
        target_energies = window_energies(target[low:high], frame_samples)
        target_offset = low
    else:
        target_offset = 0
    if source_energies is None:
        source_energies = window_energies(source[low:high], frame_samples)
        source_offset = low
    else:
        source_offset = 0
    energy_a = target_energies[frame_starts - target_offset].astype(np.float32)
    # energy of the source window aligned with the target at each shift m = max_delay - delay
    # (b[m : m + frame] below): shape (num_frames, max_delay + 1), one row per frame
    energy_rows = sliding_window_view(source_energies, max_delay + 1)
    row_starts = frame_starts - max_delay - source_offset
    targets = sliding_window_view(target, frame_samples)
    # source from `max_delay` samples before each frame to its end
    sources = sliding_window_view(source, span)
    # Shifts 0..max_delay reach source samples up to span - 1 only, so a circular correlation
    # over span samples (zero-padded) never wraps around.
    fft_size = 1 << int(np.ceil(np.log2(span)))
    best = np.empty(len(frame_starts), dtype=np.float32)
    # frames in batches: the (frames, shifts) scratch stays in the cache
    for first in range(0, len(frame_starts), _BATCH_FRAMES):
        starts = frame_starts[first : first + _BATCH_FRAMES]
        # single-precision FFTs: twice as fast, and ample for a correlation that is thresholded
        spectrum = sp_fft.rfft(targets[starts], fft_size)
        np.conjugate(spectrum, out=spectrum)
        spectrum *= sp_fft.rfft(sources[starts - max_delay], fft_size)
        # shape: (batch, max_delay + 1): correlation at each shift
        score = np.square(sp_fft.irfft(spectrum, fft_size)[:, : max_delay + 1])
        denominator = energy_rows[row_starts[first : first + _BATCH_FRAMES]].astype(np.float32)
        denominator *= energy_a[first : first + _BATCH_FRAMES, None]
        denominator += _EPS
        score /= denominator
        # the largest squared normalised correlation, rooted once per frame
        best[first : first + _BATCH_FRAMES] = score.max(axis=1)
    return np.sqrt(best, out=best)
