"""Voices for generated calls: pools of single-speaker utterances with exact speech spans.

A voice is either a real speaker (turns cut from a real recording where no one else talks)
or a text-to-speech voice (Debian's ``espeak-ng`` or ``flite``). Every utterance carries the
spans of its speech (seconds from the start of the clip), so a call built from utterances has
an exact reference.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from benchmarks.data import texts
from benchmarks.data.sources import RealRecording, solo_regions

__all__ = [
    "SAMPLE_RATE",
    "TtsVoice",
    "Utterance",
    "VoicePool",
    "real_voice",
    "speech_spans",
    "split_long",
    "tts_available",
    "tts_voice",
]

SAMPLE_RATE = 16000
_FRAME_S = 0.01
_FADE_S = 0.005
_MAX_REAL_UTTERANCE_S = 8.0  # longer solo turns are cut, so that no voice monologues a call
_CUT_SEARCH_S = 3.0  # a cut goes at the quietest frame of the last seconds before that limit


@dataclass(frozen=True)
class Utterance:
    """A clip of one speaker (16 kHz float32) and its speech spans ``[(start_s, end_s)]``."""

    audio: np.ndarray
    spans: tuple[tuple[float, float], ...]

    @property
    def duration_s(self) -> float:
        """Length of the clip."""
        return len(self.audio) / SAMPLE_RATE


@dataclass
class VoicePool:
    """Everything one voice can say: turns, backchannels and held-out enrolment speech."""

    name: str
    kind: str  # "real" or "tts"
    utterances: list[Utterance]
    backchannels: list[Utterance] = field(default_factory=list)
    enrolment: list[Utterance] = field(default_factory=list)


@dataclass(frozen=True)
class TtsVoice:
    """A TTS voice: ``engine`` is ``"espeak-ng"`` or ``"flite"``; ``args`` select the voice."""

    name: str
    engine: str
    args: tuple[str, ...]


TTS_VOICES: dict[str, TtsVoice] = {
    v.name: v
    for v in (
        TtsVoice("flite-slt", "flite", ("-voice", "slt")),
        TtsVoice("flite-rms", "flite", ("-voice", "rms")),
        TtsVoice("flite-awb", "flite", ("-voice", "awb")),
        TtsVoice("flite-kal16", "flite", ("-voice", "kal16")),
        TtsVoice("espeak-us-m3", "espeak-ng", ("-v", "en-us+m3", "-p", "35", "-s", "160")),
        TtsVoice("espeak-gb-f2", "espeak-ng", ("-v", "en-gb+f2", "-p", "70", "-s", "170")),
        TtsVoice("espeak-029-f4", "espeak-ng", ("-v", "en-029+f4", "-p", "55", "-s", "150")),
        TtsVoice("espeak-rp-m1", "espeak-ng", ("-v", "en-gb-x-rp+m1", "-p", "45", "-s", "175")),
    )
}


def tts_available(engine: str) -> bool:
    """Whether the TTS program ``engine`` (``espeak-ng`` or ``flite``) is installed."""
    return shutil.which(engine) is not None


def speech_spans(
    audio: np.ndarray, threshold_db: float = -40.0, min_gap_s: float = 0.3
) -> list[tuple[float, float]]:
    """Speech spans of a clean clip: 10 ms frames louder than ``threshold_db`` below the
    loudest frame, with gaps shorter than ``min_gap_s`` bridged.

    Only meant for clean synthetic speech, where silence is (near) digital zero.
    """
    power = _frame_power(audio)
    if power.size == 0:
        return []
    level_db = 10 * np.log10(power + 1e-20)
    active = level_db > level_db.max() + threshold_db
    spans: list[list[float]] = []
    for index in np.flatnonzero(active):
        start_s, end_s = index * _FRAME_S, (index + 1) * _FRAME_S
        if spans and start_s - spans[-1][1] < min_gap_s:
            spans[-1][1] = end_s
        else:
            spans.append([start_s, end_s])
    return [(round(s, 3), round(e, 3)) for s, e in spans]


def _frame_power(audio: np.ndarray) -> np.ndarray:
    """Mean power of each whole 10 ms frame of `audio`; shape (n_frames,)."""
    hop = int(_FRAME_S * SAMPLE_RATE)
    n_frames = len(audio) // hop
    frames = audio[: n_frames * hop].reshape(n_frames, hop)
    return np.mean(frames.astype(np.float64) ** 2, axis=1)


def _trimmed(audio: np.ndarray) -> Utterance | None:
    spans = speech_spans(audio)
    if not spans:
        return None
    first, last = spans[0][0], spans[-1][1]
    clip = audio[int(round(first * SAMPLE_RATE)) : int(round(last * SAMPLE_RATE))]
    clip = _faded(_normalised(clip))
    shifted = tuple((round(s - first, 3), round(e - first, 3)) for s, e in spans)
    return Utterance(clip.astype(np.float32), shifted)


def _normalised(clip: np.ndarray, target_dbfs: float = -20.0) -> np.ndarray:
    rms = float(np.sqrt(np.mean(clip.astype(np.float64) ** 2))) or 1.0
    return clip * (10 ** (target_dbfs / 20) / rms)


def _faded(clip: np.ndarray) -> np.ndarray:
    n = min(int(_FADE_S * SAMPLE_RATE), len(clip) // 2)
    if n > 0:
        ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
        clip = clip.copy()
        clip[:n] *= ramp
        clip[-n:] *= ramp[::-1]
    return clip


def _synthesise(voice: TtsVoice, text: str, workdir: Path) -> np.ndarray:
    out = workdir / "tts.wav"
    if voice.engine == "flite":
        command = ["flite", *voice.args, "-t", text, "-o", str(out)]
    else:
        command = ["espeak-ng", *voice.args, "-w", str(out), text]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    audio, rate = sf.read(out, dtype="float32", always_2d=False)
    if rate != SAMPLE_RATE:
        audio = soxr.resample(audio, rate, SAMPLE_RATE)
    return audio.astype(np.float32)


def tts_voice(name: str, cache_dir: Path) -> VoicePool | None:
    """Synthesise (or load from ``cache_dir``) the pool of TTS voice ``name``.

    Returns ``None`` when the voice's TTS program is not installed.
    """
    voice = TTS_VOICES[name]
    if not tts_available(voice.engine):
        return None
    key = hashlib.sha1(repr((voice, texts.SENTENCES, texts.BACKCHANNELS, texts.ENROLMENT)).encode())
    cached = cache_dir / f"{name}-{key.hexdigest()[:10]}.npz"
    groups = {"utt": texts.SENTENCES, "bc": texts.BACKCHANNELS, "enr": texts.ENROLMENT}
    if not cached.exists():
        clips: dict[str, list[Utterance]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for group, lines in groups.items():
                made = (_trimmed(_synthesise(voice, line, Path(tmp))) for line in lines)
                clips[group] = [u for u in made if u is not None]
        cache_dir.mkdir(parents=True, exist_ok=True)
        _save_pool(cached, clips)
    clips = _load_pool(cached)
    return VoicePool(name, "tts", clips["utt"], clips["bc"], clips["enr"])


def real_voice(name: str, recordings: list[RealRecording], speaker: str) -> VoicePool:
    """The solo turns of ``speaker`` in ``recordings`` as a voice pool.

    Turns longer than 8 s are cut into pieces (see `split_long`); pieces shorter than 1.2 s
    become backchannels; nothing is held out for enrolment.
    """
    utterances: list[Utterance] = []
    backchannels: list[Utterance] = []
    for recording in recordings:
        turns = [t for t in recording.turns]
        mine = [t for t in solo_regions(turns, 0.4) if t.speaker == speaker]
        if not mine:
            continue
        audio, rate = sf.read(recording.audio, dtype="float32", always_2d=True)
        audio = audio.mean(axis=1)
        if rate != SAMPLE_RATE:
            audio = soxr.resample(audio, rate, SAMPLE_RATE)
        for turn in mine:
            turn_audio = audio[
                int(round(turn.start_s * SAMPLE_RATE)) : int(round(turn.end_s * SAMPLE_RATE))
            ]
            for clip in split_long(turn_audio, _MAX_REAL_UTTERANCE_S):
                utterance = Utterance(
                    _faded(_normalised(clip)).astype(np.float32),
                    ((0.0, round(len(clip) / SAMPLE_RATE, 3)),),
                )
                (backchannels if len(clip) < 1.2 * SAMPLE_RATE else utterances).append(utterance)
    if not utterances:
        raise ValueError(f"no solo speech of {speaker!r} in the given recordings")
    return VoicePool(name, "real", utterances, backchannels, [])


def split_long(clip: np.ndarray, max_s: float) -> list[np.ndarray]:
    """`clip` cut into pieces of at most `max_s` seconds, each cut at the quietest 10 ms frame
    of the last `_CUT_SEARCH_S` seconds before the limit (a pause between words, if any)."""
    limit = int(max_s * SAMPLE_RATE)
    hop = int(_FRAME_S * SAMPLE_RATE)
    search = int(_CUT_SEARCH_S * SAMPLE_RATE) // hop
    pieces = []
    while len(clip) > limit:
        quietest = int(np.argmin(_frame_power(clip[limit - search * hop : limit])))
        cut = limit - (search - quietest) * hop + hop // 2
        pieces.append(clip[:cut])
        clip = clip[cut:]
    return pieces + [clip]


def _save_pool(path: Path, clips: dict[str, list[Utterance]]) -> None:
    arrays: dict[str, np.ndarray] = {}
    for group, items in clips.items():
        arrays[f"{group}_audio"] = (
            np.concatenate([u.audio for u in items]) if items else np.zeros(0, np.float32)
        )
        arrays[f"{group}_lengths"] = np.array([len(u.audio) for u in items], dtype=np.int64)
        arrays[f"{group}_spans"] = np.array(
            [[i, s, e] for i, u in enumerate(items) for s, e in u.spans], dtype=np.float64
        ).reshape(-1, 3)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)


def _load_pool(path: Path) -> dict[str, list[Utterance]]:
    data = np.load(path)
    clips: dict[str, list[Utterance]] = {}
    for group in ("utt", "bc", "enr"):
        audio, lengths, spans = (
            data[f"{group}_audio"],
            data[f"{group}_lengths"],
            data[f"{group}_spans"],
        )
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        items = []
        for i in range(len(lengths)):
            mine = tuple((float(s), float(e)) for j, s, e in spans if int(j) == i)
            items.append(Utterance(audio[offsets[i] : offsets[i + 1]].copy(), mine))
        clips[group] = items
    return clips
