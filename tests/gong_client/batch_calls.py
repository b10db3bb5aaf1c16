"""Real calls for the batch tests: pyannote.audio's two-speaker telephone sample, cut and
re-encoded into stereo (each voice on its own channel) and mono recordings, with call JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from diarize.example import example_call, load_sample, stereo_example

CRASH_MARKER = "crash-me"  # value for GONG_DIARIZE_BATCH_TEST_KILL


def _stereo_slice(number: int) -> tuple[np.ndarray, int]:
    """A distinct stereo recording: a slice of the sample (10-22 s), slightly louder each time."""
    example = stereo_example(bleed_db=-30.0)
    rate = example.sample_rate
    start = (number * 3) % 8
    length = 10 + (number * 5) % 13
    cut = example.samples[:, start * rate : (start + length) * rate]
    return (cut * (0.8 + 0.01 * number)).T.astype(np.float32), rate


def stereo_call(cuid: str) -> dict[str, Any]:
    """A call whose rep is on the left channel."""
    return example_call(cuid)


def mono_call(cuid: str) -> dict[str, Any]:
    """A call without a channel for the rep (mono recordings)."""
    call = example_call(cuid)
    for party in call["parties"]:
        party.pop("mediaChannelId", None)
    return call


def write_stereo(path: Path, number: int) -> Path:
    """Write stereo call `number` in the format the suffix names (WAV, FLAC or MP3)."""
    data, rate = _stereo_slice(number)
    fmt = {".wav": "WAV", ".flac": "FLAC", ".mp3": "MP3"}[path.suffix]
    sf.write(path, data, rate, format=fmt)
    return path


def write_mono(path: Path, number: int) -> Path:
    """Write the sample as a mono recording (cut by `number` seconds at the start)."""
    samples, rate, _ = load_sample()
    fmt = {".wav": "WAV", ".flac": "FLAC", ".mp3": "MP3"}[path.suffix]
    sf.write(path, samples[number * rate :] * 0.9, rate, format=fmt)
    return path


def manifest_line(audio: str, call: Any) -> str:
    """One JSONL manifest line."""
    return json.dumps({"audio": audio, "call": call}) + "\n"


def build_batch(folder: Path, stereo: int, mono: int, *, bad: bool = True) -> dict[str, Any]:
    """Write recordings, call JSON and ``calls.jsonl`` into `folder`.

    Returns ``{"manifest", "good": {cuid: audio path}, "mono": set of cuids, "bad": {file
    name: expected reason}}``. With `bad`, four calls that must fail: an unreadable recording,
    an invalid call JSON, a recording that is missing, and one whose worker dies.
    """
    folder.mkdir(parents=True, exist_ok=True)
    good: dict[str, Path] = {}
    lines = []
    mono_ids = set()
    for i in range(mono):
        cuid = f"mono-{i:02d}"
        audio = write_mono(folder / f"{cuid}.{('wav', 'mp3')[i % 2]}", i)
        good[cuid] = audio
        mono_ids.add(cuid)
        lines.append(manifest_line(audio.name, mono_call(cuid)))
    for i in range(stereo):
        cuid = f"stereo-{i:02d}"
        audio = write_stereo(folder / f"{cuid}.{('wav', 'flac', 'mp3')[i % 3]}", i)
        good[cuid] = audio
        if i % 2:  # the call JSON by path, relative to the manifest
            (folder / f"{cuid}.json").write_text(json.dumps(stereo_call(cuid)))
            lines.append(manifest_line(audio.name, f"{cuid}.json"))
        else:
            lines.append(manifest_line(audio.name, stereo_call(cuid)))
    expected_bad = {}
    if bad:
        (folder / "unreadable.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk" + bytes(4000))
        lines.append(manifest_line("unreadable.wav", stereo_call("bad-unreadable")))
        expected_bad["unreadable.wav"] = "audio"
        invalid = stereo_call("bad-invalid")
        del invalid["primaryUser"]
        write_stereo(folder / "invalid-call.wav", 40)
        lines.append(manifest_line("invalid-call.wav", invalid))
        expected_bad["invalid-call.wav"] = "call"
        lines.append(manifest_line("missing.wav", stereo_call("bad-missing")))
        expected_bad["missing.wav"] = "audio"
        write_stereo(folder / f"{CRASH_MARKER}.wav", 41)
        lines.append(manifest_line(f"{CRASH_MARKER}.wav", stereo_call("bad-crash")))
        expected_bad[f"{CRASH_MARKER}.wav"] = "worker died"
    manifest = folder / "calls.jsonl"
    manifest.write_text("".join(lines))
    return {"manifest": manifest, "good": good, "mono": mono_ids, "bad": expected_bad}
