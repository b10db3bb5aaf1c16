"""The batch benchmark: calls per hour of ``gong-diarize batch`` against one CLI run per call.

```
python -m benchmarks batch [--calls 10] [--quick] [--workers 1,2] [--ray] [--json PATH]
```

A realistic mix is built once (cached): about 70% stereo calls (one side per channel) and 30%
mono telephone calls (mu-law, 8 kHz), 2-30 minutes long (seeded draw), of real voices
(pyannote.audio's two-speaker telephone sample, and AMI meeting voices where
``../shared/evaldata`` is present). The same calls then run, in the same run:

- ``cli``: one ``gong-diarize timeline`` process per call, one after the other (what a user's
  shell loop does: each mono call pays torch's import and the model loading);
- ``batch`` with each ``--workers`` count (local worker processes, models loaded once each);
- ``batch --ray local`` with the largest worker count, when ``--ray`` is given and Ray is
  installed.

It prints and saves (``benchmarks/results/batch/<time>.json``) calls per hour, audio hours per
hour, the speed-up over ``cli``, the scaling efficiency of N workers (throughput / (N x the
1-worker throughput)), and the peak memory (RSS) of one worker process, with the machine's
load average: other work on the machine slows every row alike but skews the absolute figures.
Target on a 2-core machine: ``batch`` at least 3x the calls per hour of ``cli``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.data.items import BenchItem, ItemSpec, Skipped, build_item
from benchmarks.data.suites import CALLS
from benchmarks.runner import RESULTS_DIR

__all__ = ["Row", "build_mix", "main"]

TARGET_SPEEDUP = 3.0


@dataclass
class Row:
    """One way of running the mix, and what it gave."""

    name: str
    workers: int
    calls: int = 0
    failed: int = 0
    wall_s: float = 0.0
    audio_s: float = 0.0
    peak_worker_mib: float = 0.0
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def calls_per_hour(self) -> float:
        return self.calls / self.wall_s * 3600 if self.wall_s else 0.0

    @property
    def audio_hours_per_hour(self) -> float:
        return self.audio_s / self.wall_s if self.wall_s else 0.0


def build_mix(count: int, quick: bool, seed: int = 0) -> list[BenchItem]:
    """The calls of the mix: 70% stereo, 30% mono telephone, seeded lengths."""
    rng = random.Random(seed)
    low, high = (60.0, 180.0) if quick else (120.0, 1800.0)
    mono_voices = ["real2", "real3"]
    items = []
    for number in range(count):
        mono = number % 10 in (2, 5, 8)  # 3 in 10
        seconds = round(rng.uniform(low, high))
        voices = mono_voices[number % len(mono_voices)] if mono else "real2"
        condition = "telephony" if mono else "stereo"
        spec = ItemSpec(
            f"batch-{voices}-{condition}-{seconds}s-{number}",
            condition,
            CALLS[voices],
            float(seconds),
            seed=seed + number,
            codec="ulaw" if mono else None,
        )
        try:
            items.append(build_item(spec))
        except Skipped:  # AMI voices absent: the sample's voices instead
            spec = ItemSpec(spec.item_id + "-r2", condition, CALLS["real2"], float(seconds),
                            seed=seed + number, codec=spec.codec)  # fmt: skip
            items.append(build_item(spec))
    return items


class _PeakWatcher:
    """Polls the RSS of this process's children; keeps each one's peak."""

    def __init__(self) -> None:
        import psutil

        self._me = psutil.Process()
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            for child in self._me.children(recursive=True):
                try:
                    rss = child.memory_info().rss
                except psutil.Error:
                    continue
                self.peaks[child.pid] = max(self.peaks.get(child.pid, 0), rss)
            self._stop.wait(0.2)

    def __enter__(self) -> _PeakWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mib(self) -> float:
        return max(self.peaks.values(), default=0) / 2**20


def _manifest(items: list[BenchItem], folder: Path) -> Path:
    path = folder / "calls.jsonl"
    with path.open("w") as stream:
        for item in items:
            stream.write(json.dumps({"audio": item.audio, "call": item.call}) + "\n")
    return path


def _cli_row(items: list[BenchItem], folder: Path) -> Row:
    row = Row("cli (one process per call)", 1)
    started = time.monotonic()
    with _PeakWatcher() as watcher:
        for number, item in enumerate(items):
            done = subprocess.run(
                [sys.executable, "-m", "gong_client", "timeline", item.audio, "--call",
                 item.call, "-o", str(folder / f"{number}.json"), "--quiet"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            if done.returncode == 0:
                row.calls += 1
                row.audio_s += item.duration_s
            else:
                row.failed += 1
    row.wall_s = time.monotonic() - started
    row.peak_worker_mib = watcher.peak_mib
    return row


def _batch_row(items: list[BenchItem], folder: Path, workers: int, ray: str | None) -> Row:
    from gong_client.batch import BatchError, run_batch

    name = f"batch --workers {workers}" + (f" --ray {ray}" if ray else "")
    row = Row(name, workers)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = _manifest(items, folder)
    started = time.monotonic()
    try:
        with _PeakWatcher() as watcher:
            result = run_batch(manifest, folder / "out", workers=workers, ray=ray)
    except BatchError as exc:
        row.note = f"not run: {exc}"
        return row
    row.wall_s = time.monotonic() - started
    row.calls = result.totals["done"]
    row.failed = result.totals["failed"]
    row.audio_s = result.totals["audioHours"] * 3600
    row.peak_worker_mib = watcher.peak_mib
    return row


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def _table(rows: list[Row]) -> str:
    base = next((r for r in rows if r.name.startswith("cli") and r.calls), None)
    one = next((r for r in rows if r.workers == 1 and r.name.startswith("batch") and r.calls), None)
    lines = [
        f"{'how':<34} {'calls/h':>8} {'audio h/h':>9} {'vs cli':>7} {'scaling':>8} "
        f"{'worker peak MiB':>15}"
    ]
    for row in rows:
        if row.note:
            lines.append(f"{row.name:<34} {row.note}")
            continue
        speedup = row.calls_per_hour / base.calls_per_hour if base else 0.0
        scaling = (
            f"{row.calls_per_hour / (row.workers * one.calls_per_hour):.0%}"
            if one and row.name.startswith("batch")
            else ""
        )
        lines.append(
            f"{row.name:<34} {row.calls_per_hour:>8.0f} {row.audio_hours_per_hour:>9.1f} "
            f"{speedup:>6.1f}x {scaling:>8} {row.peak_worker_mib:>15.0f}"
            + (f"  ({row.failed} failed)" if row.failed else "")
        )
    return "\n".join(lines)


def main(args) -> int:
    """Run the benchmark (``args`` from the ``batch`` sub-command); the exit code."""
    count = args.calls or (4 if args.quick else 10)
    worker_counts = [int(w) for w in (args.workers or "1,2").split(",")]
    print(f"building {count} calls ...", file=sys.stderr)
    items = build_mix(count, args.quick, args.seed or 0)
    audio_min = sum(i.duration_s for i in items) / 60
    stereo = sum(i.channels == 2 for i in items)
    print(
        f"{count} calls ({stereo} stereo, {count - stereo} mono), {audio_min:.0f} min of audio",
        file=sys.stderr,
    )
    load_before = _load()
    rows: list[Row] = []
    folder = Path(tempfile.mkdtemp(prefix="batch-bench-"))
    try:
        print("cli: one process per call ...", file=sys.stderr)
        (folder / "cli").mkdir()
        rows.append(_cli_row(items, folder / "cli"))
        for workers in worker_counts:
            print(f"batch --workers {workers} ...", file=sys.stderr)
            rows.append(_batch_row(items, folder / f"w{workers}", workers, None))
        if args.ray:
            print(f"batch --workers {max(worker_counts)} --ray local ...", file=sys.stderr)
            rows.append(_batch_row(items, folder / "ray", max(worker_counts), "local"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    load_after = _load()
    table = _table(rows)
    print(table)
    print(f"load average before: {load_before}; after: {load_after}")
    document = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "calls": [
            {"item": i.item_id, "seconds": i.duration_s, "channels": i.channels} for i in items
        ],
        "rows": [
            {
                **asdict(r),
                "calls_per_hour": r.calls_per_hour,
                "audio_hours_per_hour": r.audio_hours_per_hour,
            }
            for r in rows
        ],  # fmt: skip
        "load_before": load_before,
        "load_after": load_after,
        "table": table,
    }
    target = (
        Path(args.json)
        if args.json
        else RESULTS_DIR
        / "batch"
        / (datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + ".json")
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=1) + "\n")
    print(f"results: {target}")
    return 1 if any(r.failed for r in rows) else 0
