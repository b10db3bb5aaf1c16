"""``python -m benchmarks``: run a suite, write the report, time long stereo and mono calls.

```
python -m benchmarks run --suite quick|full [--systems ours,senko] [--conditions stereo]
                        [--device auto|cpu|cuda] [--report]
python -m benchmarks report [RUN_DIR ...]
python -m benchmarks stereo-speed [--hours 1]
python -m benchmarks mono-long [--hours 4] [--systems ours,pyannote-default]
python -m benchmarks mono-dense [--hours 0.5]
python -m benchmarks build --suite quick|full
python -m benchmarks reliability [--quick] [--calls N] [--processes N] [--kills N]
python -m benchmarks batch [--calls 10] [--quick] [--workers 1,2] [--ray]
python -m benchmarks rep-mapping [--quick] [--reps A,B] [--learned 1,3,10] [--conditions clean]
```
``run`` exits 1 when our own system crashed on a file (or could not load), never because of
a number nor because a peer crashed or cannot run on this CPU (that peer's files are reported
"not run: <why>", e.g. "illegal instruction"); the figures are in
``benchmarks/results/<run>/results.json`` and in the report.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads per system (default 1; 0: each system's own choice)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a suite and save its results")
    run.add_argument("--suite", choices=("quick", "full", "noise"), default="quick")
    run.add_argument("--systems", help="comma-separated subset (default: ours and all peers)")
    run.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--conditions", help="comma-separated subset of the suite's conditions")
    _add_threads(run)
    run.add_argument("--report", action="store_true", help="write the report afterwards")
    run.add_argument("-q", "--quiet", action="store_true")
    report = commands.add_parser("report", help="write benchmarks/results/REPORT.md and plots")
    report.add_argument(
        "runs", nargs="*", type=Path, help="run folders (default: the latest run of each suite)"
    )
    for name, help_text in (
        ("stereo-speed", "time the stereo path on a long stereo call (default 1 hour)"),
        ("mono-long", "time mono diarization and its peak memory on a long call (default 4 hours)"),
        ("mono-dense", "time the mono path, by stage, on 30 minutes of dense real speech"),
    ):
        long = commands.add_parser(name, help=help_text)
        long.add_argument("--hours", type=float, help="length of the generated call")
        long.add_argument("--systems", help="comma-separated systems (default: the benchmark's)")
        long.add_argument("--device", default="cpu")
        _add_threads(long)
        long.add_argument("-q", "--quiet", action="store_true")
    campaign = commands.add_parser(
        "reliability", help="the upload fault campaign against the emulator, with its figures"
    )
    campaign.add_argument("--quick", action="store_true", help="the small form the tests run")
    for name in ("calls", "processes", "kills", "seed", "limit-per-s"):
        campaign.add_argument(f"--{name}", type=int)
    campaign.add_argument("--json", help="also write the figures to this file")
    campaign.add_argument("-q", "--quiet", action="store_true")
    batch = commands.add_parser(
        "batch", help="calls per hour of gong-diarize batch against one CLI run per call"
    )
    batch.add_argument("--calls", type=int, help="calls in the mix (default 10; --quick: 4)")
    batch.add_argument("--quick", action="store_true", help="short calls (1-3 min)")
    batch.add_argument("--workers", help="comma-separated worker counts (default 1,2)")
    batch.add_argument("--ray", action="store_true", help="also run on a local Ray instance")
    batch.add_argument("--seed", type=int, default=0)
    batch.add_argument("--json", help="write the figures here (default: benchmarks/results/)")
    reps = commands.add_parser(
        "rep-mapping", help="who is the rep in mono calls: learned against enrolled voiceprints"
    )
    reps.add_argument("--quick", action="store_true", help="1 rep, 1 learned call, 2 mono calls")
    reps.add_argument("--reps", help="comma-separated rep labels (default: all)")
    reps.add_argument("--learned", help="comma-separated learned-call counts (default 1,3,10)")
    reps.add_argument("--calls-per-rep", type=int, help="mono calls per rep and condition")
    reps.add_argument("--conditions", help="comma-separated: clean, telephone (default both)")
    reps.add_argument("--seed", type=int)
    reps.add_argument("--json", help="write the figures here (default: benchmarks/results/)")
    reps.add_argument("-q", "--quiet", action="store_true")
    build = commands.add_parser("build", help="only build (and cache) a suite's data")
    build.add_argument("--suite", choices=("quick", "full", "noise"), default="quick")
    build.add_argument("--seed", type=int, default=0)
    return parser


def _systems(option: str | None) -> list[str] | None:
    """The ``--systems`` list ([] when not given); ``None`` (after an error line) when it names
    an unknown system."""
    from benchmarks.systems import SYSTEMS

    systems = [s.strip() for s in option.split(",")] if option else []
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        print(
            f"error: unknown system(s) {', '.join(unknown)}; known: {', '.join(SYSTEMS)}",
            file=sys.stderr,
        )
        return None
    return systems


def _run(args) -> int:
    from benchmarks.report import print_summary, write_report
    from benchmarks.runner import run_suite

    systems = _systems(args.systems)
    if systems is None:
        return 2
    conditions = [c.strip() for c in args.conditions.split(",")] if args.conditions else None
    try:
        run_dir, document = run_suite(
            args.suite,
            systems or None,
            args.device,
            args.seed,
            quiet=args.quiet,
            conditions=conditions,
            threads=args.threads or None,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_summary(document)
    print(f"results: {run_dir / 'results.json'}")
    if args.report:
        print(f"report: {write_report()}")
    not_run: dict[str, str] = {}
    for row in document["results"]:
        if row.get("status") == "skipped":
            not_run.setdefault(row["system"], row.get("error", "not run"))
    for system, why in not_run.items():
        print(f"{system}: {why}", file=sys.stderr)
    crashed = [r for r in document["results"] if r.get("status") == "error"]
    for row in crashed:
        print(f"CRASH {row['system']} on {row['item_id']}: {row.get('error')}", file=sys.stderr)
    return 1 if crashed else 0


def _long_call(args) -> int:
    from benchmarks.long_call import long_call

    systems = _systems(args.systems)
    if systems is None:
        return 2
    return long_call(
        args.command, args.hours, args.device, args.quiet, args.threads or None, systems or None
    )


def _report(args) -> int:
    from benchmarks.report import write_report

    try:
        path = write_report(args.runs or None)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"report: {path}")
    return 0


def _build(args) -> int:
    from benchmarks.data.suites import suite_specs
    from benchmarks.progress import progress_bar
    from benchmarks.runner import build_items

    with progress_bar() as bar:
        items, skipped = build_items(suite_specs(args.suite, args.seed), bar)
    for item in items:
        print(f"{item.item_id:32s} {item.condition:15s} {item.duration_s:8.1f} s  {item.audio}")
    for skip in skipped:
        print(f"{skip['item_id']:32s} skipped: {skip['reason']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the command; the process exit code."""
    args = _parser().parse_args(argv)
    if args.command == "run":
        return _run(args)
    if args.command == "report":
        return _report(args)
    if args.command in ("stereo-speed", "mono-long", "mono-dense"):
        return _long_call(args)
    if args.command == "batch":
        from benchmarks.batch import main as batch

        return batch(args)
    if args.command == "rep-mapping":
        from benchmarks.rep_mapping import main as rep_mapping

        return rep_mapping(args)
    if args.command == "reliability":
        from benchmarks.reliability import main as reliability

        return reliability(args)
    return _build(args)


if __name__ == "__main__":
    sys.exit(main())
