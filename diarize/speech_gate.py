"""Speech gating of mono audio before diarization: line noise never reaches the models.

On a noisy line (10-20 dB SNR) pyannote's segmentation marks stretches of noise alone as a
speaker, and that "speaker" takes one of the party-count slots, so the two real voices are
merged into one. Silero VAD (`models.silero`) tells noise from speech far more reliably; every
sample outside its speech regions (each widened by a pad, to keep word edges) is set to zero
before the audio reaches pyannote, which finds nothing in digital silence.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from diarize.vad import VadParams, speech_regions
from models.config import SpeechGateParams
from models.silero import FRAME_SAMPLES, SileroVad

__all__ = ["SpeechGate"]

_RATE = 16000


class SpeechGate:
    """Silences the non-speech of mono 16 kHz windows and remembers the speech it kept.

    Parameters
    ----------
    vad
        A loaded Silero model (`models.silero.load_silero_vad`).
    params
        The ``speech_gate`` block of the diarization configuration.
    """

    def __init__(self, vad: SileroVad, params: SpeechGateParams) -> None:
        self.vad = vad
        self.params = params
        self.vad_params = VadParams(
            onset=params.onset,
            offset=params.offset,
            min_speech_ms=params.min_speech_ms,
            min_silence_ms=params.min_silence_ms,
            start_pad_ms=params.pad_s * 1000,
            end_pad_ms=params.pad_s * 1000,
        )
        self.regions: list[tuple[float, float]] = []

    def speech(self, waveform: np.ndarray) -> list[tuple[float, float]]:
        """Padded speech regions (seconds) of one mono 16 kHz waveform."""
        probabilities = self.vad.probabilities(waveform)
        hop_s = FRAME_SAMPLES / _RATE
        return speech_regions(probabilities, hop_s, self.vad_params, waveform.shape[0] / _RATE)

    def apply(
        self, windows: Iterable[tuple[float, np.ndarray]]
    ) -> Iterator[tuple[float, np.ndarray]]:
        """The (offset_s, waveform) `windows` with everything but speech set to zero.

        The kept regions, in seconds from the start of the recording, are appended to
        `regions` as windows go by.
        """
        for offset_s, waveform in windows:
            kept = np.zeros_like(waveform)
            for start_s, end_s in self.speech(waveform):
                a, b = int(round(start_s * _RATE)), int(round(end_s * _RATE))
                kept[a:b] = waveform[a:b]
                self.regions.append((offset_s + start_s, offset_s + end_s))
            yield offset_s, kept
