"""How the peers read a recording: every channel, or a 16 kHz mono downmix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

__all__ = ["read_channels", "read_mono_16k"]


def read_channels(path: str | Path, sample_rate: int = 16000) -> np.ndarray:
    """All channels of ``path`` at ``sample_rate``, float32, shape (channels, samples)."""
    audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    if rate != sample_rate:
        audio = soxr.resample(audio, rate, sample_rate)
    return np.ascontiguousarray(audio.T, dtype=np.float32)


def read_mono_16k(path: str | Path) -> np.ndarray:
    """``path`` downmixed to mono at 16 kHz, float32, shape (samples,)."""
    audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    if rate != 16000:
        mono = soxr.resample(mono, rate, 16000)
    return np.clip(mono, -1.0, 1.0).astype(np.float32)
