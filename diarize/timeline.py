"""From party segments to Gong's ``speakersTimeline``.

``{precise: bool, speechSegments: [{fromTime: ms, toTime: ms, partyIds: [partyId]}]}``:
integer milliseconds, sorted, inside the audio, one party per segment (segments of different
parties may overlap), or with ``exclusive`` a timeline where no two segments overlap.
"""

from __future__ import annotations

from collections.abc import Iterable

from diarize.segments import Segment

__all__ = ["build_timeline", "make_exclusive"]


def build_timeline(
    segments: Iterable[Segment], duration_s: float, precise: bool, exclusive: bool = False
) -> dict:
    """The ``speakersTimeline`` object for segments whose ``speaker`` is a ``partyId``.

    Parameters
    ----------
    segments
        Speech of each party.
    duration_s
        Length of the recording; segments are clipped to it.
    precise
        Whether every boundary is known to be within 100 ms of the real speech.
    exclusive
        Resolve overlaps so that at most one party speaks at any time.
    """
    segments = list(segments)
    if exclusive:
        segments = make_exclusive(segments)
    duration_ms = int(round(duration_s * 1000))
    speech = []
    for seg in segments:
        start_ms = max(0, int(round(seg.start_s * 1000)))
        end_ms = min(duration_ms, int(round(seg.end_s * 1000)))
        if end_ms > start_ms:
            speech.append({"fromTime": start_ms, "toTime": end_ms, "partyIds": [seg.speaker]})
    speech.sort(key=lambda s: (s["fromTime"], s["toTime"], s["partyIds"]))
    return {"precise": bool(precise), "speechSegments": speech}


def make_exclusive(segments: Iterable[Segment]) -> list[Segment]:
    """Split overlapping speech so that one party speaks at a time.

    In an overlap the party who started speaking last keeps the floor (an interruption or a
    backchannel is heard over the ongoing turn); the ongoing turn resumes afterwards.
    """
    ordered = sorted(segments)
    edges = sorted({t for s in ordered for t in (s.start_s, s.end_s)})
    pieces: list[Segment] = []
    active: list[Segment] = []
    next_index = 0
    for start, end in zip(edges, edges[1:], strict=False):
        while next_index < len(ordered) and ordered[next_index].start_s <= start:
            active.append(ordered[next_index])
            next_index += 1
        active = [s for s in active if s.end_s >= end]
        if not active:
            continue
        speaker = max(active, key=lambda s: s.start_s).speaker
        if pieces and pieces[-1].speaker == speaker and pieces[-1].end_s == start:
            pieces[-1] = Segment(pieces[-1].start_s, end, speaker)
        else:
            pieces.append(Segment(start, end, speaker))
    return pieces
