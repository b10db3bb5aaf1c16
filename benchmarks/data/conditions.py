"""Recording conditions: how a generated call is turned into the file a system reads.

- ``clean16k``: mono 16 kHz PCM.
- ``telephony``: band-limited to 300-3400 Hz, 8 kHz, noise at 10-20 dB SNR, mu-law or GSM 6.10.
- ``stereo``: the rep's track on one channel, everyone else on the other, each side leaking into
  the other 10-30 dB down and a few milliseconds late (echo and crosstalk).
- ``dupmono``: one mono mix copied to both channels (identical or near-identical).

None of these move speech in time (filters are zero-phase, resampling is delay-compensated),
so the conversation's reference stays exact.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from scipy import signal

from benchmarks.data.conversation import Conversation

__all__ = ["CONDITIONS", "write_condition"]

CONDITIONS = ("clean16k", "telephony", "stereo", "dupmono")
_PEAK = 0.7
_CODECS = {"ulaw": "ULAW", "gsm": "GSM610"}


def write_condition(
    conversation: Conversation,
    condition: str,
    path: Path,
    rng: np.random.Generator,
    codec: str | None = None,
) -> dict:
    """Render ``conversation`` in ``condition`` to the WAV file ``path``.

    ``codec`` picks the telephony codec (``"ulaw"`` or ``"gsm"``; drawn when ``None``).

    Returns
    -------
    dict
        What was drawn: ``channels``, ``sample_rate`` and per condition ``snr_db``/``codec``,
        ``rep_channel``/``bleed_db``/``delay_ms`` or ``identical``.
    """
    writers = {
        "clean16k": _clean,
        "telephony": _telephony,
        "stereo": _stereo,
        "dupmono": _dupmono,
    }
    if condition not in writers:
        raise ValueError(f"unknown condition {condition!r}; known: {', '.join(CONDITIONS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if condition == "telephony":
        return _telephony(conversation, path, rng, codec)
    return writers[condition](conversation, path, rng)


def _peak_normalised(audio: np.ndarray) -> np.ndarray:
    peak = float(np.max(np.abs(audio))) or 1.0
    return (audio * (_PEAK / peak)).astype(np.float32)


def _noise(n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-power noise tilted towards low frequencies (room and line hiss)."""
    white = rng.standard_normal(n_samples).astype(np.float32)
    tilted = signal.lfilter([1.0], [1.0, -0.9], white).astype(np.float32)
    return tilted / (float(np.sqrt(np.mean(tilted.astype(np.float64) ** 2))) or 1.0)


def _speech_power(audio: np.ndarray, conversation: Conversation, sample_rate: int) -> float:
    parts = [
        audio[int(s.start_s * sample_rate) : int(s.end_s * sample_rate)]
        for s in conversation.reference
    ]
    joined = np.concatenate(parts) if parts else audio
    return float(np.mean(joined.astype(np.float64) ** 2)) or 1e-10


def _clean(conversation: Conversation, path: Path, rng: np.random.Generator) -> dict:
    sf.write(path, _peak_normalised(conversation.mix()), conversation.sample_rate, "PCM_16")
    return {"channels": 1, "sample_rate": conversation.sample_rate}


def _telephony(
    conversation: Conversation, path: Path, rng: np.random.Generator, codec: str | None = None
) -> dict:
    rate = 8000
    sos = signal.butter(4, [300, 3400], btype="bandpass", fs=conversation.sample_rate, output="sos")
    band = signal.sosfiltfilt(sos, conversation.mix()).astype(np.float32)
    narrow = soxr.resample(band, conversation.sample_rate, rate).astype(np.float32)
    snr_db = float(rng.uniform(10.0, 20.0))
    noise_power = _speech_power(narrow, conversation, rate) / 10 ** (snr_db / 10)
    noisy = narrow + np.sqrt(noise_power) * _noise(len(narrow), rng)
    drawn = "ulaw" if rng.random() < 0.5 else "gsm"
    codec = codec or drawn
    if codec not in _CODECS:
        raise ValueError(f"unknown telephony codec {codec!r}; known: {', '.join(_CODECS)}")
    subtype = _CODECS[codec]
    sf.write(path, _peak_normalised(noisy), rate, subtype)
    return {"channels": 1, "sample_rate": rate, "snr_db": round(snr_db, 1), "codec": codec}


def _delayed(track: np.ndarray, delay_samples: int) -> np.ndarray:
    out = np.zeros_like(track)
    out[delay_samples:] = track[: len(track) - delay_samples]
    return out


def _stereo(conversation: Conversation, path: Path, rng: np.random.Generator) -> dict:
    rate = conversation.sample_rate
    n = int(round(conversation.duration_s * rate))
    rep_ids = [p.party_id for p in conversation.parties if p.is_rep]
    rep = np.zeros(n, dtype=np.float32)
    others = np.zeros(n, dtype=np.float32)
    for party_id, track in conversation.tracks.items():
        (rep if party_id in rep_ids else others)[:] += track[:n]
    rep_channel = int(rng.integers(2))
    bleed_db = float(rng.uniform(10.0, 30.0))
    delay_ms = float(rng.uniform(2.0, 25.0))
    leak = 10 ** (-bleed_db / 20)
    delay = int(round(delay_ms * rate / 1000))
    rep_side = rep + leak * _delayed(others, delay)
    other_side = others + leak * _delayed(rep, delay)
    floor = 10 ** (-65 / 20)
    channels = [rep_side, other_side] if rep_channel == 0 else [other_side, rep_side]
    stacked = np.stack([c + floor * _noise(n, rng) for c in channels], axis=1)
    sf.write(path, _peak_normalised(stacked), rate, "PCM_16")
    return {
        "channels": 2,
        "sample_rate": rate,
        "rep_channel": rep_channel,
        "bleed_db": round(bleed_db, 1),
        "delay_ms": round(delay_ms, 1),
    }


def _dupmono(conversation: Conversation, path: Path, rng: np.random.Generator) -> dict:
    mono = _peak_normalised(conversation.mix())
    identical = bool(rng.random() < 0.5)
    if identical:
        other = mono
    else:  # a second converter path: slightly lower gain and its own dither
        other = mono * 10 ** (-0.3 / 20) + 10 ** (-80 / 20) * _noise(len(mono), rng)
    sf.write(path, np.stack([mono, other], axis=1), conversation.sample_rate, "PCM_16")
    return {"channels": 2, "sample_rate": conversation.sample_rate, "identical": identical}
