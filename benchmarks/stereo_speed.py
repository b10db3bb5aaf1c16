"""Stereo speed: the stereo path on a generated 1-hour stereo call, against the energy baseline.

``python -m benchmarks stereo-speed [--hours 1]`` builds (once, then cached) a 2-party call
with the rep on one channel and the other side leaking into it 10-30 dB down and a few ms late,
runs ``ours-stereo`` (the stereo pass alone), ``ours`` (`process_call`, the whole library call)
and the ``energy`` baseline on it in the same run, and prints times real time, peak RSS and
accuracy. The run is saved like a suite run, so the report picks it up.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from benchmarks import resources
from benchmarks.aggregate import by_condition
from benchmarks.data.items import build_item
from benchmarks.data.suites import long_stereo_spec
from benchmarks.progress import progress_bar
from benchmarks.runner import RESULTS_DIR, resolve_device, run_items

__all__ = ["SYSTEMS", "stereo_speed"]

SYSTEMS = ("ours-stereo", "ours", "energy")


def _pct(value) -> str:
    return "    -" if value is None else f"{100 * value:5.1f}%"


def stereo_speed(
    hours: float = 1.0, device: str = "cpu", quiet: bool = False, threads: int | None = 1
) -> int:
    """Run the benchmark and print its table; the exit code (1 when a system crashed).

    Parameters
    ----------
    hours
        Length of the generated call.
    device
        ``"cpu"`` (the target is for the CPU), ``"cuda"`` or ``"auto"``.
    quiet
        No progress output.
    threads
        CPU threads per system (``None``: each system's own choice).
    """
    device = resolve_device(device)
    started = datetime.now(timezone.utc)
    run_dir = RESULTS_DIR / f"stereo-speed-{started.strftime('%Y%m%d-%H%M%S')}"
    run_dir.mkdir(parents=True, exist_ok=True)
    with progress_bar(quiet) as bar:
        task = bar.add_task(f"building a {hours:g}-hour stereo call", total=1)
        item = build_item(long_stereo_spec(hours * 3600.0))
        bar.update(task, advance=1)
        rows, loads = run_items([item], list(SYSTEMS), device, run_dir, bar, threads)
    document = {
        "suite": "stereo-speed",
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
    _print(document, item)
    return 1 if any(r.get("status") == "error" for r in rows) else 0


def _print(document: dict, item) -> None:
    machine = document["machine"]
    print(
        f"\nstereo speed: {item.duration_s / 3600:.2f} h stereo call "
        f"(bleed {item.params.get('bleed_db')} dB, {item.params.get('delay_ms')} ms), "
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
                print(f"{name:14s} crashed")
                continue
            wall = f["audio_s"] / f["xrt"] if f.get("xrt") else float("nan")
            print(
                f"{name:14s} {f['xrt']:10.0f}x {wall:8.1f} {f['peak_rss_mb']:13.0f} "
                f"{_pct(f.get('der'))} {_pct(f.get('der_collar'))} "
                f"{_pct(f.get('boundary_precision'))} {_pct(f.get('boundary_recall'))} "
                f"{_pct(f.get('precise_share'))} {loads.get(name) or 0:8.1f}"
            )
        stereo, energy = systems.get("ours-stereo", {}), systems.get("energy", {})
        if stereo.get("xrt"):
            verdict = "met" if stereo["xrt"] >= 300 else "NOT met"
            print(f"target >= 300x real time: {stereo['xrt']:.0f}x ({verdict})")
        if stereo.get("der") is not None and energy.get("der") is not None:
            verdict = "ahead" if stereo["der"] < energy["der"] else "NOT ahead"
            print(
                f"accuracy vs energy baseline: DER {100 * stereo['der']:.1f}% vs "
                f"{100 * energy['der']:.1f}% ({verdict})"
            )
    print("(load avg: the machine's 1-minute load average when the system started the file;")
    print(" above the core count, other processes were competing for the CPU)")
    print(f"results: {RESULTS_DIR / document['run'] / 'results.json'}")
