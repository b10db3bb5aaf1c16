"""Real voices for diarization tests, cut from recordings that come with their references.

- pyannote.audio's own ``sample.wav`` (a real 2-speaker telephone-style call, 30 s, 16 kHz)
  with ``sample.rttm``: always installed.
- the AMI dev excerpts in ``<repo>/../shared/evaldata/dev``: only where that folder exists
  (tests that need them skip otherwise).

Calls are built by concatenating whole single-speaker turns (no overlap), so the reference of
a built call is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import util
from pathlib import Path

import numpy as np
import soundfile as sf
from pyannote.core import Annotation, Timeline
from pyannote.core import Segment as Span
from pyannote.database.util import load_rttm
from pyannote.metrics.diarization import DiarizationErrorRate

from diarize.segments import Segment

__all__ = [
    "EVALDATA_DIR",
    "SAMPLE_RATE",
    "Voice",
    "build_call",
    "der",
    "evaldata_voice",
    "sample_audio",
    "sample_reference",
    "sample_voice",
    "to_annotation",
]

SAMPLE_RATE = 16000
_SAMPLE_DIR = Path(util.find_spec("pyannote.audio").submodule_search_locations[0]) / "sample"
EVALDATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "evaldata" / "dev"


def sample_audio() -> np.ndarray:
    """pyannote.audio's sample call: mono float32 at 16 kHz."""
    waveform, rate = sf.read(_SAMPLE_DIR / "sample.wav", dtype="float32")
    assert rate == SAMPLE_RATE
    return waveform


def sample_reference() -> Annotation:
    """The reference turns of the sample (speakers ``speaker90`` and ``speaker91``)."""
    return load_rttm(str(_SAMPLE_DIR / "sample.rttm"))["sample"]


@dataclass
class Voice:
    """One person's single-speaker turns (float32 arrays at 16 kHz), longest first."""

    name: str
    turns: list[np.ndarray]

    @property
    def speech_s(self) -> float:
        return sum(t.shape[0] for t in self.turns) / SAMPLE_RATE

    def split(self, enrol_s: float) -> tuple[Voice, Voice]:
        """(turns for enrolment, the other turns): the first turns up to `enrol_s` seconds."""
        enrol: list[np.ndarray] = []
        rest: list[np.ndarray] = []
        for turn in self.turns:
            taken = sum(t.shape[0] for t in enrol) / SAMPLE_RATE
            (enrol if taken < enrol_s else rest).append(turn)
        return Voice(self.name, enrol), Voice(self.name, rest)


def _voice(name: str, waveform: np.ndarray, reference: Annotation, label: str, exclude=()) -> Voice:
    overlap = reference.get_overlap()
    clean: Timeline = reference.label_timeline(label).support().extrude(overlap)
    if exclude:
        clean = clean.extrude(Timeline(list(exclude)))
    turns = [
        waveform[int(s.start * SAMPLE_RATE) : int(s.end * SAMPLE_RATE)]
        for s in clean
        if s.duration >= 0.5
    ]
    return Voice(name, sorted(turns, key=lambda t: -t.shape[0]))


def sample_voice(label: str, exclude: list[Span] | tuple = ()) -> Voice:
    """The non-overlapped turns of ``speaker90`` or ``speaker91`` of the sample, leaving out
    the spans in `exclude` (e.g. those a voiceprint was enrolled from)."""
    return _voice(label, sample_audio(), sample_reference(), label, exclude)


def evaldata_voice(uri: str, label: str) -> Voice | None:
    """A speaker's non-overlapped turns in one AMI excerpt; None when evaldata is absent."""
    audio = EVALDATA_DIR / f"{uri}.flac"
    if not audio.is_file():
        return None
    references: dict[str, Annotation] = {}
    for rttm in EVALDATA_DIR.glob("*.rttm"):
        references.update(load_rttm(str(rttm)))
    waveform, rate = sf.read(audio, dtype="float32")
    assert rate == SAMPLE_RATE
    return _voice(f"{uri}:{label}", waveform, references[uri], label)


def build_call(
    voices: list[Voice], order: list[int], gap_s: float = 0.3
) -> tuple[np.ndarray, Annotation]:
    """Concatenate turns: ``order`` lists voice indices; each use takes that voice's next turn.

    Returns the waveform and its exact reference (labels are the voices' names).
    """
    used = [0] * len(voices)
    gap = np.zeros(int(gap_s * SAMPLE_RATE), dtype=np.float32)
    pieces: list[np.ndarray] = [gap]
    reference = Annotation(uri="built")
    t = gap_s
    for index in order:
        voice = voices[index]
        turn = voice.turns[used[index] % len(voice.turns)]
        used[index] += 1
        duration_s = turn.shape[0] / SAMPLE_RATE
        reference[Span(t, t + duration_s)] = voice.name
        pieces += [turn, gap]
        t += duration_s + gap_s
    return np.concatenate(pieces).astype(np.float32), reference


def to_annotation(segments: list[Segment]) -> Annotation:
    """Our segments as a pyannote annotation (for scoring)."""
    annotation = Annotation(uri="hypothesis")
    for i, s in enumerate(segments):
        annotation[Span(s.start_s, s.end_s), i] = s.speaker
    return annotation


def der(reference: Annotation, segments: list[Segment], uem: Span | None = None) -> float:
    """Diarization error rate, no collar, overlap scored."""
    metric = DiarizationErrorRate(collar=0.0, skip_overlap=False)
    extent = Timeline([uem]) if uem is not None else None
    return float(metric(reference, to_annotation(segments), uem=extent))
