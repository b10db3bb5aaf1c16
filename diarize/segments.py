"""The unit of "who spoke when": a labelled time span, and small operations on lists of them."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Segment", "intersect", "merge_close", "to_rttm"]


@dataclass(frozen=True, order=True)
class Segment:
    """Speech of one speaker (a channel label such as ``"ch0"`` or a diarization label such as
    ``"SPEAKER_00"``) from ``start_s`` to ``end_s`` seconds after the start of the recording."""

    start_s: float
    end_s: float
    speaker: str

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def merge_close(segments: Iterable[Segment], max_gap_s: float = 0.0) -> list[Segment]:
    """Merge segments of the same speaker that overlap or are at most ``max_gap_s`` apart."""
    by_speaker: dict[str, list[Segment]] = {}
    for seg in sorted(segments):
        runs = by_speaker.setdefault(seg.speaker, [])
        if runs and seg.start_s - runs[-1].end_s <= max_gap_s:
            last = runs[-1]
            runs[-1] = Segment(last.start_s, max(last.end_s, seg.end_s), seg.speaker)
        else:
            runs.append(seg)
    return sorted(s for runs in by_speaker.values() for s in runs)


def intersect(segments: Iterable[Segment], regions: Iterable[tuple[float, float]]) -> list[Segment]:
    """The parts of `segments` inside `regions` (non-overlapping (start_s, end_s) spans)."""
    spans = sorted(regions)
    starts = [start for start, _ in spans]
    result = []
    for seg in sorted(segments):
        # the first region that may reach into `seg`, then every one that starts before it ends
        i = max(0, bisect_right(starts, seg.start_s) - 1)
        while i < len(spans) and spans[i][0] < seg.end_s:
            start_s, end_s = max(seg.start_s, spans[i][0]), min(seg.end_s, spans[i][1])
            if end_s > start_s:
                result.append(Segment(start_s, end_s, seg.speaker))
            i += 1
    return sorted(result)


def to_rttm(segments: Iterable[Segment], uri: str) -> str:
    """Render segments as RTTM lines, one ``SPEAKER uri 1 start duration ...`` line each."""
    uri = uri.replace(" ", "_") or "call"
    lines = [
        f"SPEAKER {uri} 1 {s.start_s:.3f} {s.duration_s:.3f} <NA> <NA> {s.speaker} <NA> <NA>"
        for s in sorted(segments)
    ]
    return "".join(line + "\n" for line in lines)
