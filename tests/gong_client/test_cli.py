"""The ``upload`` and ``emulator`` commands as a user runs them: exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gong_client import Journal
from gong_client.cli import app
from tests.gong_client.helpers import (
    KEY,
    SECRET,
    logged_requests,
    make_call,
    sha256_of,
    stored_calls,
    write_audio,
)

ROOT = Path(__file__).resolve().parents[2]
CREDENTIALS = {"GONG_ACCESS_KEY": KEY, "GONG_ACCESS_KEY_SECRET": SECRET}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    audio = write_audio(tmp_path / "call.wav", seconds=2)
    call = tmp_path / "call.json"
    call.write_text(json.dumps(make_call("cli-1")))
    return audio, call


def _invoke(args: list[str], env: dict | None = None):
    return CliRunner().invoke(app, args, env={**CREDENTIALS, **(env or {})})


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def test_upload_prints_call_id_and_url(emulator, files, tmp_path) -> None:
    audio, call = files
    args = [
        "upload",
        str(audio),
        "--call",
        str(call),
        "--no-diarize",
        "--base-url",
        emulator.base_url,
        "--state-dir",
        str(tmp_path / "s"),
    ]
    result = _invoke(args)
    assert result.exit_code == 0, result.stderr
    printed = json.loads(result.stdout)
    (stored,) = stored_calls(emulator.base_url)
    assert printed == {
        "callId": stored["callId"],
        "url": f"{emulator.base_url}/emulator/calls/{stored['callId']}",  # not app.gong.io
    }
    assert stored["media"]["sha256"] == sha256_of(audio)
    again = _invoke(args)  # finished: nothing is sent again
    assert again.exit_code == 0 and json.loads(again.stdout) == printed
    assert len(logged_requests(emulator.base_url)) == 2


def test_call_with_a_timeline_is_sent_as_it_is(emulator, tmp_path) -> None:
    audio = write_audio(tmp_path / "a.flac", seconds=2)
    timeline = {
        "precise": False,
        "speechSegments": [{"fromTime": 0, "toTime": 900, "partyIds": ["1"]}],
    }
    call = tmp_path / "call.json"
    call.write_text(json.dumps(make_call("cli-tl", speakersTimeline=timeline)))
    result = _invoke(
        [
            "upload",
            str(audio),
            "--call",
            str(call),
            "--base-url",
            emulator.base_url,
            "--state-dir",
            str(tmp_path / "s"),
        ]
    )
    assert result.exit_code == 0, result.stderr
    assert stored_calls(emulator.base_url)[0]["call"]["speakersTimeline"] == timeline


def test_missing_credentials_exit_1_in_one_line(emulator, files, tmp_path) -> None:
    audio, call = files
    result = CliRunner().invoke(
        app, ["upload", str(audio), "--call", str(call), "--base-url", emulator.base_url], env={}
    )
    assert result.exit_code == 1
    assert "GONG_ACCESS_KEY" in _one_line(result.stderr)


def test_rejected_credentials_exit_1_with_the_request_id(emulator, files, tmp_path) -> None:
    audio, call = files
    result = _invoke(
        [
            "upload",
            str(audio),
            "--call",
            str(call),
            "--no-diarize",
            "--base-url",
            emulator.base_url,
            "--state-dir",
            str(tmp_path / "s"),
        ],
        env={"GONG_ACCESS_KEY_SECRET": "bad-Secret-5521"},
    )
    assert result.exit_code == 1
    line = _one_line(result.stderr)
    request_id = logged_requests(emulator.base_url)[0]["requestId"]
    assert "HTTP 401" in line and f"requestId {request_id}" in line
    assert "bad-Secret-5521" not in result.output and SECRET not in result.output


def test_unaccepted_media_exits_1_naming_the_file(emulator, tmp_path) -> None:
    text = tmp_path / "notes.wav"
    text.write_text("not a recording\n")
    call = tmp_path / "call.json"
    call.write_text(json.dumps(make_call("cli-text")))
    result = _invoke(["upload", str(text), "--call", str(call), "--base-url", emulator.base_url])
    assert result.exit_code == 1
    assert str(text) in _one_line(result.stderr)
    assert logged_requests(emulator.base_url) == []


def test_invalid_call_json_exits_2(emulator, tmp_path) -> None:
    audio = write_audio(tmp_path / "a.wav")
    call = tmp_path / "call.json"
    call.write_text(json.dumps(make_call("cli-bad", direction="Sideways")))
    result = _invoke(["upload", str(audio), "--call", str(call), "--base-url", emulator.base_url])
    assert result.exit_code == 2
    assert "$.direction" in _one_line(result.stderr)


def test_usage_errors_exit_2(files) -> None:
    audio, _ = files
    assert _invoke(["upload", str(audio)]).exit_code == 2  # no --call
    assert _invoke(["upload", str(audio), "--call", "c.json", "--rate", "0"]).exit_code == 2
    assert _invoke(["emulator", "--fail-rate", "2"]).exit_code == 2


def test_emulator_needs_keys(tmp_path) -> None:
    result = CliRunner().invoke(app, ["emulator", "--data-dir", str(tmp_path)], env={})
    assert result.exit_code == 2
    assert "--access-key" in _one_line(result.stderr)


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONG_")}
    return {**env, **CREDENTIALS, "NO_PROXY": "127.0.0.1,localhost"}


def _default_sigint() -> None:
    """Give the child Ctrl-C back: a test run started in the background (a shell without job
    control) ignores SIGINT, and Python keeps an ignored SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interruptible(args: list[str]) -> subprocess.Popen:
    """Start `args` from the repository with piped text output, ready for a Ctrl-C."""
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )


def test_emulator_command_serves_until_interrupted(tmp_path) -> None:
    server = _interruptible(
        [
            sys.executable,
            "-m",
            "gong_client",
            "emulator",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "data"),
        ]
    )
    try:
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        audio = write_audio(tmp_path / "a.wav")
        call = tmp_path / "call.json"
        call.write_text(json.dumps(make_call("cli-sub")))
        upload = subprocess.run(
            [
                sys.executable,
                "-m",
                "gong_client",
                "upload",
                str(audio),
                "--call",
                str(call),
                "--no-diarize",
                "--base-url",
                url,
                "--state-dir",
                str(tmp_path / "s"),
            ],
            cwd=ROOT,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert upload.returncode == 0, upload.stderr
        assert json.loads(upload.stdout)["callId"] == stored_calls(url)[0]["callId"]
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=15) == 130
        assert "Traceback" not in server.stderr.read()
    assert list((tmp_path / "data" / "calls").glob("*.json"))


def test_ctrl_c_exits_130_and_the_next_run_finishes(start_emulator, tmp_path) -> None:
    server = start_emulator(slow_s=1.0)
    audio = write_audio(tmp_path / "a.wav")
    call = tmp_path / "call.json"
    call.write_text(json.dumps(make_call("cli-ctrl-c")))
    args = [
        sys.executable,
        "-m",
        "gong_client",
        "upload",
        str(audio),
        "--call",
        str(call),
        "--no-diarize",
        "--base-url",
        server.base_url,
        "--state-dir",
        str(tmp_path / "s"),
    ]
    child = _interruptible(args)
    deadline = time.monotonic() + 30
    while not (tmp_path / "s" / "journal.sqlite3").exists() or not Journal(tmp_path / "s").get(
        server.base_url, "cli-ctrl-c"
    ):
        assert time.monotonic() < deadline and child.poll() is None
        time.sleep(0.05)
    time.sleep(0.2)  # the POST is now on its way (the emulator answers after 1 s)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    assert child.returncode == 130 and out == ""
    assert "run the same command again" in _one_line(err)
    assert Journal(tmp_path / "s").get(server.base_url, "cli-ctrl-c").state == "posting"
    rerun = subprocess.run(args, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    calls = stored_calls(server.base_url)
    assert len(calls) == 1 and calls[0]["media"]["sha256"] == sha256_of(audio)
    assert json.loads(rerun.stdout)["callId"] == calls[0]["callId"]


def test_upload_runs_the_timeline_step(emulator, tmp_path) -> None:
    from diarize.example import write_example

    folder = write_example(tmp_path / "example")
    result = _invoke(
        [
            "upload",
            str(folder / "call.wav"),
            "--call",
            str(folder / "call.json"),
            "--base-url",
            emulator.base_url,
            "--state-dir",
            str(tmp_path / "s"),
        ]
    )
    assert result.exit_code == 0, result.stderr
    (stored,) = stored_calls(emulator.base_url)
    timeline = stored["call"]["speakersTimeline"]
    party_ids = {p["partyId"] for p in stored["call"]["parties"]}
    assert len(timeline["speechSegments"]) > 3
    assert {pid for s in timeline["speechSegments"] for pid in s["partyIds"]} <= party_ids


def test_python_dash_m_lists_every_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gong_client", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    for command in ("upload", "emulator", "timeline"):
        assert command in result.stdout
