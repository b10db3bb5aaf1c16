"""Pooling per-file results into per-condition figures, and ours against the best peer.

Rates are pooled the way their definitions pool: DER weighted by scored reference speech,
boundary precision/recall and the precise share from their counts, times real time as total
audio over total processing time, memory as the maximum over files.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from benchmarks.systems import PEERS, STEREO_CONDITIONS

__all__ = [
    "HIGHER_IS_BETTER",
    "LOWER_IS_BETTER",
    "aggregate",
    "best_peer",
    "by_condition",
    "ratio",
]

LOWER_IS_BETTER = (
    "der",
    "der_collar",
    "jer",
    "speaker_count_error",
    "ier",
    "peak_rss_mb",
    "gpu_peak_mb",
    "der_miss",
    "der_fa",
    "der_confusion",
)
HIGHER_IS_BETTER = (
    "boundary_precision",
    "boundary_recall",
    "precise_share",
    "party_accuracy",
    "xrt",
)
_WEIGHTED = ("der", "der_collar", "der_miss", "der_fa", "der_confusion", "ier")
_MEAN = ("jer", "speaker_count_error", "party_accuracy")


def _ratio_of(rows: list[dict], numerator: str, denominator: str) -> float | None:
    den = sum(r["metrics"].get(denominator) or 0.0 for r in rows)
    if den <= 0:
        return None
    return sum(r["metrics"].get(numerator) or 0.0 for r in rows) / den


def aggregate(rows: Iterable[dict]) -> dict:
    """Pool the successful result rows of one system (and one condition) into one figure set."""
    rows = list(rows)
    ok = [r for r in rows if r.get("status") == "ok" and r.get("metrics")]
    out: dict = {
        "files": len(ok),
        "errors": sum(r.get("status") == "error" for r in rows),
        "not_run": sum(r.get("status") == "skipped" for r in rows),
    }
    if not ok:
        return out
    weights = [r["metrics"].get("ref_speech_s") or 0.0 for r in ok]
    for key in _WEIGHTED:
        pairs = [
            (r["metrics"][key], w)
            for r, w in zip(ok, weights, strict=True)
            if r["metrics"].get(key) is not None
        ]
        total = sum(w for _, w in pairs)
        out[key] = sum(v * w for v, w in pairs) / total if total > 0 else None
    for key in _MEAN:
        values = [r["metrics"][key] for r in ok if r["metrics"].get(key) is not None]
        out[key] = sum(values) / len(values) if values else None
    out["boundary_precision"] = _ratio_of(ok, "edges_matched", "edges_hyp")
    out["boundary_recall"] = _ratio_of(ok, "edges_matched", "edges_ref")
    out["precise_share"] = _ratio_of(ok, "segments_precise", "segments_hyp")
    wall = sum(r["wall_s"] for r in ok)
    out["audio_s"] = sum(r["duration_s"] for r in ok)
    out["xrt"] = out["audio_s"] / wall if wall > 0 else None
    out["peak_rss_mb"] = max(r["peak_rss_mb"] for r in ok)
    gpu = [r["gpu_peak_mb"] for r in ok if r.get("gpu_peak_mb") is not None]
    out["gpu_peak_mb"] = max(gpu) if gpu else None
    return out


def by_condition(results: list[dict]) -> dict[str, dict[str, dict]]:
    """``condition -> system -> pooled figures``, conditions in first-seen order."""
    groups: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for row in results:
        groups[row["condition"]][row["system"]].append(row)
    return {
        condition: {system: aggregate(rows) for system, rows in systems.items()}
        for condition, systems in groups.items()
    }


def _counts_as_peer(name: str, condition: str | None) -> bool:
    """The energy baseline is a peer for true stereo calls only; elsewhere (duplicated mono)
    it is run to show what a channel split does there, not as an alternative."""
    if name not in PEERS:
        return False
    return name != "energy" or condition is None or condition in STEREO_CONDITIONS


def best_peer(
    figures: dict[str, dict], metric: str, condition: str | None = None
) -> tuple[str, float] | None:
    """The peer with the best value of ``metric`` among ``figures`` (system -> figures) of
    one ``condition``."""
    candidates = [
        (name, f[metric])
        for name, f in figures.items()
        if _counts_as_peer(name, condition) and f.get(metric) is not None
    ]
    if not candidates:
        return None
    pick = max if metric in HIGHER_IS_BETTER else min
    return pick(candidates, key=lambda c: c[1])


def ratio(
    figures: dict[str, dict], metric: str, system: str = "ours", condition: str | None = None
) -> float | None:
    """``system``'s value of ``metric`` divided by the best peer's (``None`` if either is
    missing or the peer's is 0). Below 1 is better for error rates and memory, above 1 for
    precision, recall, mapping accuracy and speed."""
    best = best_peer(figures, metric, condition)
    mine = figures.get(system, {}).get(metric)
    if best is None or mine is None or best[1] == 0:
        return None
    return mine / best[1]
