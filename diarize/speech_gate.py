"""Speech gating of mono audio before diarization: line noise never reaches the models.

On a noisy line (10-20 dB SNR) pyannote's segmentation marks stretches of noise alone as a
speaker, and that "speaker" takes one of the party-count slots, so the two real voices are
merged into one. Silero VAD (`models.silero`) tells noise from speech far more reliably; every
sample outside its speech regions (each widened by a pad, to keep word edges) is set to zero
before the audio reaches pyannote, which finds nothing in digital silence.

Background talkers (a call-centre floor, a television) are speech to the VAD too. A level
floor can follow the VAD: 50 ms frames more than ``level_floor_db`` below the loud speech of
the recording (the 95th percentile of its frame levels) are silenced as well, unless a louder
frame is within ``level_keep_s``. It is off in the shipped configuration: it removes babble,
but also a party who is simply quieter (see ``models/offline-diarization.yaml``, version 5).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from diarize.vad import VadParams, speech_regions
from models.config import SpeechGateParams
from models.silero import FRAME_SAMPLES, SileroVad

__all__ = ["SpeechGate", "level_floor"]

_RATE = 16000
_LEVEL_FRAME = 800  # 50 ms at 16 kHz
_LOUD_PERCENTILE = 95.0


def level_floor(waveform: np.ndarray, floor_db: float, keep_s: float) -> np.ndarray:
    """`waveform` (16 kHz) with its frames quieter than ``loud - floor_db`` set to zero.

    ``loud`` is the 95th percentile of the levels of the frames that are not silent; a quiet
    frame within ``keep_s`` of a louder one is kept. ``floor_db <= 0`` returns `waveform`.
    """
    n = waveform.shape[0] // _LEVEL_FRAME
    if floor_db <= 0 or n == 0:
        return waveform
    frames = waveform[: n * _LEVEL_FRAME].astype(np.float64).reshape(n, _LEVEL_FRAME)
    level_db = 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-20)
    live = level_db > -150.0  # not the digital silence the VAD left
    if not live.any():
        return waveform
    loud = live & (level_db >= np.percentile(level_db[live], _LOUD_PERCENTILE) - floor_db)
    reach = int(round(keep_s * _RATE / _LEVEL_FRAME))
    near = np.convolve(loud.astype(np.float64), np.ones(2 * reach + 1), mode="same") > 0.5
    out = waveform.copy()
    out[: n * _LEVEL_FRAME][~np.repeat(near, _LEVEL_FRAME)] = 0.0
    return out


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
            yield offset_s, level_floor(kept, self.params.level_floor_db, self.params.level_keep_s)
