"""The benchmark report: ``benchmarks/results/REPORT.md`` and its PNG plots.

By default the latest run of each suite and of each long-call benchmark (see
`benchmarks.long_call`) is reported; a run is a folder holding ``results.json`` (see
`benchmarks.runner`).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import plots
from benchmarks.aggregate import aggregate, best_peer, by_condition, ratio
from benchmarks.report_text import (
    condition_table,
    headline_table,
    machine_line,
    per_file_table,
    stage_table,
    system_list,
    targets_table,
)
from benchmarks.rttm import Turn, read_rttm
from benchmarks.systems import STEREO_CONDITIONS

__all__ = ["latest_runs", "print_summary", "write_report"]

RESULTS_DIR = Path(__file__).resolve().parent / "results"
_LONG_CALLS = ("stereo-speed", "mono-long", "mono-dense")
_SUITES = ("quick", "full", *_LONG_CALLS)


def latest_runs(results_dir: Path = RESULTS_DIR) -> list[Path]:
    """The newest run folder of each suite and of each long-call benchmark."""
    found = []
    for suite in _SUITES:
        runs = sorted(p.parent for p in results_dir.glob(f"{suite}-*/results.json"))
        if runs:
            found.append(runs[-1])
    return found


def _threads(document: dict) -> str:
    threads = document.get("threads")
    if not threads:
        return "CPU threads as each system chooses"
    return f"{threads} CPU thread{'s' if threads > 1 else ''} per system"


def _load(run: Path) -> dict:
    path = run / "results.json" if run.is_dir() else run
    if not path.is_file():
        raise FileNotFoundError(f"{run}: no results.json (run `python -m benchmarks run` first)")
    return json.loads(path.read_text(encoding="utf-8"))


def print_summary(document: dict) -> None:
    """A short table on stdout: DER and speed of every system per condition."""
    table = by_condition(document["results"])
    print(f"\n{document['suite']} suite on {machine_line(document['machine'])}")
    for condition, systems in table.items():
        print(f"  {condition}")
        for name, f in systems.items():
            der = "   -  " if f.get("der") is None else f"{100 * f['der']:5.1f}%"
            xrt = "   -" if f.get("xrt") is None else f"{f['xrt']:7.1f}x"
            errors = f"  ({f['errors']} crashed)" if f.get("errors") else ""
            print(f"    {name:18s} DER {der}  speed {xrt}  files {f['files']}{errors}")
    for skip in document.get("skipped", []):
        print(f"  skipped {skip['item_id']}: {skip['reason']}")


def _hypothesis(row: dict) -> list[Turn]:
    path = Path(row.get("hyp_rttm") or "")
    if not path.is_file():
        return []
    return [t for turns in read_rttm(path).values() for t in turns]


def _timeline_calls(document: dict, limit: int = 3):
    """Up to ``limit`` calls worth a picture: a real telephone call, a generated telephone
    call and a stereo call, each with ours and the best peer on that file."""
    from benchmarks.data.items import BenchItem, load_reference
    from benchmarks.metrics import optimal_mapping

    wanted = ("real-telephone", "telephony", "stereo", "clean16k", "real-meeting")
    calls = []
    for condition in wanted:
        rows = [
            r
            for r in document["results"]
            if r["condition"] == condition
            and r.get("status") == "ok"
            and Path(r.get("hyp_rttm") or "").is_file()
        ]
        if not rows:
            continue
        item_id = rows[0]["item_id"]
        item = BenchItem.from_dict(document["items"][item_id])
        try:
            reference = load_reference(item)
        except OSError:
            continue
        region = item.uem or (0.0, item.duration_s)
        mine = {r["system"]: r for r in rows if r["item_id"] == item_id}
        figures = {s: aggregate([r]) for s, r in mine.items()}
        shown = [s for s in ("ours", "ours-stereo") if s in mine]
        best = best_peer(figures, "der", condition)
        if best:
            shown.append(best[0])
        hypotheses = []
        for system in shown:
            turns = _hypothesis(mine[system])
            mapping = optimal_mapping(reference, turns, region)
            hypotheses.append(
                (system, [Turn(t.start_s, t.end_s, mapping.get(t.speaker, "?")) for t in turns])
            )
        calls.append((f"{item_id} ({condition})", reference, hypotheses))
        if len(calls) == limit:
            break
    return calls


def _suite_section(document: dict, out_dir: Path) -> list[str]:
    suite = document["suite"]
    table = by_condition(document["results"])
    lines = [
        f"## Suite `{suite}`",
        "",
        f"Run `{document['run']}` ({document['started']}), device `{document['device']}`, "
        f"{_threads(document)}, {machine_line(document['machine'])}.",
        "",
    ]
    images = [
        plots.plot_der_by_condition(
            table, out_dir / f"der_by_condition_{suite}.png", f"DER by condition ({suite} suite)"
        )
    ]
    mono = [
        r
        for r in document["results"]
        if r["condition"] not in STEREO_CONDITIONS and r["system"] != "energy"
    ]
    stereo = [r for r in document["results"] if r["condition"] == "stereo"]
    images.append(
        plots.plot_speed_accuracy(
            [("mono-like files", mono), ("stereo files", stereo)],
            out_dir / f"speed_accuracy_{suite}.png",
            f"Speed and accuracy ({suite} suite)",
        )
    )
    calls = _timeline_calls(document)
    if calls:
        images.append(plots.plot_timelines(calls, out_dir / f"timelines_{suite}.png"))
    lines += [f"![{p.stem}]({p.name})" for p in images] + [""]
    lines += ["### Ours against the best peer", "", *headline_table(table), ""]
    for condition, systems in table.items():
        audio_s = max((f.get("audio_s") or 0) for f in systems.values())
        lines += [
            f"### `{condition}` ({max(f['files'] for f in systems.values())} files, "
            f"{audio_s / 60:.1f} min of audio)",
            "",
            *condition_table(systems, condition),
            "",
        ]
    lines += per_file_table(document)
    skipped = document.get("skipped") or []
    if skipped:
        lines += [
            "",
            "Skipped here: " + "; ".join(f"`{s['item_id']}` ({s['reason']})" for s in skipped),
        ]
    return lines + [""]


def write_report(runs: list[Path] | None = None, out_dir: Path = RESULTS_DIR) -> Path:
    """Write ``REPORT.md`` and its PNGs into ``out_dir``; the report's path.

    Raises
    ------
    FileNotFoundError
        No run to report on.
    """
    runs = runs or latest_runs(out_dir)
    if not runs:
        raise FileNotFoundError(
            f"no benchmark runs under {out_dir}; run `python -m benchmarks run --suite quick` first"
        )
    documents = [_load(r) for r in runs]
    out_dir.mkdir(parents=True, exist_ok=True)
    order = {"full": 0, "quick": 1}
    suites = sorted(
        (d for d in documents if d.get("suite") not in _LONG_CALLS),
        key=lambda d: order.get(d.get("suite"), 2),
    )
    speed = [d for d in documents if d.get("suite") in _LONG_CALLS]
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    lines = [
        "# gong-diarize benchmark report",
        "",
        f"Written {now} by `python -m benchmarks report` from "
        + ", ".join(f"`{d['run']}`" for d in documents)
        + ".",
        "",
        "Figures of ours are also given as a ratio to the best peer on the same files in "
        "the same run (below 1 is better for error rates and memory, above 1 for "
        "precision, recall, mapping accuracy and speed).",
        "",
    ]
    judged = suites[:1]  # the most complete suite: full when there is one
    basis = ", ".join(f"`{d['run']}`" for d in judged + speed)
    lines += ["## Targets", "", f"From {basis}.", "", *targets_table(judged, speed), ""]
    for document in speed:
        lines += _speed_section(document)
    for document in suites:
        lines += _suite_section(document, out_dir)
    lines += system_list(documents)
    path = out_dir / "REPORT.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _speed_section(document: dict) -> list[str]:
    table = by_condition(document["results"])
    stereo = document["suite"] == "stereo-speed"
    dense = document["suite"] == "mono-dense"
    call = (
        "one generated stereo call with delayed bleed"
        if stereo
        else "one call of four real AMI dev voices (tuning data) with overlaps, mono 16 kHz"
        if dense
        else "one generated mono telephone call (mu-law, 8 kHz)"
    )
    lines = [
        "## Stereo speed" if stereo else "## Dense real speech" if dense else "## Long mono call",
        "",
        f"Run `{document['run']}` ({document['started']}), {_threads(document)}, "
        f"{machine_line(document['machine'])}; {call}, every system in the same run.",
        "",
    ]
    for condition, systems in table.items():
        lines += condition_table(systems, condition)
        peer = ratio(systems, "der", "ours-stereo", condition)
        if peer is not None:
            lines += ["", f"The stereo path's DER is {peer:.2f} times the energy baseline's."]
    lines += ["", *stage_table(document)]
    cli = document.get("cli")
    if cli and cli.get("status") == "ok":
        lines += [
            f"The command line (`python -m diarize timeline`, 1 thread) from a cold start took "
            f"{cli['wall_s']:.1f} s: {cli['xrt']:.1f}× real time with start-up, "
            f"{cli['peak_rss_mb']:.0f} MiB peak (load avg {cli['load_avg_1m']:.1f}).",
            "",
        ]
    startup = document.get("startup") or {}
    warm, first = startup.get("warm") or {}, startup.get("first_run") or {}
    if warm.get("status") == "ok" and first.get("status") == "ok":
        lines += [
            f"Mono start-up, the same command on the call's first {startup['clip_s']:g} s: "
            f"{warm['wall_s']:.1f} s, {warm['peak_rss_mb']:.0f} MiB peak (load avg "
            f"{warm['load_avg_1m']:.1f}); a machine's first run, which exports the networks for "
            f"ONNX Runtime: {first['wall_s']:.1f} s.",
            "",
        ]
    return lines + [""]
