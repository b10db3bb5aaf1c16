"""Accuracy of one hypothesis against one reference.

DER, JER and the speaker-count error come from pyannote.metrics. Boundary figures are ours:
each hypothesis speaker is first tied to a reference speaker by the optimal (Hungarian)
mapping that DER uses, then its segment edges are compared with that reference speaker's
edges (starts with starts, ends with ends) within a tolerance of 100 ms.

The "0.25 s collar" is the NIST convention: 0.25 s on each side of every reference boundary
is not scored (pyannote's ``collar`` is the full width, so it is given 0.5).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pyannote.core import Annotation, Timeline
from pyannote.core import Segment as Span
from pyannote.metrics.diarization import DiarizationErrorRate, JaccardErrorRate
from pyannote.metrics.identification import IdentificationErrorRate

from benchmarks.rttm import Turn, merge_turns

__all__ = ["TOLERANCE_S", "boundary_scores", "matched_count", "optimal_mapping", "score"]

TOLERANCE_S = 0.1


def _annotation(turns: Sequence[Turn]) -> Annotation:
    annotation = Annotation()
    for index, turn in enumerate(turns):
        if turn.end_s > turn.start_s:
            annotation[Span(turn.start_s, turn.end_s), index] = turn.speaker
    return annotation


def matched_count(reference: Sequence[float], hypothesis: Sequence[float], tol_s: float) -> int:
    """Most one-to-one pairs of points (one from each list) at most ``tol_s`` apart.

    On a line, matching each point with the earliest unmatched point it can reach is optimal.
    """
    ref, hyp = sorted(reference), sorted(hypothesis)
    i = j = matches = 0
    while i < len(ref) and j < len(hyp):
        if abs(ref[i] - hyp[j]) <= tol_s + 1e-9:
            matches, i, j = matches + 1, i + 1, j + 1
        elif ref[i] < hyp[j]:
            i += 1
        else:
            j += 1
    return matches


def _edges(
    turns: Sequence[Turn], region: tuple[float, float], margin_s: float
) -> dict[str, tuple[list, list]]:
    """Starts and ends of each speaker's merged turns more than ``margin_s`` inside ``region``
    (an edge on the region's border is where scoring starts or stops, not a speech edge)."""
    lo, hi = region[0] + margin_s, region[1] - margin_s
    edges: dict[str, tuple[list, list]] = {}
    for turn in merge_turns(turns):
        starts, ends = edges.setdefault(turn.speaker, ([], []))
        if lo < turn.start_s < hi:
            starts.append(turn.start_s)
        if lo < turn.end_s < hi:
            ends.append(turn.end_s)
    return edges


def _near(points: list[float], value: float, tol_s: float) -> bool:
    if not points:
        return False
    array = np.asarray(sorted(points))
    index = int(np.searchsorted(array, value))
    nearby = array[max(index - 1, 0) : index + 1]
    return bool(np.min(np.abs(nearby - value)) <= tol_s + 1e-9)


def boundary_scores(
    reference: Sequence[Turn],
    hypothesis: Sequence[Turn],
    mapping: dict[str, str],
    region: tuple[float, float],
    tol_s: float = TOLERANCE_S,
) -> dict[str, float | None]:
    """Boundary precision/recall and the share of precise hypothesis segments.

    Parameters
    ----------
    reference, hypothesis
        Turns; hypothesis labels are tied to reference labels by ``mapping`` (hyp -> ref).
    region
        Scoring region; edges outside it or within ``tol_s`` of its border are ignored.
    tol_s
        Tolerance.

    Returns
    -------
    dict
        ``boundary_precision`` (matched hypothesis edges / hypothesis edges),
        ``boundary_recall`` (matched reference edges / reference edges) and
        ``precise_share`` (hypothesis segments overlapping the region whose start is within
        ``tol_s`` of a start and whose end is within ``tol_s`` of an end of the mapped
        reference speaker, an edge at the region's border counting as right).
        ``None`` where there is nothing to count. The counts behind them (``edges_*``,
        ``segments_*``) come along so that files can be pooled.
    """
    ref_edges = _edges(reference, region, tol_s)
    hyp_edges = _edges(hypothesis, region, tol_s)
    matches = 0
    for hyp_label, (starts, ends) in hyp_edges.items():
        ref_starts, ref_ends = ref_edges.get(mapping.get(hyp_label, ""), ([], []))
        matches += matched_count(ref_starts, starts, tol_s) + matched_count(ref_ends, ends, tol_s)
    n_hyp = sum(len(s) + len(e) for s, e in hyp_edges.values())
    n_ref = sum(len(s) + len(e) for s, e in ref_edges.values())
    lo, hi = region
    segments = [t for t in merge_turns(hypothesis) if t.end_s > lo and t.start_s < hi]
    precise = 0
    for seg in segments:
        ref_starts, ref_ends = ref_edges.get(mapping.get(seg.speaker, ""), ([], []))
        start_ok = seg.start_s <= lo + tol_s or _near(ref_starts, seg.start_s, tol_s)
        end_ok = seg.end_s >= hi - tol_s or _near(ref_ends, seg.end_s, tol_s)
        precise += start_ok and end_ok
    return {
        "boundary_precision": matches / n_hyp if n_hyp else None,
        "boundary_recall": matches / n_ref if n_ref else None,
        "precise_share": precise / len(segments) if segments else None,
        "edges_matched": float(matches),
        "edges_hyp": float(n_hyp),
        "edges_ref": float(n_ref),
        "segments_precise": float(precise),
        "segments_hyp": float(len(segments)),
    }


def score(
    reference: Sequence[Turn],
    hypothesis: Sequence[Turn],
    region: tuple[float, float],
    labels_are_parties: bool = False,
) -> dict[str, float | None]:
    """Every accuracy figure of one hypothesis.

    Parameters
    ----------
    reference
        Reference turns; labels are party ids.
    hypothesis
        System output; labels are party ids when ``labels_are_parties``, else anonymous.
    region
        Scoring region ``(start_s, end_s)`` (the UEM, or the whole file).
    labels_are_parties
        Also score party mapping: ``party_accuracy`` (share of reference speakers whose
        optimally mapped hypothesis label is their own party id) and ``ier`` (error rate
        with labels taken literally, i.e. of the timeline Gong receives).

    Returns
    -------
    dict
        ``der``, ``der_miss``, ``der_fa``, ``der_confusion`` (no collar, overlap scored),
        ``ref_speech_s`` (the scored reference speech, DER's denominator),
        ``der_collar`` (0.25 s NIST collar), ``jer``, ``speaker_count_error``,
        ``n_ref_speakers``, ``n_hyp_speakers``, the `boundary_scores` and, with parties,
        ``party_accuracy`` and ``ier``. Rates are fractions (0.1 = 10%).
    """
    ref, hyp = _annotation(reference), _annotation(hypothesis)
    uem = Timeline([Span(*region)])
    der_metric = DiarizationErrorRate(collar=0.0, skip_overlap=False)
    parts = der_metric(ref, hyp, uem=uem, detailed=True)
    total = parts["total"] or 1.0
    ref_in, hyp_in = ref.crop(uem), hyp.crop(uem)
    mapping = {str(k): str(v) for k, v in der_metric.optimal_mapping(ref, hyp, uem=uem).items()}
    result: dict[str, float | None] = {
        "der": parts["diarization error rate"],
        "ref_speech_s": parts["total"],
        "der_miss": parts["missed detection"] / total,
        "der_fa": parts["false alarm"] / total,
        "der_confusion": parts["confusion"] / total,
        "der_collar": DiarizationErrorRate(collar=0.5, skip_overlap=False)(ref, hyp, uem=uem),
        "jer": JaccardErrorRate(collar=0.0, skip_overlap=False)(ref, hyp, uem=uem),
        "speaker_count_error": float(abs(len(hyp_in.labels()) - len(ref_in.labels()))),
        "n_ref_speakers": float(len(ref_in.labels())),
        "n_hyp_speakers": float(len(hyp_in.labels())),
    }
    result.update(boundary_scores(reference, hypothesis, mapping, region))
    if labels_are_parties:
        ref_labels = [str(label) for label in ref_in.labels()]
        correct = sum(1 for label in ref_labels if mapping.get(label) == label)
        result["party_accuracy"] = correct / len(ref_labels) if ref_labels else None
        result["ier"] = IdentificationErrorRate(collar=0.0, skip_overlap=False)(ref, hyp, uem=uem)
    return {k: (None if v is None else float(v)) for k, v in result.items()}


def optimal_mapping(
    reference: Sequence[Turn], hypothesis: Sequence[Turn], region: tuple[float, float]
) -> dict[str, str]:
    """DER's optimal (Hungarian) mapping of hypothesis labels to reference labels."""
    uem = Timeline([Span(*region)])
    mapping = DiarizationErrorRate().optimal_mapping(
        _annotation(reference), _annotation(hypothesis), uem=uem
    )
    return {str(k): str(v) for k, v in mapping.items()}
