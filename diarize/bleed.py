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
    "coherent_frames",
    "frame_coherence",
    "frame_levels_db",
    "window_energies",
]

_EPS = 1e-10
_BATCH_FRAMES = 128
_PROBE_FRAMES = 32  # frames scored over every delay to find the likely ones
_PROBE_DELAYS = 3  # the most frequent delays among them, tried on every frame


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
    shape: (len(frame_starts),), float32: the largest absolute normalised cross-correlation
    between the target frame and the source over delays ``0..max_delay``.
    """
    if len(frame_starts) == 0:
        return np.zeros(0, dtype=np.float32)
    starts = np.asarray(frame_starts, dtype=np.intp)
    return _coherence(target, source, starts, frame_samples, max_delay)[0]


def coherent_frames(
    target: np.ndarray,
    source: np.ndarray,
    frame_starts: np.ndarray,
    frame_samples: int,
    max_delay: int,
    threshold: float,
) -> np.ndarray:
    """Which frames' `frame_coherence` reaches `threshold`, found with less work.

    A leak's delay holds from frame to frame (one echo path), and the normalised correlation
    at any one delay is a lower bound of the largest. So a spread sample of frames is scored
    over every delay, the delays that explained those frames are tried first on all the
    others (one dot product each), and only the frames none of them explains are scored over
    every delay. The answer is that of ``frame_coherence(...) >= threshold``.

    Parameters
    ----------
    target, source, frame_starts, frame_samples, max_delay
        As for `frame_coherence`.
    threshold
        The coherence a frame must reach.

    Returns
    -------
    shape: (len(frame_starts),), bool.
    """
    frame_starts = np.asarray(frame_starts, dtype=np.intp)
    num_frames = len(frame_starts)
    if num_frames == 0 or threshold <= 0:  # every coherence is at least 0
        return np.full(num_frames, threshold <= 0)
    if num_frames < 2 * _PROBE_FRAMES:
        best = _coherence(target, source, frame_starts, frame_samples, max_delay)[0]
        return best >= threshold
    found = np.zeros(num_frames, dtype=bool)
    undecided = np.ones(num_frames, dtype=bool)
    probes = np.unique(np.linspace(0, num_frames - 1, _PROBE_FRAMES).astype(np.intp))
    best, shifts = _coherence(
        target, source, frame_starts[probes], frame_samples, max_delay, shifts=True
    )
    found[probes] = best >= threshold
    undecided[probes] = False
    # the delays that explained the sample, the most frequent first
    delays, counts = np.unique(max_delay - shifts[found[probes]], return_counts=True)
    targets = sliding_window_view(target, frame_samples)
    sources = sliding_window_view(source, frame_samples)
    for delay in delays[np.argsort(-counts, kind="stable")][:_PROBE_DELAYS]:
        rest = np.flatnonzero(undecided)
        if len(rest) == 0:
            break
        starts = frame_starts[rest]
        a, b = targets[starts], sources[starts - delay]
        correlation = np.einsum("ij,ij->i", a, b)
        energy = np.einsum("ij,ij->i", a, a) * np.einsum("ij,ij->i", b, b) + _EPS
        hit = np.square(correlation) >= threshold * threshold * energy
        found[rest[hit]] = True
        undecided[rest[hit]] = False
    rest = np.flatnonzero(undecided)
    if len(rest):
        best = _coherence(target, source, frame_starts[rest], frame_samples, max_delay)[0]
        found[rest] = best >= threshold
    return found


def _coherence(
    target: np.ndarray,
    source: np.ndarray,
    frame_starts: np.ndarray,
    frame_samples: int,
    max_delay: int,
    shifts: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """`frame_coherence` of non-empty `frame_starts`, and with `shifts`, the shift
    (``max_delay`` - delay) where each frame's largest correlation is."""
    span = frame_samples + max_delay
    targets = sliding_window_view(target, frame_samples)
    # source from `max_delay` samples before each frame to its end
    sources = sliding_window_view(source, span)
    # Shifts 0..max_delay reach source samples up to span - 1 only, so a circular correlation
    # over span samples (zero-padded) never wraps around.
    fft_size = 1 << int(np.ceil(np.log2(span)))
    best = np.empty(len(frame_starts), dtype=np.float32)
    where = np.empty(len(frame_starts), dtype=np.intp) if shifts else None
    # frames in batches: the (frames, shifts) scratch stays in the cache
    for first in range(0, len(frame_starts), _BATCH_FRAMES):
        batch = slice(first, first + _BATCH_FRAMES)
        starts = frame_starts[batch]
        a = targets[starts]
        b = sources[starts - max_delay]
        # single-precision FFTs: twice as fast, and ample for a correlation that is thresholded
        spectrum = sp_fft.rfft(a, fft_size)
        np.conjugate(spectrum, out=spectrum)
        spectrum *= sp_fft.rfft(b, fft_size)
        # shape: (batch, max_delay + 1): correlation at each shift m, against b[m : m + frame]
        score = np.square(sp_fft.irfft(spectrum, fft_size)[:, : max_delay + 1])
        denominator = window_energies(b, frame_samples)
        denominator *= np.einsum("ij,ij->i", a, a)[:, None]
        denominator += _EPS
        score /= denominator
        # the largest squared normalised correlation, rooted once per frame
        if where is None:
            best[batch] = score.max(axis=1)
        else:
            where[batch] = score.argmax(axis=1)
            best[batch] = score[np.arange(len(starts)), where[batch]]
    return np.sqrt(best, out=best), where
