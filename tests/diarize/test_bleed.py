"""Leak coherence: the FFT and running-sum form equals the definition, shift by shift."""

from __future__ import annotations

import numpy as np

from diarize.bleed import frame_coherence


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
