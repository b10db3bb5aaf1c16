"""Runs one system on a list of items in a process of its own, so memory is its own.

``python -m benchmarks.worker JOB.json`` reads ``{"system", "device", "threads", "stages",
"items", "out_dir"}`` and appends one JSON line per event to ``<out_dir>/<system>.jsonl``:
first ``load`` (time and memory to load and warm up), then one ``item`` line per item (wall
time, times real time, peak RSS and GPU memory for that file alone, the hypothesis RTTM written
beside it, or the error; with ``stages``, the seconds of each stage of the mono path in
``details["stages_s"]``).
A failure on one item is recorded and the worker goes on with the next.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

from benchmarks import resources
from benchmarks.data.items import BenchItem
from benchmarks.rttm import format_rttm
from benchmarks.systems import create_system

__all__ = ["main", "run_job"]


def _emit(path: Path, record: dict) -> None:
    with path.open("a", encoding="utf-8") as stream:
        stream.write(json.dumps(record) + "\n")


def _cap_threads(threads: int | None) -> None:
    """Hold torch to ``threads`` even where a system raised it while loading (senko does)."""
    torch = sys.modules.get("torch")
    if threads and torch is not None:
        torch.set_num_threads(threads)


def run_job(job: dict) -> int:
    """Run ``job`` (see the module docstring); the number of items that failed."""
    out_dir = Path(job["out_dir"])
    events = out_dir / f"{job['system']}.jsonl"
    hyp_dir = out_dir / "hyp" / job["system"]
    hyp_dir.mkdir(parents=True, exist_ok=True)
    resources.reset_peak_rss()
    started = time.perf_counter()
    system = create_system(job["system"], job["device"])
    system.items = [BenchItem.from_dict(data) for data in job["items"]]
    try:
        system.load()
    except Exception as exc:  # any failure to load is reported, not raised
        _emit(events, {"event": "load", "status": "error", "error": _describe(exc)})
        return len(job["items"])
    _cap_threads(job.get("threads"))
    timer = None
    if job.get("stages"):
        from benchmarks.stages import StageTimer

        timer = StageTimer()
        timer.install()
    _emit(
        events,
        {
            "event": "load",
            "status": "ok",
            "load_s": round(time.perf_counter() - started, 3),
            "load_peak_rss_mb": round(resources.peak_rss_mb(), 1),
            "gpu": resources.gpu_name(),
        },
    )
    failures = 0
    for data in job["items"]:
        record = _run_item(system, BenchItem.from_dict(data), hyp_dir, timer)
        failures += record["status"] == "error"
        _emit(events, record)
    return failures


def _run_item(system, item: BenchItem, hyp_dir: Path, timer=None) -> dict:
    record: dict = {
        "event": "item",
        "item_id": item.item_id,
        "system": system.name,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    try:
        system.prepare(item)
        resources.reset_peak_rss()
        resources.reset_gpu_peak()
        if timer is not None:
            timer.reset()
        started = time.perf_counter()
        output = system.run(item)
        wall_s = time.perf_counter() - started
    except Exception as exc:  # recorded per item; the run goes on
        record.update(status="error", error=_describe(exc), traceback=traceback.format_exc())
        return record
    hyp = hyp_dir / f"{item.item_id}.rttm"
    hyp.write_text(format_rttm(output.turns, item.item_id), encoding="utf-8")
    gpu_mb = resources.gpu_peak_mb()
    record.update(
        status="ok",
        wall_s=round(wall_s, 4),
        xrt=round(item.duration_s / wall_s, 2) if wall_s > 0 else None,
        peak_rss_mb=round(resources.peak_rss_mb(), 1),
        gpu_peak_mb=None if gpu_mb is None else round(gpu_mb, 1),
        hyp_rttm=str(hyp),
        labels_are_parties=output.labels_are_parties,
        details=output.details,
    )
    if timer is not None:
        record["details"] = {**output.details, "stages_s": timer.report(wall_s)}
    return record


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:500]


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m benchmarks.worker JOB.json``; exit 0 even when items failed
    (they are in the events file), 2 on a bad job file."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m benchmarks.worker JOB.json", file=sys.stderr)
        return 2
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
    run_job(job)
    return 0


if __name__ == "__main__":
    sys.exit(main())
