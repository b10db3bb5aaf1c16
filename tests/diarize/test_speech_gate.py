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
from diarize.speech_gate import SpeechGate, level_floor
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
    # the VAD's regions hold everything kept (the level floor may silence more inside them)
    assert (~silenced).sum() / SAMPLE_RATE <= kept_s + 0.05


def test_noise_neither_becomes_a_speaker_nor_merges_the_voices(diarizer) -> None:
    waveform, turns = _noisy_sample(14.0)
    assert diarizer.vad is not None and diarizer.config.speech_gate.enabled
    found = diarizer.speakers(open_audio(waveform, SAMPLE_RATE), embeddings=False)
    segments = found.segments
    assert len({s.speaker for s in segments}) == 2
    assert der(turns, segments) < 0.15
    assert all(s.end_s > turns[0].start_s - 0.5 for s in segments)  # nothing in the leading noise


def test_the_level_floor_silences_quiet_background_and_keeps_word_edges() -> None:
    rng = np.random.default_rng(1)
    loud = 0.3 * rng.standard_normal(SAMPLE_RATE)  # one second of "voice"
    quiet = 0.3 * 10 ** (-20 / 20) * rng.standard_normal(2 * SAMPLE_RATE)  # 20 dB down
    waveform = np.concatenate([quiet, loud, quiet]).astype(np.float32)
    out = level_floor(waveform, floor_db=10.0, keep_s=0.3)
    assert np.array_equal(
        out[2 * SAMPLE_RATE : 3 * SAMPLE_RATE], waveform[2 * SAMPLE_RATE : 3 * SAMPLE_RATE]
    )
    edge = int(0.3 * SAMPLE_RATE)
    assert np.all(out[2 * SAMPLE_RATE - edge + 800 : 2 * SAMPLE_RATE] != 0)  # kept near the voice
    assert np.all(out[: 2 * SAMPLE_RATE - edge - 800] == 0)  # the rest of the background: gone
    assert np.all(out[3 * SAMPLE_RATE + edge + 800 :] == 0)
    # background only 6 dB down is not under a 10 dB floor; 0 switches the floor off
    near = np.concatenate([0.5 * loud, loud]).astype(np.float32)
    assert np.array_equal(level_floor(near, 10.0, 0.3), near)
    assert level_floor(waveform, 0.0, 0.3) is waveform
