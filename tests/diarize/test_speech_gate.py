"""The speech gate: line noise is silenced before diarization, and never becomes a speaker.

pyannote.audio's real 2-speaker telephone sample, taken to 8 kHz with white noise at 14 dB SNR
(over its speech), is where an ungated pipeline merged the two voices and made the noise a
speaker (60% DER); clean, it scores under 10%.
"""

from __future__ import annotations

import numpy as np
import pytest
import soxr

from diarize.audio import open_audio
from diarize.example import load_sample
from diarize.speech_gate import SpeechGate
from models.config import load_config
from models.silero import load_silero_vad
from tests.scoring import der

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SAMPLE_RATE = 16000


def _noisy_sample(snr_db: float, seed: int = 0) -> tuple[np.ndarray, list]:
    """The sample through an 8 kHz line with white noise at `snr_db`, back at 16 kHz."""
    samples, rate, turns = load_sample()
    narrow = soxr.resample(samples.astype(np.float64), rate, 8000)
    spans = [narrow[int(t.start_s * 8000) : int(t.end_s * 8000)] for t in turns]
    speech_power = float(np.mean(np.concatenate(spans) ** 2))
    noise = np.random.default_rng(seed).standard_normal(len(narrow))
    noisy = narrow + np.sqrt(speech_power / 10 ** (snr_db / 10)) * noise
    back = soxr.resample(noisy, 8000, SAMPLE_RATE).astype(np.float32)
    return back / np.max(np.abs(back)) * 0.7, turns


def test_the_gate_zeroes_noise_and_keeps_every_reference_turn() -> None:
    waveform, turns = _noisy_sample(14.0)
    gate = SpeechGate(load_silero_vad(), load_config().speech_gate)
    [(offset_s, kept)] = list(gate.apply([(0.0, waveform)]))
    assert offset_s == 0.0 and kept.shape == waveform.shape
    silenced = kept == 0.0
    assert 0.05 < silenced.mean() < 0.6  # the noise-only stretches are gone, speech is not
    spoken = np.zeros(len(waveform), dtype=bool)
    for turn in turns:
        spoken[int(turn.start_s * SAMPLE_RATE) : int(turn.end_s * SAMPLE_RATE)] = True
    assert silenced[spoken].mean() < 0.1  # at most a little of the reference speech is cut
    assert silenced[: int(turns[0].start_s * SAMPLE_RATE) - 3200].all()  # the leading noise
    kept_s = sum(end - start for start, end in gate.regions)
    assert kept_s == pytest.approx((~silenced).sum() / SAMPLE_RATE, abs=0.05)


def test_noise_neither_becomes_a_speaker_nor_merges_the_voices(diarizer) -> None:
    waveform, turns = _noisy_sample(14.0)
    assert diarizer.vad is not None and diarizer.config.speech_gate.enabled
    found = diarizer.speakers(open_audio(waveform, SAMPLE_RATE), embeddings=False)
    segments = found.segments
    assert len({s.speaker for s in segments}) == 2
    assert der(turns, segments) < 0.15
    assert all(s.end_s > turns[0].start_s - 0.5 for s in segments)  # nothing in the leading noise
