"""Hostile recordings through the ``timeline`` command, as a user runs it (a real process).

Every file here is made by the test: broken, mislabelled, degenerate or merely unusual. Each
must end in one of two ways, within a time bound:

- a clear error: exit code 1, one line on stderr that names the file, no traceback, and no
  output file (not even a partial one);
- a correct result: exit code 0, an enriched call whose timeline lies within the recording.

Truncation points are drawn from a seeded generator, so a failure can be replayed. The files
are stereo where the case allows (the dual-channel path needs no diarization model), so the
whole corpus runs in well under a minute; the 4-hour file is marked slow.
"""

from __future__ import annotations

import json
import os
import random
import struct
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from diarize.audio import open_audio, write_audio
from diarize.example import example_call, stereo_example

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261202
TIMEOUT_S = 240


@dataclass(frozen=True)
class Case:
    """One hostile file: how to make it, and what must come of it."""

    name: str
    make: Callable[[Path], Path]
    error: str | None = None
    """A phrase the one-line error must hold; ``None`` when a correct result is expected."""
    speech: bool | None = None
    """For results: whether the timeline must hold speech (True), none (False), or either."""


@pytest.fixture(scope="module")
def speech() -> tuple[np.ndarray, int]:
    """12 s of the bundled two-party telephone call (both talk), one party per channel."""
    example = stereo_example(bleed_db=-25.0)
    rate = example.sample_rate
    return example.samples[:, 5 * rate : 17 * rate], rate


@pytest.fixture(scope="module")
def call_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("call") / "call.json"
    path.write_text(json.dumps(example_call()))
    return path


def run_timeline(audio: Path, call: Path, output: Path) -> subprocess.CompletedProcess:
    """``gong-diarize timeline AUDIO --call CALL -o OUTPUT -q`` in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "diarize", "timeline", str(audio), "--call", str(call)]
        + ["-o", str(output), "-q"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )


@dataclass(frozen=True)
class Done:
    """How one run of the command ended."""

    returncode: int
    stdout: str
    stderr: str


def check_outcome(case: Case, audio: Path, done: Done, output: Path) -> None:
    """The contract every hostile file is held to (see the module docstring)."""
    assert "Traceback" not in done.stderr, done.stderr
    if case.error is not None or done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 1, (done.returncode, done.stderr)
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith(f"gong-diarize: error: {audio}: "), lines[0]
        if case.error is not None:
            assert case.error in lines[0], lines[0]
        assert not output.exists(), "no output may be written for a failed run"
        assert not list(output.parent.glob(f".{output.name}.*")), "no temporary file left"
        assert done.stdout == ""
        return
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", "with -q a successful run prints nothing, warnings included"
    enriched = json.loads(output.read_text())
    check_result(case, audio, enriched)


def check_result(case: Case, audio: Path, enriched: dict) -> None:
    """A correct result: the call's parties kept, segments inside the recording's length."""
    duration_s = open_audio(audio).info.duration_s
    assert [p["name"] for p in enriched["parties"]][:2] == ["Riley Rep", "Casey Customer"]
    if "speakersTimeline" not in enriched:  # withheld: voices that no party could be tied to
        assert case.speech is None, "a timeline was expected"
        return
    segments = enriched["speakersTimeline"]["speechSegments"]
    party_ids = {p["partyId"] for p in enriched["parties"]}
    for segment in segments:
        assert 0 <= segment["fromTime"] < segment["toTime"], segment
        assert set(segment["partyIds"]) <= party_ids
        assert segment["toTime"] <= duration_s * 1000 + 10
    if case.speech is not None:
        assert bool(segments) is case.speech, segments


# -- makers ---------------------------------------------------------------------------------


def _wav_header(channels: int, rate: int, data_bytes: int, bits: int = 16, fmt: int = 1) -> bytes:
    block = channels * bits // 8
    riff = 36 + data_bytes
    return (
        struct.pack("<4sI4s", b"RIFF", riff & 0xFFFFFFFF, b"WAVE")
        + struct.pack("<4sIHHIIHH", b"fmt ", 16, fmt, channels, rate, rate * block, block, bits)
        + struct.pack("<4sI", b"data", data_bytes)
    )


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _speech_file(speech, path: Path, container: str, codec: str | None = None) -> Path:
    samples, rate = speech
    write_audio(path, samples, rate, container=container, codec=codec)
    return path


def _make_fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _make_dir(path: Path) -> Path:
    path.mkdir()
    return path


def _video_without_audio(path: Path) -> Path:
    with av.open(str(path), "w", format="mp4") as box:
        stream = box.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for i in range(5):
            image = np.full((32, 32, 3), 40 * i, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                box.mux(packet)
        for packet in stream.encode(None):
            box.mux(packet)
    return path


def _with_nan_and_inf(speech, path: Path) -> Path:
    samples, rate = speech
    broken = samples.astype(np.float32).copy()
    rng = np.random.default_rng(SEED)
    for value in (np.nan, np.inf, -np.inf):
        spots = rng.integers(0, broken.shape[1], size=200)
        broken[rng.integers(0, 2, size=200), spots] = value
    broken[:, 1000:1400] = np.nan  # a run of them, as a broken mixer writes
    sf.write(path, broken.T, rate, subtype="FLOAT")
    return path


def _clipped(speech, path: Path) -> Path:
    samples, rate = speech
    sf.write(path, np.clip(samples * 30.0, -1.0, 1.0).T, rate, subtype="PCM_16")
    return path


def _dc_only(path: Path) -> Path:
    """Both channels one constant: duplicated mono, so this case runs the diarizer."""
    sf.write(path, np.full((16000 * 4, 2), 0.5, np.float32), 16000, subtype="PCM_16")
    return path


def _one_second(speech, path: Path) -> Path:
    samples, rate = speech
    start = int(4.5 * rate)  # both parties talk in this second (9.5-10.5 s of the sample)
    sf.write(path, samples[:, start : start + rate].T, rate, subtype="PCM_16")
    return path


def _tone(path: Path, rate: int, channels: int, seconds: float = 2.0) -> Path:
    t = np.arange(int(rate * seconds)) / rate
    tone = 0.3 * np.sin(2 * np.pi * min(300.0, rate / 4) * t)
    sf.write(path, np.repeat(tone[:, None], channels, axis=1), rate, subtype="PCM_16")
    return path


def _four_hours_silent(path: Path) -> Path:
    """A 4-hour 8 kHz stereo WAV of digital silence, written sparsely (no disk blocks)."""
    data_bytes = 4 * 3600 * 8000 * 2 * 2
    with path.open("wb") as f:
        f.write(_wav_header(2, 8000, data_bytes))
        f.truncate(44 + data_bytes)
    return path


CUT_FORMATS = [("WAV", None), ("FLAC", None), ("MP3", None), ("MP4", None), ("OGG", "vorbis")]
CUT_FORMATS += [("MKV", "opus")]


def _cut_at_random(speech, path: Path, container: str, codec: str | None, rng) -> Path:
    whole = _speech_file(speech, path.with_suffix(".whole"), container, codec)
    data = whole.read_bytes()
    whole.unlink()
    return _write(path, data[: rng.randrange(1, len(data))])


def hostile_cases(speech, cuts_per_format: int = 1) -> list[Case]:
    """The corpus (every case but the slow 4-hour one), with seeded random cuts of each format."""
    rng = random.Random(SEED)
    text = b"Call notes: renewal, pricing, follow-up on Tuesday.\n" * 20
    noise = np.random.default_rng(SEED).bytes(64 * 1024)
    samples, rate = speech
    cases = [
        Case("empty.wav", lambda p: _write(p, b""), "empty"),
        Case("header-only.wav", lambda p: _write(p, _wav_header(2, rate, 0)), "no audio"),
        Case("header-cut.wav", lambda p: _write(p, _wav_header(2, rate, 0)[:30])),
        Case(
            "claims-more.wav",
            lambda p: _write(p, _wav_header(2, rate, 10 * rate * 4) + b"\0" * rate * 4),
            "truncated",
        ),
        Case("notes.wav", lambda p: _write(p, text), "not an audio file"),
        Case("noise.wav", lambda p: _write(p, noise), "not an audio file"),
        Case("call.json.wav", lambda p: _write(p, json.dumps(example_call()).encode()), "JSON"),
        Case("flac-named.wav", lambda p: _speech_file(speech, p, "FLAC"), speech=True),
        Case("wav-named.mp3", lambda p: _speech_file(speech, p, "WAV"), speech=True),
        Case("mp4-named.wav", lambda p: _speech_file(speech, p, "MP4"), speech=True),
        Case("no-extension", lambda p: _speech_file(speech, p, "OGG"), speech=True),
        Case("nan-inf.wav", lambda p: _with_nan_and_inf(speech, p), speech=True),
        Case("clipped.wav", lambda p: _clipped(speech, p), speech=True),
        Case("dc-only.wav", _dc_only, speech=False),
        Case("one-second.wav", lambda p: _one_second(speech, p)),
        Case("six-channels.wav", lambda p: _tone(p, 16000, 6), "6 channels"),
        Case("1khz.wav", lambda p: _tone(p, 1000, 2), "sample rate 1000 Hz"),
        Case("192khz.wav", lambda p: _tone(p, 192000, 2, 1.0), "sample rate 192000 Hz"),
        Case("video-no-audio.mp4", _video_without_audio, "no audio stream"),
        Case("pipe.wav", _make_fifo, "not a regular file"),
        Case("folder.wav", _make_dir, "directory"),
        Case("missing.wav", lambda p: p, "file not found"),
        Case(
            "a folder with spaces/Réunion 通話 — call №1.wav",
            lambda p: _speech_file(speech, p, "WAV"),
            speech=True,
        ),
    ]
    for container, codec in CUT_FORMATS:
        for i in range(cuts_per_format):
            # the random cut point is drawn once, when the case is listed (seeded order)
            state = random.Random(rng.random())
            cases.append(
                Case(
                    f"cut-{container.lower()}-{i}.{container.lower()}",
                    lambda p, c=container, k=codec, r=state: _cut_at_random(speech, p, c, k, r),
                )
            )
    return cases


def _case_ids() -> list[str]:
    return [c.name for c in hostile_cases((np.zeros((2, 16000), np.float32), 16000))]


@pytest.fixture(scope="module")
def corpus(speech, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Case, Path]]:
    folder = tmp_path_factory.mktemp("hostile")
    made = {}
    for case in hostile_cases(speech):
        path = folder / case.name
        path.parent.mkdir(parents=True, exist_ok=True)
        made[case.name] = (case, case.make(path))
    return made


def drive(made: dict[str, tuple[Case, Path]], call_file: Path, folder: Path) -> dict:
    """Every case through the command line, in one process (`tests.diarize.cli_driver`)."""
    runs, outputs = [], {}
    for i, (name, (_, audio)) in enumerate(made.items()):
        outputs[name] = folder / f"{i}" / "enriched.json"
        outputs[name].parent.mkdir()
        runs.append(["timeline", str(audio), "--call", str(call_file), "-o"])
        runs[-1] += [str(outputs[name]), "-q"]
    runs_file = folder / "runs.json"
    runs_file.write_text(json.dumps(runs))
    done = subprocess.run(
        [sys.executable, "-m", "tests.diarize.cli_driver", str(runs_file), str(TIMEOUT_S)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S * len(runs),
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    return {name: (result, outputs[name]) for name, result in zip(made, results, strict=True)}


def check_driven(case: Case, audio: Path, result: dict, output: Path) -> None:
    """`check_outcome` for a run of `drive`; nothing may escape the command."""
    assert result["escaped"] is None, result["escaped"]
    check_outcome(case, audio, Done(result["code"], result["stdout"], result["stderr"]), output)


@pytest.fixture(scope="module")
def driven(corpus, call_file: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return drive(corpus, call_file, tmp_path_factory.mktemp("outputs"))


@pytest.mark.parametrize("name", _case_ids())
def test_hostile_file_through_the_cli(corpus, driven, name: str) -> None:
    print(f"hostile file {name!r}: {'error' if driven[name][0]['code'] else 'result'}")
    check_driven(*corpus[name], *driven[name])


@pytest.mark.slow
def test_many_random_cuts(speech, call_file: Path, tmp_path: Path) -> None:
    """Ten seeded cuts of each format (the default run tries one of each)."""
    cases = [c for c in hostile_cases(speech, cuts_per_format=10) if c.name.startswith("cut-")]
    made = {case.name: (case, case.make(tmp_path / case.name)) for case in cases}
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    results = drive(made, call_file, outputs)
    errors = 0
    for name, (case, audio) in made.items():
        check_driven(case, audio, *results[name])
        errors += results[name][0]["code"] != 0
    print(f"random cuts: {len(made)} files, {errors} errors, {len(made) - errors} results")
    assert 0 < errors <= len(made)


@pytest.mark.timeout(TIMEOUT_S + 30)
@pytest.mark.parametrize("name", ["empty.wav", "claims-more.wav", "pipe.wav", "nan-inf.wav"])
def test_hostile_file_in_a_process_of_its_own(corpus, call_file: Path, tmp_path: Path, name: str):
    case, audio = corpus[name]
    output = tmp_path / "enriched.json"
    done = run_timeline(audio, call_file, output)
    check_outcome(case, audio, Done(done.returncode, done.stdout, done.stderr), output)


def test_an_existing_output_survives_a_failed_run(corpus, call_file: Path, tmp_path: Path):
    case, audio = corpus["claims-more.wav"]
    output = tmp_path / "enriched.json"
    output.write_text("earlier result\n")
    done = run_timeline(audio, call_file, output)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert output.read_text() == "earlier result\n"


@pytest.mark.slow
@pytest.mark.timeout(3 * TIMEOUT_S)
def test_four_hour_silent_recording(tmp_path: Path, call_file: Path) -> None:
    audio = _four_hours_silent(tmp_path / "four-hours.wav")
    output = tmp_path / "enriched.json"
    done = subprocess.run(
        [sys.executable, "-m", "diarize", "timeline", str(audio), "--call", str(call_file)]
        + ["-o", str(output), "-q"],
        capture_output=True,
        text=True,
        timeout=3 * TIMEOUT_S - 30,
    )
    case = Case("four-hours.wav", _four_hours_silent, speech=False)
    print(f"four-hour file: exit {done.returncode} {done.stderr.strip() or 'result written'}")
    check_outcome(case, audio, Done(done.returncode, done.stdout, done.stderr), output)
