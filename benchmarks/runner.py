"""One benchmark run: build the suite's items, run every system on them, score, save.

Each system runs in a worker process of its own (`benchmarks.worker`), one system at a time,
so that times and peak memory are its own. The run is saved as
``benchmarks/results/<suite>-<timestamp>/results.json`` with the hypotheses beside it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import resources
from benchmarks.data.items import BenchItem, ItemSpec, Skipped, build_item, load_reference
from benchmarks.data.suites import suite_specs
from benchmarks.metrics import score
from benchmarks.progress import progress_bar
from benchmarks.rttm import read_rttm
from benchmarks.systems import DEFAULT_SYSTEMS, OURS, create_system

__all__ = [
    "DEFAULT_THREADS",
    "RESULTS_DIR",
    "build_items",
    "exit_reason",
    "resolve_device",
    "run_items",
    "run_suite",
]

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_THREADS = 1
"""CPU threads per system. One: on a shared machine, torch's two OpenMP threads on two busy
cores made the same file 13x slower (75 s instead of 5.6 s); one thread per system keeps
times comparable from run to run."""


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` becomes ``"cuda"`` where torch sees a GPU, else ``"cpu"``."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def build_items(specs: list[ItemSpec], bar) -> tuple[list[BenchItem], list[dict]]:
    """Build (or load from the cache) every item; the ones that cannot be built are listed
    with the reason instead."""
    items, skipped = [], []
    task = bar.add_task("building data", total=len(specs))
    for spec in specs:
        try:
            items.append(build_item(spec))
        except Skipped as exc:
            skipped.append(
                {"item_id": spec.item_id, "condition": spec.condition, "reason": str(exc)}
            )
        bar.update(task, advance=1)
    return items, skipped


def _worker(
    name: str,
    device: str,
    items: list[BenchItem],
    run_dir: Path,
    bar,
    threads: int | None,
    stages: bool = False,
) -> list[dict]:
    """Run system ``name`` on ``items`` in a worker process; its event records."""
    job = {
        "system": name,
        "device": device,
        "threads": threads,
        "stages": stages,
        "items": [i.to_dict() for i in items],
        "out_dir": str(run_dir),
    }
    env = dict(os.environ)
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    job_path = run_dir / f"job-{name}.json"
    job_path.write_text(json.dumps(job), encoding="utf-8")
    events = run_dir / f"{name}.jsonl"
    events.unlink(missing_ok=True)
    task = bar.add_task(f"{name}", total=len(items))
    with (run_dir / f"{name}.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", str(job_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        while process.poll() is None:
            time.sleep(0.5)
            bar.update(task, completed=_count_items(events))
    records = _read_events(events)
    bar.update(task, completed=len(items))
    done = {r["item_id"] for r in records if r.get("event") == "item"}
    load = next((r for r in records if r.get("event") == "load"), None)
    reason = (load or {}).get("error") or exit_reason(process.returncode)
    for item in items:
        if item.item_id not in done:
            records.append(
                {
                    "event": "item",
                    "item_id": item.item_id,
                    "system": name,
                    "status": "error",
                    "error": f"not run: {reason}",
                }
            )
    if name not in OURS:
        records = [_peer_not_run(r) for r in records]
    return records


def exit_reason(returncode: int | None) -> str:
    """Why a worker process ended, in words: a signal is named (SIGILL as what it means)."""
    if returncode is None or returncode >= 0:
        return f"worker exited with code {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    if -returncode == signal.SIGILL:
        return (
            f"illegal instruction ({name}): its code uses an instruction this CPU lacks "
            f"({resources.cpu_model()})"
        )
    return f"worker killed by {name}"


def _peer_not_run(record: dict) -> dict:
    """A peer's failure is the peer's: its file is reported as not run, not as our crash."""
    if record.get("event") != "item" or record.get("status") != "error":
        return record
    error = record.get("error") or "failed"
    return {
        **record,
        "status": "skipped",
        "error": error if error.startswith("not run: ") else f"not run: {error}",
    }


def _count_items(events: Path) -> int:
    return sum(1 for r in _read_events(events) if r.get("event") == "item")


def _read_events(events: Path) -> list[dict]:
    if not events.exists():
        return []
    records = []
    for line in events.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # a line being written right now
            continue
    return records


def _scored(record: dict, item: BenchItem) -> dict:
    row = {k: v for k, v in record.items() if k not in ("event", "traceback")}
    row.update(
        condition=item.condition,
        source=item.source,
        duration_s=item.duration_s,
        n_speakers=item.n_speakers,
    )
    if record.get("status") != "ok":
        return row
    hypothesis = [t for turns in read_rttm(Path(record["hyp_rttm"])).values() for t in turns]
    region = item.uem or (0.0, item.duration_s)
    row["metrics"] = score(
        load_reference(item), hypothesis, region, bool(record.get("labels_are_parties"))
    )
    return row


def _not_run(name: str, item: BenchItem) -> dict:
    return {
        "item_id": item.item_id,
        "system": name,
        "status": "skipped",
        "error": f"not run: {item.duration_s / 60:.0f} min is beyond its CPU time budget",
        "condition": item.condition,
        "source": item.source,
        "duration_s": item.duration_s,
        "n_speakers": item.n_speakers,
    }


def run_items(
    items: list[BenchItem],
    systems: list[str],
    device: str,
    run_dir: Path,
    bar,
    threads: int | None = DEFAULT_THREADS,
    stages: tuple[str, ...] = (),
) -> tuple[list[dict], dict]:
    """Run ``systems`` on the ``items`` each accepts; scored rows and per-system load info.

    ``threads`` caps every system's CPU threads (torch, OpenMP); ``None`` leaves each system
    to choose. The systems named in ``stages`` record the time of each stage of the mono path
    (`benchmarks.stages`) in their rows' ``details``."""
    rows, loads = [], {}
    by_id = {item.item_id: item for item in items}
    for name in systems:
        system = create_system(name, device)
        todo = [item for item in items if system.accepts(item) and not system.too_long(item)]
        rows += [
            _not_run(name, item) for item in items if system.accepts(item) and system.too_long(item)
        ]
        if not todo:
            continue
        records = _worker(name, device, todo, run_dir, bar, threads, name in stages)
        load = next((r for r in records if r.get("event") == "load"), {})
        loads[name] = {
            "description": system.description,
            **{k: v for k, v in load.items() if k != "event"},
        }
        rows += [_scored(r, by_id[r["item_id"]]) for r in records if r.get("event") == "item"]
    return rows, loads


def run_suite(
    suite: str,
    systems: list[str] | None = None,
    device: str = "auto",
    seed: int = 0,
    results_dir: Path = RESULTS_DIR,
    quiet: bool = False,
    conditions: list[str] | None = None,
    threads: int | None = DEFAULT_THREADS,
) -> tuple[Path, dict]:
    """Run ``suite`` and save it; the run folder and the saved result document.

    Parameters
    ----------
    suite
        ``"quick"`` or ``"full"``.
    systems
        Names to run (default: ours and every peer).
    device
        ``"auto"``, ``"cpu"`` or ``"cuda"``.
    seed
        Mixed into the generated items' seeds (0 for the published figures).
    results_dir
        Where the run folder goes.
    quiet
        No progress output at all.
    conditions
        Only the suite's items of these conditions (default: all).
    threads
        CPU threads per system (``None``: each system's own choice).

    Raises
    ------
    ValueError
        A condition the suite does not have.
    """
    specs = suite_specs(suite, seed)
    if conditions:
        unknown = sorted(set(conditions) - {s.condition for s in specs})
        if unknown:
            known = ", ".join(dict.fromkeys(s.condition for s in specs))
            raise ValueError(
                f"suite {suite!r} has no condition {', '.join(unknown)}; it has: {known}"
            )
        specs = [s for s in specs if s.condition in conditions]
    device = resolve_device(device)
    started = datetime.now(timezone.utc)
    run_dir = results_dir / f"{suite}-{started.strftime('%Y%m%d-%H%M%S')}"
    run_dir.mkdir(parents=True, exist_ok=True)
    systems = systems or list(DEFAULT_SYSTEMS)
    with progress_bar(quiet) as bar:
        items, skipped = build_items(specs, bar)
        rows, loads = run_items(items, systems, device, run_dir, bar, threads)
    document = {
        "suite": suite,
        "run": run_dir.name,
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "device": device,
        "seed": seed,
        "conditions": conditions,
        "threads": threads,
        "machine": resources.machine_info(),
        "systems": loads,
        "items": {item.item_id: item.to_dict() for item in items},
        "skipped": skipped,
        "results": rows,
    }
    (run_dir / "results.json").write_text(json.dumps(document, indent=1), encoding="utf-8")
    return run_dir, document
