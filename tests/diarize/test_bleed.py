"""Leak coherence: the FFT and window-energy form equals the definition, shift by shift."""

from __future__ import annotations

import numpy as np
import pytest

from diarize.bleed import coherent_frames, frame_coherence, window_energies


def _by_definition(target, source, starts, frame, max_delay) -> np.ndarray:
    best = []
    for start in starts:
        a = target[start : start + frame].astype(np.float64)
        scores = []
        for delay in range(max_delay + 1):
            b = source[start - delay : start - delay + frame].astype(np.float64)
            scores.append(abs(a @ b) / np.sqrt((a @ a) * (b @ b) + 1e-10))
        best.append(max(scores))
    return np.array(best)


def test_coherence_matches_the_definition_and_finds_a_delayed_copy() -> None:
    rng = np.random.default_rng(3)
    source = rng.standard_normal(16000).astype(np.float32)
    leak = 0.1 * np.roll(source, 70) + 0.002 * rng.standard_normal(16000)
    own = rng.standard_normal(16000)
    target = np.where(np.arange(16000) < 8000, leak, own).astype(np.float32)
    starts = 480 + np.arange(0, 28) * 512
    found = frame_coherence(target, source, starts, 512, 480)
    assert np.allclose(found, _by_definition(target, source, starts, 512, 480), atol=1e-4)
    assert found[starts + 512 <= 8000].min() > 0.95  # the delayed copy
    assert found[starts >= 8000].max() < 0.3  # the channel's own voice
    assert frame_coherence(target, source, np.array([], dtype=int), 512, 480).shape == (0,)


def test_window_energies_match_the_definition() -> None:
    """Every stretch's sum of squares, for windows that are and are not powers of two."""
    rng = np.random.default_rng(5)
    signal = (rng.standard_normal((2, 1500)) * rng.uniform(0.001, 1.0, (2, 1500))).astype(
        np.float32
    )
    for window in (1, 7, 32, 481, 512, 1500):
        found = window_energies(signal, window)
        squares = signal.astype(np.float64) ** 2
        expected = np.stack(
            [[squares[ch, i : i + window].sum() for i in range(1500 - window + 1)] for ch in (0, 1)]
        )
        assert found.shape == expected.shape
        np.testing.assert_allclose(found, expected, rtol=1e-5)
    with pytest.raises(ValueError, match="window"):
        window_energies(signal, 1501)


def test_coherent_frames_give_the_thresholded_coherence() -> None:
    """Leaks at one delay, then at another, then the channel's own voice: the fast answer is
    the full score thresholded, frame by frame, whichever delay the sample favoured."""
    rng = np.random.default_rng(6)
    n = 512 * 200
    source = (rng.standard_normal(n) * rng.uniform(0.05, 1.0, n)).astype(np.float32)
    noise = 0.02 * rng.standard_normal(n)
    target = np.concatenate(
        [
            0.1 * np.roll(source, 40)[: n // 2],  # a leak 40 samples late
            0.1 * np.roll(source, 300)[n // 2 : 3 * n // 4],  # then 300 samples late
            rng.standard_normal(n // 4),  # then own speech
        ]
    )
    target = (target + noise).astype(np.float32)
    starts = 480 + np.arange(0, 199) * 512
    for threshold in (0.5, 0.9, 0.99):
        full = frame_coherence(target, source, starts, 512, 480) >= threshold
        fast = coherent_frames(target, source, starts, 512, 480, threshold)
        np.testing.assert_array_equal(fast, full)
    leaked = coherent_frames(target, source, starts, 512, 480, 0.5)
    assert leaked[starts + 512 <= 3 * n // 4].all()  # both delays found
    assert not leaked[starts >= 3 * n // 4].any()
    assert coherent_frames(target, source, starts[:5], 512, 480, 0.0).all()
    assert coherent_frames(target, source, starts[:0], 512, 480, 0.5).shape == (0,)
