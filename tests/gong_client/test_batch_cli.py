"""The ``batch`` and ``journal`` commands as a user runs them; ``upload`` of a finished call."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from gong_client.batch import run_batch
from gong_client.cli import app
from tests.gong_client.batch_calls import build_batch, manifest_line, stereo_call
from tests.gong_client.helpers import KEY, SECRET, make_call, write_audio

ROOT = Path(__file__).resolve().parents[2]
CREDENTIALS = {"GONG_ACCESS_KEY": KEY, "GONG_ACCESS_KEY_SECRET": SECRET}


def test_batch_prints_a_table_exits_by_outcome_and_resumes(tmp_path: Path) -> None:
    calls = build_batch(tmp_path / "in", stereo=2, mono=0, bad=False)
    out = tmp_path / "out"
    args = ["batch", str(calls["manifest"]), "--out", str(out), "--workers", "1", "--rttm"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.stderr
    assert "2 calls: 2 done, 0 failed, 0 skipped" in first.stderr
    assert f"summary: {out / 'summary.json'}" in first.stderr
    assert sorted(p.name for p in (out / "calls").iterdir()) == [
        "stereo-00.json", "stereo-00.rttm", "stereo-01.json", "stereo-01.rttm"
    ]  # fmt: skip

    with calls["manifest"].open("a") as manifest:
        manifest.write(manifest_line("gone.wav", stereo_call("gone")))
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 1
    assert "3 calls: 0 done, 1 failed, 2 skipped" in again.stderr
    assert "calls.jsonl line 3: audio: file not found" in again.stderr
    assert "Traceback" not in again.stderr

    quiet = CliRunner().invoke(app, [*args, "--quiet"])
    assert quiet.exit_code == 1 and quiet.stderr == ""


def test_batch_usage_errors_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "calls.txt").write_text("")
    for args, words in [
        (["batch", str(tmp_path / "calls.txt")], "--out"),
        (["batch", str(tmp_path / "calls.txt"), "--out", str(tmp_path)], "a .jsonl or .csv"),
        (["batch", str(tmp_path / "no.csv"), "--out", str(tmp_path)], "no such file"),
    ]:
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2
        [line] = result.stderr.strip().splitlines()
        assert words in line and line.startswith("gong-diarize: error: ")


def test_journal_lists_uploads_and_upload_says_already_uploaded(emulator, tmp_path: Path):
    audio = write_audio(tmp_path / "call.wav", seconds=2)
    call = tmp_path / "call.json"
    call.write_text(json.dumps(make_call("journal-0001")))
    state = tmp_path / "state"
    upload = [
        "upload", str(audio), "--call", str(call), "--no-diarize",
        "--base-url", emulator.base_url, "--state-dir", str(state),
    ]  # fmt: skip
    first = CliRunner().invoke(app, upload, env=CREDENTIALS)
    assert first.exit_code == 0, first.stderr
    call_id = json.loads(first.stdout)["callId"]
    assert "already uploaded" not in first.stderr

    second = CliRunner().invoke(app, upload, env=CREDENTIALS)
    assert second.exit_code == 0
    assert json.loads(second.stdout)["callId"] == call_id
    assert f"already uploaded: call {call_id} (clientUniqueId journal-0001)" in second.stderr

    listing = CliRunner().invoke(app, ["journal", "--state-dir", str(state)])
    assert listing.exit_code == 0
    [line] = listing.stdout.splitlines()
    assert line.split()[:3] == ["finished", call_id, "journal-0001"]
    assert "1 calls in" in listing.stderr and "1 finished" in listing.stderr
    as_json = CliRunner().invoke(app, ["journal", "--state-dir", str(state), "--json"])
    row = json.loads(as_json.stdout)
    assert row["callId"] == call_id and row["state"] == "finished"
    assert KEY not in listing.stdout + as_json.stdout and SECRET not in as_json.stdout

    empty = CliRunner().invoke(app, ["journal", "--state-dir", str(tmp_path / "none")])
    assert empty.exit_code == 0 and "no uploads recorded yet" in empty.stderr


def _default_sigint() -> None:
    """A test run started in the background ignores SIGINT; give the child its default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_cleanly_and_the_next_run_finishes(tmp_path: Path) -> None:
    calls = build_batch(tmp_path / "in", stereo=8, mono=0, bad=False)
    out = tmp_path / "out"
    child = subprocess.Popen(
        [sys.executable, "-m", "gong_client", "batch", str(calls["manifest"]),
         "--out", str(out), "--workers", "1", "--quiet"],
        cwd=ROOT,
        env=dict(os.environ),
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )  # fmt: skip
    stamps = out / "state"
    deadline = time.monotonic() + 240
    while child.poll() is None and len(list(stamps.glob("stereo-*.json"))) < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    stderr = child.communicate(timeout=60)[1]
    assert child.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["totals"]["interrupted"] is True
    assert summary["totals"]["done"] < len(calls["good"])
    assert not [p for p in out.rglob(".*") if p.is_file()]  # no half-written file

    result = run_batch(calls["manifest"], out, workers=1)
    assert result.totals["failed"] == 0
    assert result.totals["skipped"] == summary["totals"]["done"]
    assert result.totals["done"] + result.totals["skipped"] == len(calls["good"])
