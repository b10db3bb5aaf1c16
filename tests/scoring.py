"""Scoring helpers shared by the tests: DER and boundary accuracy against a reference."""

from __future__ import annotations

import warnings
from collections.abc import Iterable

from diarize.segments import Segment


def der(reference: Iterable[Segment], hypothesis: Iterable[Segment]) -> float:
    """Diarization error rate (no collar, overlap scored) with the optimal speaker mapping."""
    from pyannote.core import Annotation
    from pyannote.core import Segment as Span
    from pyannote.metrics.diarization import DiarizationErrorRate

    def annotation(segments: Iterable[Segment]) -> Annotation:
        result = Annotation()
        for i, seg in enumerate(segments):
            result[Span(seg.start_s, seg.end_s), i] = seg.speaker
        return result

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(DiarizationErrorRate()(annotation(reference), annotation(hypothesis)))


def boundary_recall(
    reference: Iterable[Segment], hypothesis: Iterable[Segment], tolerance_s: float = 0.1
) -> float:
    """Share of reference segment edges with a hypothesis edge of the same speaker within
    `tolerance_s` (speakers must already use the same labels)."""
    reference, hypothesis = list(reference), list(hypothesis)
    hits = total = 0
    for speaker in {s.speaker for s in reference}:
        edges = [t for s in hypothesis if s.speaker == speaker for t in (s.start_s, s.end_s)]
        for seg in (s for s in reference if s.speaker == speaker):
            for t in (seg.start_s, seg.end_s):
                total += 1
                hits += any(abs(t - e) <= tolerance_s for e in edges)
    return hits / total if total else 1.0
