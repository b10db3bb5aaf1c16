"""The plain baselines, and one real worker process running a system."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import numpy as np
import pytest

from benchmarks.data.items import BenchItem, ItemSpec, build_item
from benchmarks.data.suites import CALLS
from benchmarks.peers.energy import energy_regions
from benchmarks.peers.silero_cluster import cluster_embeddings, windows
from benchmarks.progress import progress_bar
from benchmarks.runner import exit_reason, run_items
from benchmarks.systems import SYSTEMS, create_system


def test_energy_regions_find_loud_bursts_in_noise():
    rate = 16000
    rng = np.random.default_rng(0)
    audio = 0.001 * rng.standard_normal(rate * 4).astype(np.float32)
    for start_s, end_s in ((0.5, 1.2), (2.0, 3.0)):
        t = np.arange(int(start_s * rate), int(end_s * rate))
        audio[t] += 0.3 * np.sin(2 * np.pi * 220 * t / rate)
    found = energy_regions(audio, rate)
    assert len(found) == 2
    for (s, e), (rs, re) in zip(found, ((0.5, 1.2), (2.0, 3.0)), strict=True):
        assert abs(s - rs) <= 0.03 and abs(e - re) <= 0.03


def test_silero_cluster_windows_and_clusters():
    assert windows([(0.0, 0.3), (1.0, 2.0), (3.0, 6.0)]) == [
        (1.0, 2.0),
        (3.0, 4.5),
        (3.75, 5.25),
        (4.5, 6.0),
    ]
    a, b = np.eye(4)[0], np.eye(4)[1]
    points = np.stack([a, a * 0.99 + b * 0.01, b, b, a + 0.2 * b])
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    labels = cluster_embeddings(points, max_clusters=4)
    assert labels[0] == labels[1] == labels[4] and labels[2] == labels[3] != labels[0]
    assert len(set(cluster_embeddings(points, max_clusters=1))) == 1


def test_every_registered_system_can_be_created():
    for name in SYSTEMS:
        assert create_system(name).name == name
    with pytest.raises(ValueError, match="unknown system"):
        create_system("nope")


def test_worker_process_runs_a_system_and_measures_it(tmp_path):
    stereo = build_item(ItemSpec("w-stereo", "stereo", CALLS["real2"], 20.0), tmp_path)
    phone = build_item(ItemSpec("w-phone", "telephony", CALLS["real2"], 10.0), tmp_path)
    with progress_bar(quiet=True) as bar:
        rows, loads = run_items([stereo, phone], ["energy"], "cpu", tmp_path, bar)
    assert loads["energy"]["status"] == "ok"
    assert [r["item_id"] for r in rows] == ["w-stereo"]  # energy needs two channels
    row = rows[0]
    assert row["status"] == "ok" and row["xrt"] > 1 and row["peak_rss_mb"] > 10
    assert row["metrics"]["der"] is not None and row["metrics"]["party_accuracy"] == 1.0
    events = [json.loads(line) for line in (tmp_path / "energy.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events] == ["load", "item"]


def test_cpu_time_budget_skips_only_long_files_and_never_on_a_gpu(tmp_path):
    long_call = BenchItem.from_dict(
        {
            **build_item(ItemSpec("w-b", "telephony", CALLS["real2"], 5.0), tmp_path).to_dict(),
            "duration_s": 3600.0,
        }
    )
    assert create_system("pyannote-default", "cpu").too_long(long_call)
    assert not create_system("pyannote-default", "cuda").too_long(long_call)
    assert not create_system("ours", "cpu").too_long(long_call)


def test_progress_is_a_live_bar_on_a_terminal_and_silent_otherwise(monkeypatch, capsys):
    from rich.progress import Progress

    with progress_bar() as bar:  # pytest's stderr is not a terminal
        bar.update(bar.add_task("x", total=1), advance=1)
        assert not isinstance(bar, Progress)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    with progress_bar() as bar:
        assert isinstance(bar, Progress)
        bar.update(bar.add_task("files", total=2), advance=2)


CRASHING = "tests.benchmarks.crashing_peers"


@pytest.fixture
def crash_items(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[2]))
    return [build_item(ItemSpec("w-crash", "telephony", CALLS["real2"], 5.0), tmp_path)]


@pytest.mark.parametrize(
    ("peer", "why"),
    [
        ("IllegalInstruction", "not run: illegal instruction (SIGILL)"),
        ("FailsOnFiles", "not run: RuntimeError: cannot read this"),
    ],
)
def test_a_peer_that_crashes_is_not_run_not_our_crash(peer, why, crash_items, tmp_path):
    name = f"{CRASHING}:{peer}"
    with progress_bar(quiet=True) as bar:
        rows, _ = run_items(crash_items, [name], "cpu", tmp_path, bar)
    assert [r["status"] for r in rows] == ["skipped"]
    assert rows[0]["error"].startswith(why), rows[0]["error"]
    assert "AVX-512" in rows[0]["error"] or peer != "IllegalInstruction"  # the CPU is named


def test_our_own_crash_stays_a_crash(crash_items, tmp_path, monkeypatch):
    name = f"{CRASHING}:IllegalInstruction"
    monkeypatch.setattr("benchmarks.runner.OURS", (name,))
    with progress_bar(quiet=True) as bar:
        rows, _ = run_items(crash_items, [name], "cpu", tmp_path, bar)
    assert [r["status"] for r in rows] == ["error"]
    assert "illegal instruction" in rows[0]["error"]


def test_exit_reason_names_signals():
    assert exit_reason(-signal.SIGKILL) == "worker killed by SIGKILL"
    assert exit_reason(3) == "worker exited with code 3"
    assert exit_reason(-signal.SIGILL).startswith("illegal instruction (SIGILL)")
