"""Long calls: the stereo path on a 1-hour stereo call, the mono path on a 4-hour call.

```
python -m benchmarks stereo-speed [--hours 1]   # stereo pass, whole library call, energy baseline
python -m benchmarks mono-long [--hours 4]      # mono diarization: speed and peak memory
```

Each builds (once, then cached) one generated 2-party call and runs its systems on it in the
same run. The stereo call has the rep on one channel and the other side leaking into it 10-30
dB down and a few ms late; the mono call is a mu-law 8 kHz telephone recording of the same
kind of conversation. The run prints times real time, peak RSS and accuracy, and is saved like
a suite run, so the report picks it up. The mono call's peers are the Silero + CAM++
clustering baseline and, on a GPU, pyannote's own pipeline.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from benchmarks import resources
from benchmarks.aggregate import by_condition
from benchmarks.data.items import ItemSpec, build_item
from benchmarks.data.suites import long_mono_spec, long_stereo_spec
from benchmarks.progress import progress_bar
from benchmarks.runner import RESULTS_DIR, resolve_device, run_items

__all__ = [
    "LONG_CALLS",
    "MONO_MAX_PEAK_MIB",
    "MONO_MIN_XRT_CPU",
    "STEREO_MIN_XRT",
    "LongCall",
    "long_call",
]

MONO_MAX_PEAK_MIB = 4096
"""The mono path's memory ceiling on a 4-hour call (pyannote users report 10+ GB there)."""
MONO_MIN_XRT_CPU = 20
"""Mono diarization's speed floor on the 2-core CPU, times real time."""
STEREO_MIN_XRT = 300
"""The stereo path's speed floor on a 1-hour call, times real time."""


@dataclass(frozen=True)
class LongCall:
    """One long-call benchmark: which call, which systems, which system the targets judge."""

    suite: str
    layout: str
    spec: Callable[[float], ItemSpec]
    systems: tuple[str, ...]
    judged: str
    default_hours: float


LONG_CALLS = {
    "stereo-speed": LongCall(
        suite="stereo-speed",
        layout="stereo",
        spec=long_stereo_spec,
        systems=("ours-stereo", "ours", "energy"),
        judged="ours-stereo",
        default_hours=1.0,
    ),
    "mono-long": LongCall(
        suite="mono-long",
        layout="mono",
        spec=long_mono_spec,
        # pyannote's own pipeline runs only on a GPU at this length (see its max_cpu_audio_s)
        systems=("ours", "silero-cluster", "pyannote-default"),
        judged="ours",
        default_hours=4.0,
    ),
}


def _pct(value) -> str:
    return "    -" if value is None else f"{100 * value:5.1f}%"


def long_call(
    name: str,
    hours: float | None = None,
    device: str = "cpu",
    quiet: bool = False,
    threads: int | None = 1,
    systems: list[str] | None = None,
) -> int:
    """Run one long-call benchmark and print its table; the exit code (1 when a system crashed).

    Parameters
    ----------
    name
        A key of `LONG_CALLS`: ``"stereo-speed"`` or ``"mono-long"``.
    hours
        Length of the generated call (default: the benchmark's own, 1 or 4 hours).
    device
        ``"cpu"`` (the targets are for the CPU), ``"cuda"`` or ``"auto"``.
    quiet
        No progress output.
    threads
        CPU threads per system (``None``: each system's own choice).
    systems
        Systems to run (default: the benchmark's own).
    """
    bench = LONG_CALLS[name]
    hours = bench.default_hours if hours is None else hours
    device = resolve_device(device)
    started = datetime.now(timezone.utc)
    run_dir = RESULTS_DIR / f"{bench.suite}-{started.strftime('%Y%m%d-%H%M%S')}"
    run_dir.mkdir(parents=True, exist_ok=True)
    with progress_bar(quiet) as bar:
        task = bar.add_task(f"building a {hours:g}-hour {bench.layout} call", total=1)
        item = build_item(bench.spec(hours * 3600.0))
        bar.update(task, advance=1)
        names = list(systems or bench.systems)
        rows, loads = run_items([item], names, device, run_dir, bar, threads)
    document = {
        "suite": bench.suite,
        "run": run_dir.name,
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "device": device,
        "threads": threads,
        "seed": 0,
        "machine": resources.machine_info(),
        "systems": loads,
        "items": {item.item_id: item.to_dict()},
        "skipped": [],
        "results": rows,
    }
    (run_dir / "results.json").write_text(json.dumps(document, indent=1), encoding="utf-8")
    _print(document, item, bench)
    return 1 if any(r.get("status") == "error" for r in rows) else 0


def _print(document: dict, item, bench: LongCall) -> None:
    machine = document["machine"]
    bleed = (
        f" (bleed {item.params.get('bleed_db')} dB, {item.params.get('delay_ms')} ms)"
        if bench.layout == "stereo"
        else ""
    )
    print(
        f"\n{bench.suite}: {item.duration_s / 3600:.2f} h {bench.layout} call{bleed}, "
        f"{machine['cpu']}, {machine['cores']} cores, device {document['device']}"
    )
    print(
        f"{'system':14s} {'x real time':>11s} {'wall s':>8s} {'peak RSS MiB':>13s} "
        f"{'DER':>6s} {'DER±.25':>7s} {'edge P':>6s} {'edge R':>6s} {'precise':>7s} "
        f"{'load avg':>8s}"
    )
    loads = {r["system"]: r.get("load_avg_1m") for r in document["results"]}
    for systems in by_condition(document["results"]).values():
        for name, f in systems.items():
            if not f.get("files"):
                print(f"{name:14s} {'not run' if f.get('not_run') else 'crashed'}")
                continue
            wall = f["audio_s"] / f["xrt"] if f.get("xrt") else float("nan")
            print(
                f"{name:14s} {f['xrt']:10.0f}x {wall:8.1f} {f['peak_rss_mb']:13.0f} "
                f"{_pct(f.get('der'))} {_pct(f.get('der_collar'))} "
                f"{_pct(f.get('boundary_precision'))} {_pct(f.get('boundary_recall'))} "
                f"{_pct(f.get('precise_share'))} {loads.get(name) or 0:8.1f}"
            )
        _print_targets(systems, bench)
    print("(load avg: the machine's 1-minute load average when the system started the file;")
    print(" above the core count, other processes were competing for the CPU)")
    print(f"results: {RESULTS_DIR / document['run'] / 'results.json'}")


def _print_targets(systems: dict[str, dict], bench: LongCall) -> None:
    judged = systems.get(bench.judged, {})
    if not judged.get("xrt"):
        return
    if bench.layout == "stereo":
        verdict = "met" if judged["xrt"] >= STEREO_MIN_XRT else "NOT met"
        print(f"target >= {STEREO_MIN_XRT}x real time: {judged['xrt']:.0f}x ({verdict})")
        energy = systems.get("energy", {})
        if judged.get("der") is not None and energy.get("der") is not None:
            verdict = "ahead" if judged["der"] < energy["der"] else "NOT ahead"
            print(
                f"accuracy vs energy baseline: DER {100 * judged['der']:.1f}% vs "
                f"{100 * energy['der']:.1f}% ({verdict})"
            )
        return
    verdict = "met" if judged["xrt"] >= MONO_MIN_XRT_CPU else "NOT met"
    print(f"target >= {MONO_MIN_XRT_CPU}x real time: {judged['xrt']:.0f}x ({verdict})")
    peak = judged.get("peak_rss_mb")
    if peak is not None:
        verdict = "met" if peak < MONO_MAX_PEAK_MIB else "NOT met"
        print(f"target < {MONO_MAX_PEAK_MIB} MiB peak RSS: {peak:.0f} MiB ({verdict})")
