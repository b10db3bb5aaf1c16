"""Markdown pieces of the benchmark report: tables and short descriptions."""

from __future__ import annotations

from benchmarks.aggregate import aggregate, best_peer, by_condition, ratio
from benchmarks.long_call import (
    DENSE_MIN_XRT,
    MONO_MAX_PEAK_MIB,
    MONO_MIN_XRT_CPU,
    STEREO_MIN_XRT,
)
from benchmarks.systems import OURS, PEERS

__all__ = [
    "condition_table",
    "headline_table",
    "machine_line",
    "per_file_table",
    "system_list",
    "targets_table",
]

_COLUMNS = (
    ("der", "DER", "pct"),
    ("der_collar", "DER ±0.25 s", "pct"),
    ("jer", "JER", "pct"),
    ("speaker_count_error", "spk count err", "num"),
    ("boundary_precision", "edge P @100 ms", "pct"),
    ("boundary_recall", "edge R @100 ms", "pct"),
    ("precise_share", "precise segs", "pct"),
    ("party_accuracy", "party map acc", "pct"),
    ("xrt", "× real time", "speed"),
    ("peak_rss_mb", "peak RSS MiB", "int"),
)
_PHONE = ("real-telephone", "telephony")
_MONO_LIKE = (
    "real-telephone",
    "real-meeting",
    "clean16k",
    "telephony",
    "dupmono",
    "long-telephony",
)


def _fmt(value, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "speed":
        return f"{value:.0f}×" if value >= 10 else f"{value:.1f}×"
    if kind == "int":
        return f"{value:.0f}"
    return f"{value:.2f}"


def _ratio(value: float) -> str:
    """Two decimals, or two significant digits below 0.1 (0.004 is not 0.00)."""
    return f"{value:.2f}" if value >= 0.1 or value == 0 else f"{value:.2g}"


def machine_line(machine: dict) -> str:
    """``CPU model, N cores, R GiB RAM[, GPU]`` in one line."""
    gpu = f", GPU {machine['gpu']}" if machine.get("gpu") else ", no GPU"
    return (
        f"{machine.get('cpu')}, {machine.get('cores')} cores, {machine.get('ram_gib')} GiB RAM{gpu}"
    )


def condition_table(systems: dict[str, dict], condition: str | None = None) -> list[str]:
    """One condition: a row per system, then ours ÷ best peer for each figure."""
    gpu = any(f.get("gpu_peak_mb") is not None for f in systems.values())
    columns = list(_COLUMNS) + ([("gpu_peak_mb", "GPU peak MiB", "int")] if gpu else [])
    lines = [
        "| system | files | " + " | ".join(c[1] for c in columns) + " |",
        "|---|---:|" + "---:|" * len(columns),
    ]
    order = [s for s in (*OURS, *PEERS) if s in systems] + [
        s for s in systems if s not in (*OURS, *PEERS)
    ]
    for name in order:
        f = systems[name]
        crashed = f" ({f['errors']} crashed)" if f.get("errors") else ""
        crashed += f" ({f['not_run']} not run)" if f.get("not_run") else ""
        cells = [_fmt(f.get(key), kind) for key, _, kind in columns]
        label = f"**{name}**" if name in OURS else name
        lines.append(f"| {label} | {f['files']}{crashed} | " + " | ".join(cells) + " |")
    for mine in (s for s in OURS if s in systems):
        cells = []
        for key, _, _ in columns:
            value = ratio(systems, key, mine, condition)
            best = best_peer(systems, key, condition)
            cells.append("–" if value is None else f"{_ratio(value)} ({best[0]})")
        if any(c != "–" for c in cells):
            lines.append(f"| {mine} ÷ best peer | | " + " | ".join(cells) + " |")
    return lines


def headline_table(table: dict[str, dict[str, dict]]) -> list[str]:
    """Per condition: ours' DER and speed next to the best peer's."""
    lines = [
        "| condition | ours DER | best peer DER | ratio | ours speed | best peer speed | "
        "ratio | ours precise segs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for condition, systems in table.items():
        ours = systems.get("ours", {})
        cells = [condition, _fmt(ours.get("der"), "pct")]
        for metric, kind in (("der", "pct"), ("xrt", "speed")):
            best = best_peer(systems, metric, condition)
            cells.append("–" if best is None else f"{_fmt(best[1], kind)} ({best[0]})")
            value = ratio(systems, metric, "ours", condition)
            cells.append("–" if value is None else _ratio(value))
            if metric == "der":
                cells.append(_fmt(ours.get("xrt"), "speed"))
        cells.append(_fmt(ours.get("precise_share"), "pct"))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def per_file_table(document: dict) -> list[str]:
    """Every file and system, folded away."""
    lines = [
        "<details><summary>Per-file results</summary>",
        "",
        "| file | condition | system | DER | DER ±0.25 s | precise segs | × real time | "
        "peak RSS MiB | load avg | note |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in sorted(document["results"], key=lambda r: (r["condition"], r["item_id"])):
        m = row.get("metrics") or {}
        note = row.get("error", "") if row.get("status") in ("error", "skipped") else ""
        layout = (row.get("details") or {}).get("layout")
        note = note or (f"layout {layout}" if layout else "")
        lines.append(
            f"| {row['item_id']} | {row['condition']} | {row['system']} | "
            f"{_fmt(m.get('der'), 'pct')} | {_fmt(m.get('der_collar'), 'pct')} | "
            f"{_fmt(m.get('precise_share'), 'pct')} | {_fmt(row.get('xrt'), 'speed')} | "
            f"{_fmt(row.get('peak_rss_mb'), 'int')} | {_fmt(row.get('load_avg_1m'), 'num')} | "
            f"{note.replace('|', '/')} |"
        )
    return lines + ["", "</details>"]


def system_list(documents: list[dict]) -> list[str]:
    """What each system is, with its load time and memory."""
    lines = ["## Systems", ""]
    seen = set()
    for document in documents:
        for name, info in document.get("systems", {}).items():
            if name in seen:
                continue
            seen.add(name)
            load = info.get("load_s")
            extra = f"; loads and warms up in {load:.1f} s" if load is not None else ""
            lines.append(
                f"- **{name}**{' (ours)' if name in OURS else ''}: "
                f"{info.get('description', '')}{extra}."
            )
    return lines + [""]


def _rows(suites: list[dict], conditions, n_speakers: int | None = None) -> list[dict]:
    return [
        r
        for d in suites
        for r in d["results"]
        if r["system"] == "ours"
        and r["condition"] in conditions
        and (n_speakers is None or r.get("n_speakers") == n_speakers)
    ]


def _crashed(rows: list[dict]) -> str:
    n = sum(r.get("status") == "error" for r in rows)
    return f" ({n} crashed file{'s' if n > 1 else ''} left out)" if n else ""


def _mean_load(rows: list[dict]) -> float | None:
    loads = [r["load_avg_1m"] for r in rows if r.get("load_avg_1m") is not None]
    return sum(loads) / len(loads) if loads else None


def _long_mono_checks(rows: list[dict]) -> list[tuple]:
    """Speed and peak memory of ours on the long mono call."""
    mine = [r for r in rows if r["system"] == "ours"]
    figures = aggregate(mine)
    hours = (figures.get("audio_s") or 0) / 3600
    return [
        (
            f"mono speed (CPU), {hours:.0f}-hour call",
            f"≥ {MONO_MIN_XRT_CPU}×",
            figures.get("xrt"),
            "speed",
            lambda v: v >= MONO_MIN_XRT_CPU,
            _mean_load(mine),
        ),
        (
            f"mono peak memory, {hours:.0f}-hour call",
            f"< {MONO_MAX_PEAK_MIB} MiB",
            figures.get("peak_rss_mb"),
            "int",
            lambda v: v < MONO_MAX_PEAK_MIB,
            None,
        ),
    ]


def _dense_checks(document: dict) -> list[tuple]:
    """Speed with start-up (the command line from a cold start) and DER of ours on the dense
    real-speech call, DER beside the best peer's."""
    cli = document.get("cli") or {}
    mine = [r for r in document["results"] if r["system"] == "ours"]
    xrt = cli.get("xrt") if cli.get("status") == "ok" else None
    minutes = (aggregate(mine).get("audio_s") or 0) / 60
    return [
        (
            f"mono speed with start-up, {minutes:.0f} min of dense real speech, 1 thread",
            f"≥ {DENSE_MIN_XRT}×",
            xrt,
            "speed",
            lambda v: v >= DENSE_MIN_XRT,
            cli.get("load_avg_1m"),
        )
    ]


def stage_table(document: dict) -> list[str]:
    """Where ours spent its time on each file that recorded stages (`benchmarks.stages`)."""
    lines: list[str] = []
    for row in document["results"]:
        stages = (row.get("details") or {}).get("stages_s")
        if not stages or not row.get("wall_s"):
            continue
        total = row["wall_s"]
        lines += [
            f"Where `{row['system']}` spent {total:.1f} s on `{row['item_id']}` "
            f"({row['duration_s'] / total:.1f}× real time, load avg "
            f"{row.get('load_avg_1m', 0):.1f}; `fbank` is part of `embeddings`):",
            "",
            "| stage | seconds | share |",
            "|---|---:|---:|",
            *(f"| {k} | {v:.1f} | {100 * v / total:.0f}% |" for k, v in stages.items()),
            "",
        ]
    return lines


def targets_table(suites: list[dict], speed: list[dict]) -> list[str]:
    """The targets set in the issues, with the measured figure and whether it is met; speed
    targets show the machine's mean load average while the files ran."""
    gpu = any(d["machine"].get("gpu") for d in suites)
    dev, phone = _rows(suites, ("real-meeting",)), _rows(suites, _PHONE, 2)
    mono = _rows(suites, _MONO_LIKE)
    floor = 300 if gpu else MONO_MIN_XRT_CPU  # 300: the H100 target
    crashed = {
        "mono DER on the dev data (AMI), no collar": _crashed(dev),
        "mono DER on 2-party telephone calls": _crashed(phone),
        f"mono speed ({'GPU' if gpu else 'CPU'})": _crashed(mono),
    }
    checks = [
        (
            "mono DER on the dev data (AMI), no collar",
            "≤ 20%",
            aggregate(dev).get("der"),
            "pct",
            lambda v: v <= 0.20,
            None,
        ),
        (
            "mono DER on 2-party telephone calls",
            "≤ 8%",
            aggregate(phone).get("der"),
            "pct",
            lambda v: v <= 0.08,
            None,
        ),
        (
            f"mono speed ({'GPU' if gpu else 'CPU'})",
            f"≥ {floor}×",
            aggregate(mono).get("xrt"),
            "speed",
            lambda v: v >= floor,
            _mean_load(mono),
        ),
    ]
    for document in speed:
        rows = document["results"]
        if document.get("suite") == "mono-long":
            checks += _long_mono_checks(rows)
            continue
        if document.get("suite") == "mono-dense":
            checks += _dense_checks(document)
            continue
        for systems in by_condition(rows).values():
            stereo = systems.get("ours-stereo", {})
            mine = [r for r in rows if r["system"] == "ours-stereo"]
            checks.append(
                (
                    "stereo path speed, 1-hour call",
                    f"≥ {STEREO_MIN_XRT}×",
                    stereo.get("xrt"),
                    "speed",
                    lambda v: v >= STEREO_MIN_XRT,
                    _mean_load(mine),
                )
            )
            energy, der = systems.get("energy", {}).get("der"), stereo.get("der")
            ahead = None if energy is None or der is None else der / energy
            checks.append(
                ("stereo DER ÷ energy baseline DER", "< 1", ahead, "num", lambda v: v < 1, None)
            )
    lines = ["| target | goal | measured | met | load avg |", "|---|---:|---:|:---:|---:|"]
    for name, goal, value, kind, test, load in checks:
        met = "–" if value is None else ("yes" if test(value) else "**no**")
        measured = _fmt(value, kind) + crashed.get(name, "")
        lines.append(f"| {name} | {goal} | {measured} | {met} | {_fmt(load, 'num')} |")
    return lines
