"""Calls for the rep-mapping benchmark: a rep's dual-channel calls to learn from, and mono calls
of the same rep, from held-out speech, to map.

Every voice is real: solo turns (no one else talking) of AMI speakers in
``../shared/evaldata/dev`` and of the two speakers of pyannote.audio's sample, cut into pieces
of at most 6 s at their quietest frame. Each rep's speech is split into a *learning* set and a
disjoint *held-out* set (`REPS`): from different recordings where the rep speaks enough in two,
else from different turns of one recording. Calls alternate whole pieces of the rep and of one
customer, so their reference is exact.

Conditions:

- ``clean``: 16 kHz PCM; a stereo call's channels leak 20-30 dB down into each other, a few
  milliseconds late.
- ``telephone``: each channel (or the mono mix) band-limited to 300-3400 Hz, at 8 kHz, white or
  pink noise at 15-20 dB SNR, coded with mu-law or GSM 6.10 (alternating), through
  `benchmarks.data.conditions.write_noisy`.

All draws come from seeds derived from the call's name: the data is the same on every run.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from benchmarks.data.conditions import write_noisy
from benchmarks.data.sources import (
    RealRecording,
    evaldata_recordings,
    pyannote_sample,
    solo_regions,
)
from benchmarks.data.voices import SAMPLE_RATE, split_long

__all__ = [
    "CONDITIONS",
    "REPS",
    "BuiltCall",
    "RepSpec",
    "available_reps",
    "customer_pieces",
    "dual_channel_call",
    "mono_call",
    "rep_pieces",
]

CONDITIONS = ("clean", "telephone")
_MAX_PIECE_S = 6.0
_MIN_PIECE_S = 0.5
_LEVEL_DBFS = -20.0
_GAP_S = (0.3, 0.9)
_LEAK_DB = (-30.0, -20.0)
_DELAY_MS = (2.0, 20.0)
_SNR_DB = (15.0, 20.0)
LEARN_CALL_REP_S = 20.0
"""Rep speech (whole turns) in a learning call; pieces repeat where the learning set is shorter."""

Window = tuple[str, float, float]  # (recording uri, start_s, end_s)


@dataclass(frozen=True)
class RepSpec:
    """One rep: where its learning and held-out speech come from, and the customers of its
    learning calls and of its mono test calls (disjoint)."""

    name: str
    learn: tuple[Window, ...]
    held_out: tuple[Window, ...]
    learn_customers: tuple[str, ...]
    test_customers: tuple[str, ...]


# The only AMI speakers of evaldata with 10+ s of solo speech. FEE087 (8 s of solo speech in
# all) is too little to both learn from and test on: she is a customer voice.
REPS: tuple[RepSpec, ...] = (
    RepSpec(
        "FEE083",
        learn=(("trn06", 0.0, 30.0),),
        held_out=(("trn09", 0.0, 30.0),),
        learn_customers=("speaker90", "MEE068", "FEE088"),
        test_customers=("speaker91", "MEE012", "MEE075", "FEE078"),
    ),
    RepSpec(
        "MEE009",
        learn=(("dev00", 0.0, 30.0),),
        held_out=(("dev01", 0.0, 30.0),),
        learn_customers=("speaker91", "MEE075", "FEE083"),
        test_customers=("speaker90", "MEE068", "MÉO069", "FEE087"),
    ),
    RepSpec(  # 29 s in one turn of trn03, 3.5 s in trn00
        "MÉO069",
        learn=(("trn03", 0.0, 19.0),),
        held_out=(("trn03", 19.0, 30.0), ("trn00", 0.0, 30.0)),
        learn_customers=("speaker90", "MEE012", "FEE078"),
        test_customers=("speaker91", "MEE075", "MEE009", "FEE088"),
    ),
    RepSpec(  # only in trn05: two long turns, one to learn from and one held out
        "FEE078",
        learn=(("trn05", 0.0, 2.0), ("trn05", 19.3, 30.0)),
        held_out=(("trn05", 9.0, 19.3),),
        learn_customers=("speaker91", "MEE068", "MEE012"),
        test_customers=("speaker90", "FEE083", "FEE087", "MEE075"),
    ),
)


@dataclass
class BuiltCall:
    """A generated call: its audio (a file for mono calls, samples for stereo ones), its rate,
    the rep's reference speech, and what was drawn."""

    name: str
    audio: Path | np.ndarray
    sample_rate: int
    rep_spans: list[tuple[float, float]]
    customer: str
    drawn: dict


@cache
def _recordings() -> dict[str, RealRecording]:
    found = {r.uri: r for r in evaldata_recordings()}
    found["sample"] = pyannote_sample()
    return found


@cache
def _audio(uri: str) -> np.ndarray:
    audio, rate = sf.read(_recordings()[uri].audio, dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    return soxr.resample(audio, rate, SAMPLE_RATE) if rate != SAMPLE_RATE else audio


def _pieces(speaker: str, windows: tuple[Window, ...]) -> list[np.ndarray]:
    """`speaker`'s solo speech inside `windows`, cut into pieces of 0.5-6 s, level-normalised."""
    pieces: list[np.ndarray] = []
    for uri, lo, hi in windows:
        recording = _recordings().get(uri)
        if recording is None:
            continue
        audio = _audio(uri)
        for turn in solo_regions(recording.turns, _MIN_PIECE_S):
            start, end = max(turn.start_s, lo), min(turn.end_s, hi)
            if turn.speaker != speaker or end - start < _MIN_PIECE_S:
                continue
            clip = audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
            for piece in split_long(clip, _MAX_PIECE_S):
                if len(piece) >= _MIN_PIECE_S * SAMPLE_RATE:
                    pieces.append(_levelled(piece))
    return pieces


def _levelled(clip: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(clip.astype(np.float64) ** 2))) or 1.0
    return (clip * (10 ** (_LEVEL_DBFS / 20) / rms)).astype(np.float32)


def rep_pieces(rep: RepSpec) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The rep's (learning pieces, held-out pieces)."""
    return _pieces(rep.name, rep.learn), _pieces(rep.name, rep.held_out)


def customer_pieces(name: str) -> list[np.ndarray]:
    """All solo pieces of a customer voice (an AMI label, or ``speaker90``/``speaker91`` of
    pyannote.audio's sample)."""
    if name.startswith("speaker"):
        return _pieces(name, (("sample", 0.0, 1e9),))
    uris = [r.uri for r in _recordings().values() if any(t.speaker == name for t in r.turns)]
    return _pieces(name, tuple((uri, 0.0, 1e9) for uri in uris))


def available_reps(names: list[str] | None = None) -> list[RepSpec]:
    """The reps of `REPS` (or those named) whose learning and held-out speech are present."""
    chosen = [r for r in REPS if names is None or r.name in names]
    return [r for r in chosen if all(rep_pieces(r))]


def _rng(name: str, seed: int) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()) ^ seed)


def _conversation(
    rep: list[np.ndarray],
    customer: list[np.ndarray],
    rng: np.random.Generator,
    rep_speech_s: float,
    repeat: bool = False,
) -> tuple[np.ndarray, np.ndarray, list[tuple[float, float]], list[tuple[float, float]]]:
    """Rep and customer tracks taking turns: the rep's pieces in a drawn order until
    `rep_speech_s` (or all of them, unless `repeat`: then again, in another drawn order), as
    many customer pieces (drawn with replacement)."""
    order: list[np.ndarray] = []
    rep_turns: list[np.ndarray] = []
    while sum(len(t) for t in rep_turns) < rep_speech_s * SAMPLE_RATE:
        if not order:
            if rep_turns and not repeat:
                break
            order = [rep[i] for i in rng.permutation(len(rep))]
        rep_turns.append(order.pop(0))
    customer_turns = [customer[int(rng.integers(len(customer)))] for _ in rep_turns]
    gains = 10 ** (rng.uniform(-3.0, 3.0, size=2) / 20)
    rep_first = bool(rng.random() < 0.5)
    sequence: list[tuple[int, np.ndarray]] = []
    for rep_turn, customer_turn in zip(rep_turns, customer_turns, strict=True):
        pair = [(0, rep_turn), (1, customer_turn)]
        sequence += pair if rep_first else pair[::-1]
    at = int(rng.uniform(*_GAP_S) * SAMPLE_RATE)
    placed: list[tuple[int, int, np.ndarray]] = []
    for who, turn in sequence:
        placed.append((who, at, turn))
        at += len(turn) + int(rng.uniform(*_GAP_S) * SAMPLE_RATE)
    tracks = np.zeros((2, at), dtype=np.float32)
    spans: list[list[tuple[float, float]]] = [[], []]
    for who, start, turn in placed:
        tracks[who, start : start + len(turn)] += gains[who] * turn
        spans[who].append((start / SAMPLE_RATE, (start + len(turn)) / SAMPLE_RATE))
    return tracks[0], tracks[1], spans[0], spans[1]


def _delayed(track: np.ndarray, samples: int) -> np.ndarray:
    out = np.zeros_like(track)
    out[samples:] = track[: len(track) - samples]
    return out


def _line(rng: np.random.Generator) -> dict:
    """A drawn telephone line: codec, noise and SNR."""
    return {
        "codec": "ulaw" if rng.random() < 0.5 else "gsm",
        "noise": "white" if rng.random() < 0.5 else "pink",
        "snr_db": round(float(rng.uniform(*_SNR_DB)), 1),
    }


def _telephone(
    audio: np.ndarray,
    speech: list[tuple[float, float]],
    path: Path,
    rng: np.random.Generator,
    line: dict,
) -> np.ndarray:
    """`audio` (16 kHz) through the telephone `line` to `path`; the decoded samples (8 kHz)."""
    write_noisy(
        audio,
        speech,
        path,
        rng,
        codec=line["codec"],
        band_limit=True,
        kind=line["noise"],
        snr_db=line["snr_db"],
    )
    decoded, _ = sf.read(path, dtype="float32")
    return decoded


def dual_channel_call(
    rep: RepSpec,
    index: int,
    condition: str,
    folder: Path,
    seed: int = 0,
) -> BuiltCall:
    """The rep's `index`-th learning call: the rep's learning pieces (in a drawn order, then
    again in another until `LEARN_CALL_REP_S` seconds) on a drawn channel, a learning customer
    on the other, each leaking into the other.

    ``drawn["rep_channel"]`` is the rep's channel; `BuiltCall.audio` is (2, n) samples.
    """
    name = f"{rep.name}-learn-{condition}-{index}"
    rng = _rng(name, seed)
    learn, _ = rep_pieces(rep)
    customer = rep.learn_customers[index % len(rep.learn_customers)]
    rep_track, customer_track, rep_spans, customer_spans = _conversation(
        learn, customer_pieces(customer), rng, LEARN_CALL_REP_S, repeat=True
    )
    leak = 10 ** (rng.uniform(*_LEAK_DB) / 20)
    delay = int(rng.uniform(*_DELAY_MS) * SAMPLE_RATE / 1000)
    rep_side = rep_track + leak * _delayed(customer_track, delay)
    customer_side = customer_track + leak * _delayed(rep_track, delay)
    rep_channel = int(rng.integers(2))
    drawn: dict = {"rep_channel": rep_channel, "leak_db": round(float(20 * np.log10(leak)), 1)}
    rate = SAMPLE_RATE
    if condition == "telephone":
        folder.mkdir(parents=True, exist_ok=True)
        line = _line(rng)  # one line for both sides (a GSM file is padded to whole frames)
        rep_side = _telephone(rep_side, rep_spans, folder / f"{name}-rep.wav", rng, line)
        customer_side = _telephone(
            customer_side, customer_spans, folder / f"{name}-customer.wav", rng, line
        )
        n = min(len(rep_side), len(customer_side))
        rep_side, customer_side = rep_side[:n], customer_side[:n]
        drawn.update(line)
        rate = 8000
    elif condition != "clean":
        raise ValueError(f"unknown condition {condition!r}; known: {', '.join(CONDITIONS)}")
    sides = [rep_side, customer_side] if rep_channel == 0 else [customer_side, rep_side]
    audio = np.stack(sides).astype(np.float32)
    return BuiltCall(name, audio, rate, rep_spans, customer, drawn)


def mono_call(
    rep: RepSpec,
    index: int,
    condition: str,
    folder: Path,
    seed: int = 0,
    rep_speech_s: float = 10.0,
) -> BuiltCall:
    """The rep's `index`-th mono test call, written to a file in `folder`: held-out pieces of
    the rep (a drawn order, up to `rep_speech_s`) taking turns with a test customer (customers
    in turn, so the same customer comes back with another order)."""
    name = f"{rep.name}-mono-{condition}-{index}"
    rng = _rng(name, seed)
    _, held_out = rep_pieces(rep)
    customer = rep.test_customers[index % len(rep.test_customers)]
    rep_track, customer_track, rep_spans, customer_spans = _conversation(
        held_out, customer_pieces(customer), rng, rep_speech_s
    )
    mix = rep_track + customer_track
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.wav"
    if condition == "telephone":
        line = _line(rng)
        _telephone(mix, sorted(rep_spans + customer_spans), path, rng, line)
        return BuiltCall(name, path, 8000, rep_spans, customer, line)
    if condition != "clean":
        raise ValueError(f"unknown condition {condition!r}; known: {', '.join(CONDITIONS)}")
    peak = float(np.max(np.abs(mix))) or 1.0
    sf.write(path, (mix * (0.7 / peak)).astype(np.float32), SAMPLE_RATE, "PCM_16")
    return BuiltCall(name, path, SAMPLE_RATE, rep_spans, customer, {})
