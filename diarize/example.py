"""A real stereo call to try the tool on, built from the recording that ships in pyannote.audio.

pyannote.audio bundles a 30 s two-speaker telephone recording (`sample.wav`) with its reference
(`sample.rttm`). Putting each speaker's turns on a channel of its own gives a dual-channel call
like a PBX records, with an exact reference; optional bleed adds the other side's voice,
attenuated and delayed, as echo and crosstalk do.

Run ``python -m diarize.example DIR`` to write ``call.wav``, ``call.json`` and ``reference.rttm``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import soundfile as sf

from diarize.segments import Segment

__all__ = ["StereoExample", "example_call", "load_sample", "stereo_example", "write_example"]

REP_SPEAKER = "speaker90"  # on channel 0 (left)
CUSTOMER_SPEAKER = "speaker91"  # on channel 1 (right)
_RAMP_S = 0.01


def load_sample() -> tuple[np.ndarray, int, list[Segment]]:
    """pyannote.audio's bundled sample: mono float32 samples, sample rate, reference turns."""
    folder = resources.files("pyannote.audio") / "sample"
    with resources.as_file(folder / "sample.wav") as path:
        samples, sample_rate = sf.read(path, dtype="float32")
    turns = []
    for line in (folder / "sample.rttm").read_text().splitlines():
        fields = line.split()
        if fields and fields[0] == "SPEAKER":
            start, duration = float(fields[3]), float(fields[4])
            turns.append(Segment(start, start + duration, fields[7]))
    return samples, sample_rate, sorted(turns)


@dataclass
class StereoExample:
    """A generated dual-channel call and its truth."""

    samples: np.ndarray  # shape: (2, num_samples)
    sample_rate: int
    reference: list[Segment]  # speaker: "ch0" / "ch1"
    speakers: dict[str, str]  # original speaker label -> channel label


def _turn_mask(turns: list[Segment], num_samples: int, sample_rate: int) -> np.ndarray:
    mask = np.zeros(num_samples, dtype=np.float32)
    ramp = int(_RAMP_S * sample_rate)
    for turn in turns:
        start = max(0, int(round(turn.start_s * sample_rate)) - ramp)
        end = min(num_samples, int(round(turn.end_s * sample_rate)) + ramp)
        mask[start:end] = 1.0
    kernel = np.hanning(2 * ramp + 1)
    return np.convolve(mask, kernel / kernel.sum(), mode="same").astype(np.float32)


def stereo_example(bleed_db: float | None = None, delay_ms: float = 5.0) -> StereoExample:
    """Each speaker of the sample on its own channel, optionally with `bleed_db` dB of crosstalk
    (e.g. -25) arriving `delay_ms` late on the other channel."""
    samples, sample_rate, turns = load_sample()
    speakers = {REP_SPEAKER: "ch0", CUSTOMER_SPEAKER: "ch1"}
    own = np.stack(
        [
            samples * _turn_mask([t for t in turns if t.speaker == name], len(samples), sample_rate)
            for name in speakers
        ]
    )
    stereo = own.copy()
    if bleed_db is not None:
        gain = 10 ** (bleed_db / 20)
        delay = int(round(delay_ms * sample_rate / 1000))
        for ch in (0, 1):
            leaked = np.zeros_like(own[1 - ch])
            leaked[delay:] = own[1 - ch][: len(leaked) - delay]
            stereo[ch] += gain * leaked
    reference = [Segment(t.start_s, t.end_s, speakers[t.speaker]) for t in turns]
    return StereoExample(stereo, sample_rate, reference, speakers)


def example_call(client_unique_id: str = "example-call-0001") -> dict:
    """A `POST /v2/calls` body for the example: the rep on channel 0, one customer."""
    return {
        "clientUniqueId": client_unique_id,
        "actualStart": "2026-01-15T10:00:00Z",
        "direction": "Outbound",
        "title": "Example call",
        "primaryUser": "7782342274025937895",
        "parties": [
            {
                "userId": "7782342274025937895",
                "name": "Riley Rep",
                "emailAddress": "riley.rep@example.com",
                "mediaChannelId": 0,
            },
            {"name": "Casey Customer", "phoneNumber": "+1 555 0100"},
        ],
    }


def write_example(folder: str | Path, bleed_db: float | None = -25.0) -> Path:
    """Write ``call.wav``, ``call.json`` and ``reference.rttm`` into `folder`; return it."""
    from diarize.segments import to_rttm

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    example = stereo_example(bleed_db=bleed_db)
    sf.write(folder / "call.wav", example.samples.T, example.sample_rate, subtype="PCM_16")
    (folder / "call.json").write_text(json.dumps(example_call(), indent=2) + "\n")
    (folder / "reference.rttm").write_text(to_rttm(example.reference, "call"))
    return folder


if __name__ == "__main__":
    print(write_example(sys.argv[1] if len(sys.argv) > 1 else "example"))
