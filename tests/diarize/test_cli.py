"""The ``timeline`` command as a user runs it: a real process, real files, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from diarize.example import write_example
from diarize.stereo import load_stereo_params


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "diarize", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    return write_example(tmp_path_factory.mktemp("example"))


def test_timeline_writes_enriched_call_and_rttm(example, tmp_path):
    out, rttm = tmp_path / "enriched.json", tmp_path / "call.rttm"
    done = run(
        "timeline",
        str(example / "call.wav"),
        "--call",
        str(example / "call.json"),
        "-o",
        str(out),
        "--rttm",
        str(rttm),
    )
    assert done.returncode == 0, done.stderr
    enriched = json.loads(out.read_text())
    timeline = enriched["speakersTimeline"]
    assert timeline["precise"] is load_stereo_params()[1].precise
    assert len(timeline["speechSegments"]) >= 6
    assert "dual-channel" in done.stderr  # the layout is reported
    lines = rttm.read_text().splitlines()
    assert len(lines) == len(timeline["speechSegments"])
    assert all(line.startswith("SPEAKER ") for line in lines)


def test_stdout_when_no_output_given(example):
    done = run("timeline", str(example / "call.wav"), "--call", str(example / "call.json"), "-q")
    assert done.returncode == 0
    assert json.loads(done.stdout)["speakersTimeline"]["speechSegments"]
    assert done.stderr == ""


def test_invalid_call_exits_2_with_json_path_and_writes_nothing(example, tmp_path):
    call = json.loads((example / "call.json").read_text())
    call["parties"][0]["mediaChannelId"] = 5
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(call))
    out = tmp_path / "out.json"
    done = run("timeline", str(example / "call.wav"), "--call", str(bad), "-o", str(out))
    assert done.returncode == 2
    assert "$.parties[0].mediaChannelId" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize(
    "content,reason",
    [(b"", "empty"), (b"RIFF\x10\x00\x00\x00WAVEfmt ", "truncated|not"), (b'{"a": 1}', "not")],
)
def test_bad_audio_is_one_line_exit_1_and_keeps_existing_output(example, tmp_path, content, reason):
    audio = tmp_path / "broken.wav"
    audio.write_bytes(content)
    out = tmp_path / "out.json"
    out.write_text("previous")
    done = run("timeline", str(audio), "--call", str(example / "call.json"), "-o", str(out))
    assert done.returncode == 1
    assert "broken.wav" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert out.read_text() == "previous"


def test_missing_rep_channel_says_what_to_add(example, tmp_path):
    call = json.loads((example / "call.json").read_text())
    del call["parties"][0]["mediaChannelId"]
    path = tmp_path / "call.json"
    path.write_text(json.dumps(call))
    done = run("timeline", str(example / "call.wav"), "--call", str(path))
    assert done.returncode == 1
    assert "--rep-channel" in done.stderr and "mediaChannelId" in done.stderr
    with_flag = run(
        "timeline", str(example / "call.wav"), "--call", str(path), "--rep-channel", "left", "-q"
    )
    assert with_flag.returncode == 0


def test_channel_mode(example):
    done = run(
        "timeline",
        str(example / "call.wav"),
        "--call",
        str(example / "call.json"),
        "--mode",
        "channel",
        "--rep-channel",
        "right",
        "-q",
    )
    assert done.returncode == 0
    enriched = json.loads(done.stdout)
    assert "speakersTimeline" not in enriched
    assert enriched["parties"][0]["mediaChannelId"] == 1


def test_usage_error_exits_2(example):
    done = run(
        "timeline",
        str(example / "call.wav"),
        "--call",
        str(example / "call.json"),
        "--rep-channel",
        "middle",
    )
    assert done.returncode == 2


def test_mono_recording_is_diarized_and_reported(tmp_path):
    from diarize.audio import write_audio
    from diarize.example import example_call, load_sample

    samples, rate, _ = load_sample()
    audio = tmp_path / "mono.flac"
    write_audio(audio, samples, rate, container="FLAC")
    call = example_call()
    del call["parties"][0]["mediaChannelId"]
    call_path = tmp_path / "call.json"
    call_path.write_text(json.dumps(call))
    store = ["--voiceprints", str(tmp_path / "no-prints")]
    # by default no voice can be tied to a party: no timeline, and one line says why
    done = run("timeline", str(audio), "--call", str(call_path), *store)
    assert done.returncode == 0, done.stderr
    assert "speakersTimeline" not in json.loads(done.stdout)
    reason = [line for line in done.stderr.splitlines() if "no speakersTimeline" in line]
    assert len(reason) == 1 and "enroll" in reason[0] and "--unknown add" in reason[0]
    assert "[unidentified]" in done.stderr
    done = run(
        "timeline",
        str(audio),
        "--call",
        str(call_path),
        "--max-speakers",
        "2",
        *store,
        "--unknown",
        "add",
    )
    assert done.returncode == 0, done.stderr
    assert "mono" in done.stderr
    enriched = json.loads(done.stdout)
    assert enriched["speakersTimeline"]["precise"] is False
    speaking = {
        pid for s in enriched["speakersTimeline"]["speechSegments"] for pid in s["partyIds"]
    }
    assert len(speaking) == 2
    assert speaking <= {p["partyId"] for p in enriched["parties"]}
