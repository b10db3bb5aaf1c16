"""Who is the rep in a mono call: mapping accuracy with voiceprints learned from dual-channel
calls, against manual enrolment from one sample.

```
python -m benchmarks rep-mapping [--quick] [--reps FEE083,MEE009] [--learned 1,3,10]
                                 [--calls-per-rep 8] [--conditions clean,telephone] [--json PATH]
```

For each rep of `benchmarks.data.rep_calls.REPS` and each condition (clean 16 kHz, telephone):

1. the rep's dual-channel calls (rep channel named by ``mediaChannelId``, the rep's party with
   a ``userId`` and e-mail) run through `diarize.process_call` with ``learn_voiceprints``; the
   store is copied after 1, 3 and 10 of them;
2. the rep is enrolled by hand (`diarize.voiceprints.enroll`) from one clean sample: the rep's
   learning turns, about 15 s, in one file (what a person records at a desk, whatever the
   line the calls come over);
3. each mono test call (held-out rep speech with a customer voice the rep's learning calls did
   not have) runs through `diarize.process_call` once per print source, with that source's
   store.

A mono call counts as *right* when the rep's ``partyId`` went, by the voiceprint rule, to a
speaker whose speech is mostly (over half its length) the rep's reference turns; *wrong* when
the rep's ``partyId`` went to a speaker who is mostly not the rep; *none* when no speaker got
it. Targets (issue 12): at least 95% right after 3 learned calls, clean and telephone alike;
at most 2% wrong. The figures go to ``benchmarks/results/rep_mapping.json`` and a table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from benchmarks.data.rep_calls import (
    CONDITIONS,
    REPS,
    BuiltCall,
    RepSpec,
    available_reps,
    dual_channel_call,
    mono_call,
    rep_pieces,
)
from benchmarks.data.voices import SAMPLE_RATE
from benchmarks.progress import progress_bar

__all__ = [
    "Settings",
    "figures",
    "format_table",
    "main",
    "run_rep_mapping",
    "score_call",
    "targets_met",
]

TARGET_RIGHT = 95.0
TARGET_WRONG = 2.0
TARGET_LEARNED = 3
ENROL_SAMPLE_S = 15.0  # of turns (AMI turns hold pauses: about 10 s of speech)
RESULT_FILE = Path(__file__).resolve().parent / "results" / "rep_mapping.json"


@dataclass(frozen=True)
class Settings:
    """How big a run is (defaults: the full form)."""

    reps: tuple[str, ...] | None = None
    learned: tuple[int, ...] = (1, 3, 10)
    calls_per_rep: int = 8
    conditions: tuple[str, ...] = CONDITIONS
    enrol: bool = True
    seed: int = 0

    @classmethod
    def quick(cls) -> Settings:
        """One rep, one learned call, two mono calls per condition."""
        return cls(reps=("FEE083",), learned=(1,), calls_per_rep=2, enrol=False)


_COUNTS = ("right", "wrong", "none", "merged", "customer", "oneSpeaker")


def figures(calls: list[dict]) -> list[dict]:
    """Per condition and print source (in the order first met): how many mono calls, and the
    share of each outcome. A *wrong* call is also counted as ``merged`` when the speaker given
    the rep's ``partyId`` holds most of the rep's speech but more of the customer's
    (diarization put the two voices together), else as ``customer`` (the print picked the
    customer's voice). ``oneSpeaker`` counts the calls where diarization found one voice only
    (the customer's speech then goes to whoever that voice is mapped to)."""
    rows: dict[tuple[str, str], dict] = {}
    for call in calls:
        row = rows.setdefault(
            (call["condition"], call["source"]),
            {"condition": call["condition"], "source": call["source"], "calls": 0, "scores": []}
            | dict.fromkeys(_COUNTS, 0),
        )
        row["calls"] += 1
        row[call["outcome"]] += 1
        row["oneSpeaker"] += call["speakers"] == 1
        if call["outcome"] == "wrong":
            row["merged" if call["coverage"] >= 0.5 else "customer"] += 1
        if call["repRule"] == "voiceprint" and call["score"] is not None:
            row["scores"].append(call["score"])
    for row in rows.values():
        for key in _COUNTS:
            row[f"{key}Pct"] = round(100.0 * row[key] / row["calls"], 1)
        scores = row.pop("scores")
        row["meanRepScore"] = round(float(np.mean(scores)), 3) if scores else None
    return list(rows.values())


def _overlap(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    return sum(max(0.0, min(e1, e2) - max(s1, s2)) for s1, e1 in a for s2, e2 in b)


def score_call(result, rep_id: str, rep_spans: list[tuple[float, float]]) -> dict:
    """How one mono call's rep was mapped: ``outcome`` right / wrong / none, with the rule,
    the voiceprint score, how much of the rep party's speech is the rep (``purity``) and how
    much of the rep's speech it holds (``coverage``)."""
    mine = [(s.start_s, s.end_s) for s in result.segments if s.speaker == rep_id]
    given = [a for a in result.assignments if a.party_id == rep_id]
    mapped_s = sum(e - s for s, e in mine)
    rep_s = sum(e - s for s, e in rep_spans)
    on_rep = _overlap(mine, rep_spans)
    purity = on_rep / mapped_s if mapped_s else 0.0
    if not given or not mapped_s:
        outcome = "none"
    elif purity <= 0.5:
        outcome = "wrong"
    elif all(a.rule == "voiceprint" for a in given):
        outcome = "right"
    else:
        outcome = "none"  # the rep's speaker, but not by the rep's voiceprint
    scores = [a.score for a in given if a.score is not None]
    return {
        "outcome": outcome,
        "rules": sorted({a.rule for a in result.assignments}),
        "repRule": given[0].rule if given else None,
        "score": round(max(scores), 3) if scores else None,
        "purity": round(purity, 3),
        "coverage": round(on_rep / rep_s, 3) if rep_s else 0.0,
        "speakers": len(result.assignments),
        "withheld": result.timeline_withheld is not None,
    }


def _user_id(rep: RepSpec) -> str:
    return str(7_000_000_000 + sum(ord(c) * 31**i for i, c in enumerate(rep.name)) % 10**9)


def _call_json(rep: RepSpec, call_id: str, rep_channel: int | None) -> dict:
    """A 2-party call: the rep (a Gong user) and one customer."""
    rep_party = {
        "userId": _user_id(rep),
        "name": f"Rep {rep.name}",
        "emailAddress": f"rep-{_user_id(rep)}@example.com",
    }
    if rep_channel is not None:
        rep_party["mediaChannelId"] = rep_channel
    return {
        "clientUniqueId": call_id,
        "actualStart": "2026-01-15T10:00:00Z",
        "direction": "Outbound",
        "title": "Rep mapping",
        "primaryUser": rep_party["userId"],
        "parties": [rep_party, {"name": "Casey Customer", "phoneNumber": "+1 555 0100"}],
    }


def _learn(
    rep: RepSpec,
    condition: str,
    settings: Settings,
    work: Path,
    advance,
) -> tuple[dict[str, Path], list[dict]]:
    """Learn the rep's print from its dual-channel calls; a copy of the store after each count
    of `settings.learned`. Returns ({source: store}, one record per learning call)."""
    from diarize import Options, process_call

    store = work / f"{rep.name}-{condition}-learning"
    snapshots: dict[str, Path] = {}
    records = []
    for n in range(1, max(settings.learned) + 1):
        built = dual_channel_call(rep, n - 1, condition, work / "audio", settings.seed)
        call = _call_json(rep, built.name, built.drawn["rep_channel"])
        options = Options(voiceprints=store, learn_voiceprints=True, device="cpu")
        result = process_call(built.audio, call, sample_rate=built.sample_rate, options=options)
        outcome = result.learning
        records.append(
            {
                "rep": rep.name,
                "condition": condition,
                "call": built.name,
                "customer": built.customer,
                "layout": result.layout.value,
                "learned": bool(outcome and outcome.learned),
                "reason": outcome.reason if outcome else "not learned (not dual-channel)",
                "speechSeconds": round(outcome.speech_s, 1) if outcome else 0.0,
                "printCalls": outcome.calls if outcome else 0,
                **built.drawn,
            }
        )
        advance()
        if n in settings.learned:  # an empty store when no call taught anything yet
            snapshot = work / f"{store.name}-{n}"
            if store.exists():
                shutil.copytree(store, snapshot)
            else:
                snapshot.mkdir()
            snapshots[f"learned-{n}"] = snapshot
    return snapshots, records


def _enrol(rep: RepSpec, work: Path) -> Path:
    """The rep enrolled by hand from one clean 16 kHz sample of about 15 s of learning turns."""
    from diarize.diarizer import get_diarizer
    from diarize.options import Options
    from diarize.voiceprints import enroll

    learn, _ = rep_pieces(rep)
    sample: list[np.ndarray] = []
    gap = np.zeros(int(0.3 * SAMPLE_RATE), dtype=np.float32)
    while sum(len(p) for p in sample) < ENROL_SAMPLE_S * SAMPLE_RATE and learn:
        sample += [learn.pop(0), gap]
    path = work / f"{rep.name}-enrolment.wav"
    sf.write(path, np.concatenate(sample), SAMPLE_RATE, "PCM_16")
    store = work / f"{rep.name}-enrolled"
    diarizer = get_diarizer(Options(device="cpu"))
    enroll(_user_id(rep), [path], store, diarizer=diarizer)
    return store


def _map(built: BuiltCall, rep: RepSpec, store: Path) -> dict:
    from diarize import Options, process_call

    call = _call_json(rep, built.name, None)
    options = Options(voiceprints=store, device="cpu")
    started = time.perf_counter()
    result = process_call(built.audio, call, options=options)
    scored = score_call(result, _rep_id(result), built.rep_spans)
    scored["seconds"] = round(time.perf_counter() - started, 2)
    return scored


def _rep_id(result) -> str:
    """The rep's partyId in a processed call (its first party)."""
    return str(result.call["parties"][0]["partyId"])


def run_rep_mapping(settings: Settings, work: Path, quiet: bool = False) -> dict:
    """Run the benchmark in the scratch folder `work`; the result document (see `main`)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run(settings, work, quiet)
    finally:
        torch.set_num_threads(threads)


def _run(settings: Settings, work: Path, quiet: bool) -> dict:
    from diarize.diarizer import get_diarizer
    from diarize.options import Options

    reps = available_reps(list(settings.reps) if settings.reps else None)
    if not reps:
        raise ValueError(
            "no rep has speech to learn from: the AMI dev excerpts (../shared/evaldata/dev) "
            "are needed"
        )
    started = time.perf_counter()
    get_diarizer(Options(device="cpu"))  # loaded once, reused by every call
    sources = (["enrolled"] if settings.enrol else []) + [f"learned-{n}" for n in settings.learned]
    learning: list[dict] = []
    calls: list[dict] = []
    steps = len(reps) * len(settings.conditions) * (
        max(settings.learned) + settings.calls_per_rep * len(sources)
    ) + (len(reps) if settings.enrol else 0)
    with progress_bar(quiet) as bar:
        task = bar.add_task("rep mapping", total=steps)
        done = 0

        def advance() -> None:
            nonlocal done
            done += 1
            bar.update(task, completed=done)

        for rep in reps:
            enrolled = _enrol(rep, work) if settings.enrol else None
            if enrolled is not None:
                advance()
            for condition in settings.conditions:
                stores, records = _learn(rep, condition, settings, work, advance)
                learning += records
                if enrolled is not None:
                    stores = {"enrolled": enrolled, **stores}
                for index in range(settings.calls_per_rep):
                    built = mono_call(rep, index, condition, work / "audio", settings.seed)
                    for source, store in stores.items():
                        scored = _map(built, rep, store)
                        calls.append(
                            {
                                "rep": rep.name,
                                "condition": condition,
                                "source": source,
                                "call": built.name,
                                "customer": built.customer,
                                **built.drawn,
                                **scored,
                            }
                        )
                        advance()
    rows = figures(calls)
    return {
        "benchmark": "rep-mapping",
        "settings": asdict(settings),
        "reps": [r.name for r in reps],
        "data": [_data(r) for r in reps],
        "targets": {
            "rightPctAfter3Learned": TARGET_RIGHT,
            "wrongPctAtMost": TARGET_WRONG,
        },
        "targetsMet": targets_met(rows),
        "figures": rows,
        "learning": learning,
        "calls": calls,
        "wallSeconds": round(time.perf_counter() - started, 1),
    }


def _data(rep: RepSpec) -> dict:
    """Where a rep's speech came from, and how much of it (solo seconds)."""
    learn, held_out = rep_pieces(rep)
    return {
        "rep": rep.name,
        "learnFrom": [list(w) for w in rep.learn],
        "learnSeconds": round(sum(len(p) for p in learn) / SAMPLE_RATE, 1),
        "heldOutFrom": [list(w) for w in rep.held_out],
        "heldOutSeconds": round(sum(len(p) for p in held_out) / SAMPLE_RATE, 1),
        "learnCustomers": list(rep.learn_customers),
        "testCustomers": list(rep.test_customers),
    }


def targets_met(rows: list[dict]) -> dict[str, bool | None]:
    """The verdict on the targets, per condition: right >= 95% after 3 learned calls and
    wrong <= 2% for every learned count (None where 3 learned calls were not run)."""
    met: dict[str, bool | None] = {}
    for condition in sorted({r["condition"] for r in rows}):
        mine = [r for r in rows if r["condition"] == condition and r["source"] != "enrolled"]
        after = [r for r in mine if r["source"] == f"learned-{TARGET_LEARNED}"]
        if not after:
            met[condition] = None
            continue
        met[condition] = after[0]["rightPct"] >= TARGET_RIGHT and all(
            r["wrongPct"] <= TARGET_WRONG for r in mine
        )
    return met


def format_table(document: dict) -> str:
    """The figures as a text table, with the learning calls' outcome and the targets."""
    lines = [
        f"{'condition':10s} {'print':11s} {'calls':>5s} {'right':>7s} {'wrong':>7s} "
        f"{'(merged':>8s} {'customer)':>9s} {'none':>7s} {'score':>6s} {'1 voice':>8s}"
    ]
    for r in document["figures"]:
        score = "-" if r["meanRepScore"] is None else f"{r['meanRepScore']:.2f}"
        lines.append(
            f"{r['condition']:10s} {r['source']:11s} {r['calls']:5d} {r['rightPct']:6.1f}% "
            f"{r['wrongPct']:6.1f}% {r['mergedPct']:7.1f}% {r['customerPct']:8.1f}% "
            f"{r['nonePct']:6.1f}% {score:>6s} {r['oneSpeakerPct']:7.1f}%"
        )
    taught = sum(1 for r in document["learning"] if r["learned"])
    lines.append(f"learning calls that taught the print: {taught} of {len(document['learning'])}")
    for condition, met in document["targetsMet"].items():
        verdict = "not run" if met is None else ("met" if met else "NOT met")
        lines.append(
            f"target {condition}: >= {TARGET_RIGHT:g}% right after {TARGET_LEARNED} learned "
            f"calls, <= {TARGET_WRONG:g}% wrong: {verdict}"
        )
    return "\n".join(lines)


def _settings(args: argparse.Namespace) -> Settings:
    base = Settings.quick() if args.quick else Settings()
    changes: dict = {}
    if args.reps:
        changes["reps"] = tuple(s.strip() for s in args.reps.split(","))
    if args.learned:
        changes["learned"] = tuple(sorted({int(n) for n in args.learned.split(",")}))
    if args.calls_per_rep:
        changes["calls_per_rep"] = args.calls_per_rep
    if args.conditions:
        conditions = tuple(c.strip() for c in args.conditions.split(","))
        unknown = [c for c in conditions if c not in CONDITIONS]
        if unknown:
            raise ValueError(f"unknown condition(s) {', '.join(unknown)}; known: clean, telephone")
        changes["conditions"] = conditions
    if args.seed is not None:
        changes["seed"] = args.seed
    return Settings(**{**asdict(base), **changes})


def main(args: argparse.Namespace) -> int:
    """The ``rep-mapping`` benchmark command: run, print the table, write the JSON."""
    try:
        settings = _settings(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not available_reps(list(settings.reps) if settings.reps else None):
        known = ", ".join(r.name for r in REPS)
        print(
            f"error: no rep to run (reps: {known}; their speech is in the AMI dev excerpts, "
            "../shared/evaldata/dev)",
            file=sys.stderr,
        )
        return 1
    with tempfile.TemporaryDirectory(prefix="rep-mapping-") as work:
        document = run_rep_mapping(settings, Path(work), quiet=args.quiet)
    print(format_table(document))
    if args.quick and not args.json:
        return 0  # the quick form does not replace the full figures
    path = Path(args.json) if args.json else RESULT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(f"results: {path}")
    return 0
