"""The stage timer of the mono profile: real decoding and real VAD timed, then put back."""

from __future__ import annotations

import numpy as np

import diarize.audio
import models.silero
from benchmarks.stages import STAGES, StageTimer
from benchmarks.systems import warmup_audio
from diarize.audio import open_audio
from models.silero import load_silero_vad


def test_stages_are_timed_while_installed_and_restored_after() -> None:
    blocks, run = diarize.audio.AudioSource.blocks, models.silero.SileroVad._run
    timer = StageTimer()
    timer.install()
    try:
        vad = load_silero_vad()
        audio = np.concatenate(list(open_audio(str(warmup_audio())).blocks(16000, 2.0)), axis=1)
        probabilities = vad.probabilities(audio[0])
    finally:
        timer.uninstall()
    assert len(probabilities) == -(-audio.shape[1] // 512)
    report = timer.report(total_s=100.0)
    assert set(STAGES) | {"other"} == set(report)
    assert report["decode"] > 0 and report["speech gate (VAD)"] > 0
    assert report["segmentation"] == 0 and report["embeddings"] == 0
    assert report["other"] < 100.0
    assert diarize.audio.AudioSource.blocks is blocks and models.silero.SileroVad._run is run
    timer.reset()
    assert not any(timer.seconds.values())
