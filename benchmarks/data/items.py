"""Benchmark items: one recording, its exact reference, its call JSON; built once and cached.

An `ItemSpec` says what to build (deterministic from its id and seed); `build_item` builds it
under ``benchmarks/cache/items/<id>/`` (or reuses what is there) and returns a `BenchItem`.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from benchmarks.data import sources
from benchmarks.data.calls import call_json
from benchmarks.data.conditions import parse_noise, write_condition, write_noisy
from benchmarks.data.conversation import Party, generate_conversation
from benchmarks.data.voices import SAMPLE_RATE, VoicePool, real_voice, tts_voice
from benchmarks.rttm import Turn, format_rttm, read_rttm

__all__ = ["BUILD_VERSION", "BenchItem", "ItemSpec", "Skipped", "build_item", "load_reference"]

BUILD_VERSION = 2  # 2: real solo turns longer than 8 s are cut into pieces
CACHE_DIR = Path(__file__).resolve().parents[1] / "cache"


@dataclass(frozen=True)
class ItemSpec:
    """What to build. ``voices`` are ``"tts:<voice>"`` or ``"real:<speaker label>"`` (the
    first is the rep); ``real_uri`` names a real recording used as is."""

    item_id: str
    condition: str
    voices: tuple[str, ...] = ()
    duration_s: float = 0.0
    real_uri: str | None = None
    seed: int = 0
    codec: str | None = None  # telephony: "ulaw" or "gsm" (drawn when None)

    def key(self) -> str:
        """A hash of the spec and the builder version: a cached build is reused only on a match."""
        return hashlib.sha1(repr((BUILD_VERSION, self)).encode()).hexdigest()[:16]


@dataclass
class BenchItem:
    """A built item, as the runner and the systems see it (all paths absolute)."""

    item_id: str
    condition: str
    source: str
    audio: str
    rttm: str
    call: str
    duration_s: float
    channels: int
    sample_rate: int
    party_ids: list[str]
    rep_party_id: str
    rep_channel: int | None = None
    uem: tuple[float, float] | None = None
    enrolment: dict[str, str] = field(default_factory=dict)
    params: dict = field(default_factory=dict)

    @property
    def n_speakers(self) -> int:
        """How many parties speak in the reference."""
        return len(self.party_ids)

    def to_dict(self) -> dict:
        """JSON-ready fields (``item.json``, worker jobs, result files)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> BenchItem:
        """The item `to_dict` wrote."""
        data = dict(data)
        if data.get("uem") is not None:
            data["uem"] = tuple(data["uem"])
        return cls(**data)


class Skipped(Exception):
    """The item cannot be built here (missing data or TTS program); the message says why."""


def load_reference(item: BenchItem) -> list[Turn]:
    """The reference segments of a built item (labels are party ids)."""
    turns = read_rttm(Path(item.rttm))
    return [Turn(t.start_s, t.end_s, t.speaker) for ts in turns.values() for t in ts]


def build_item(spec: ItemSpec, cache_dir: Path = CACHE_DIR) -> BenchItem:
    """Build ``spec`` under ``cache_dir`` (reusing a complete earlier build).

    Raises
    ------
    Skipped
        The evaluation data or a TTS program the item needs is absent.
    """
    folder = cache_dir / "items" / spec.item_id
    manifest = folder / "item.json"
    if manifest.exists():
        stored = json.loads(manifest.read_text(encoding="utf-8"))
        if stored.get("key") == spec.key():
            return BenchItem.from_dict(stored["item"])
    folder.mkdir(parents=True, exist_ok=True)
    if spec.condition.startswith("noise-"):
        item = _build_noisy(spec, folder, cache_dir)
    elif spec.real_uri is not None:
        item = _build_real(spec, folder)
    else:
        item = _build_generated(spec, folder, cache_dir)
    tmp = manifest.with_suffix(".tmp")
    tmp.write_text(json.dumps({"key": spec.key(), "item": item.to_dict()}, indent=1), "utf-8")
    tmp.replace(manifest)
    return item


def _real_recordings() -> list[sources.RealRecording]:
    return [sources.pyannote_sample(), *sources.evaldata_recordings()]


def _build_real(spec: ItemSpec, folder: Path) -> BenchItem:
    recording = next((r for r in _real_recordings() if r.uri == spec.real_uri), None)
    if recording is None:
        raise Skipped(f"recording {spec.real_uri!r} not found (is ../shared/evaldata present?)")
    labels = list(dict.fromkeys(t.speaker for t in recording.turns))
    ids = _unique_ids(labels)
    reference = [Turn(t.start_s, t.end_s, ids[t.speaker]) for t in recording.turns]
    info = sf.info(str(recording.audio))
    party_ids = list(dict.fromkeys(ids.values()))
    return _finish(
        spec,
        folder,
        source=recording.source,
        audio=recording.audio,
        reference=reference,
        party_ids=party_ids,
        duration_s=info.frames / info.samplerate,
        params={"channels": info.channels, "sample_rate": info.samplerate},
        uem=recording.uem,
    )


def _unique_ids(labels: list[str]) -> dict[str, str]:
    ids: dict[str, str] = {}
    for label in labels:
        candidate, n = sources.party_id_for(label), 2
        while candidate in ids.values():
            candidate, n = f"{sources.party_id_for(label)}-{n}", n + 1
        ids[label] = candidate
    return ids


def _voice(key: str, cache_dir: Path) -> VoicePool:
    kind, _, name = key.partition(":")
    if kind == "tts":
        pool = tts_voice(name, cache_dir / "voices")
        if pool is None:
            raise Skipped(f"TTS voice {name!r} needs espeak-ng/flite (see scripts/setup.sh)")
        return pool
    having = [r for r in _real_recordings() if any(t.speaker == name for t in r.turns)]
    if not having:
        raise Skipped(f"real speaker {name!r} not found (is ../shared/evaldata present?)")
    return real_voice(name, having, name)


def _build_generated(spec: ItemSpec, folder: Path, cache_dir: Path) -> BenchItem:
    pools = [_voice(key, cache_dir) for key in spec.voices]
    party_ids = ["rep"] + [f"customer-{i}" for i in range(1, len(pools))]
    pairs = zip(party_ids, pools, strict=True)
    parties = [Party(pid, i == 0, pool) for i, (pid, pool) in enumerate(pairs)]
    seed = zlib.crc32(spec.item_id.encode()) ^ spec.seed
    conversation = generate_conversation(parties, spec.duration_s, seed)
    rng = np.random.default_rng(seed + 1)
    params = write_condition(
        conversation, _condition_kind(spec.condition), folder / "audio.wav", rng, spec.codec
    )
    enrolment = _write_enrolment(parties, folder)
    source = "generated-tts" if all(p.voice.kind == "tts" for p in parties) else "generated-real"
    return _finish(
        spec,
        folder,
        source=source,
        audio=folder / "audio.wav",
        reference=conversation.reference,
        party_ids=party_ids,
        duration_s=conversation.duration_s,
        params=params,
        enrolment=enrolment,
    )


def noise_base_id(item_id: str) -> str:
    """The call a noise-suite item renders: ``sample@noise-pink-14dB`` -> ``sample``. Every
    condition of one call has the same conversation (its seed comes from this id)."""
    return item_id.split("@")[0]


def _build_noisy(spec: ItemSpec, folder: Path, cache_dir: Path) -> BenchItem:
    """A noise-suite item: a real recording or a generated call through its line (see
    `benchmarks.data.conditions.write_noisy`), clean or with one noise at one SNR."""
    kind, snr_db = parse_noise(spec.condition)
    seed = zlib.crc32(spec.item_id.encode()) ^ spec.seed
    if spec.real_uri is not None:
        recording = next((r for r in _real_recordings() if r.uri == spec.real_uri), None)
        if recording is None:
            raise Skipped(f"recording {spec.real_uri!r} not found (is ../shared/evaldata present?)")
        audio, rate = sf.read(str(recording.audio), dtype="float32", always_2d=True)
        audio = audio.mean(axis=1)
        if rate != SAMPLE_RATE:
            audio = soxr.resample(audio, rate, SAMPLE_RATE)
        labels = list(dict.fromkeys(t.speaker for t in recording.turns))
        ids = _unique_ids(labels)
        reference = [Turn(t.start_s, t.end_s, ids[t.speaker]) for t in recording.turns]
        party_ids, source, uem, enrolment = (
            list(dict.fromkeys(ids.values())),
            recording.source,
            recording.uem,
            {},
        )
        duration_s, own_voices = len(audio) / SAMPLE_RATE, set(labels)
    else:
        pools = [_voice(key, cache_dir) for key in spec.voices]
        party_ids = ["rep"] + [f"customer-{i}" for i in range(1, len(pools))]
        parties = [
            Party(pid, i == 0, pool)
            for i, (pid, pool) in enumerate(zip(party_ids, pools, strict=True))
        ]
        base_seed = zlib.crc32(noise_base_id(spec.item_id).encode()) ^ spec.seed
        conversation = generate_conversation(parties, spec.duration_s, base_seed)
        audio, reference, uem = conversation.mix(), conversation.reference, None
        duration_s, enrolment = conversation.duration_s, _write_enrolment(parties, folder)
        source = (
            "generated-tts" if all(p.voice.kind == "tts" for p in parties) else "generated-real"
        )
        own_voices = {key.partition(":")[2] for key in spec.voices}
    talkers = _babble_talkers(own_voices) if kind == "babble" else None
    params = write_noisy(
        audio,
        [(t.start_s, t.end_s) for t in reference],
        folder / "audio.wav",
        np.random.default_rng(seed + 1),
        codec=spec.codec,
        band_limit=spec.real_uri is None,
        kind=kind,
        snr_db=snr_db,
        talkers=talkers,
    )
    return _finish(
        spec,
        folder,
        source=source,
        audio=folder / "audio.wav",
        reference=reference,
        party_ids=party_ids,
        duration_s=duration_s,
        params=params,
        uem=uem,
        enrolment=enrolment,
    )


def _babble_talkers(exclude: set[str]) -> list[np.ndarray]:
    """Solo speech (16 kHz) of every real speaker the benchmark has but those of `exclude`."""
    recordings = _real_recordings()
    clips: list[np.ndarray] = []
    for name in sorted({t.speaker for r in recordings for t in r.turns} - exclude):
        having = [r for r in recordings if any(t.speaker == name for t in r.turns)]
        try:
            clips += [u.audio for u in real_voice(name, having, name).utterances]
        except ValueError:  # never speaks alone
            continue
    if not clips:
        raise Skipped("babble needs real voices besides the call's own (../shared/evaldata)")
    return clips


def _condition_kind(condition: str) -> str:
    """``long-stereo`` renders like ``stereo``, ``long-telephony`` like ``telephony``."""
    return condition.removeprefix("long-")


def _write_enrolment(parties: list[Party], folder: Path) -> dict[str, str]:
    written: dict[str, str] = {}
    pause = np.zeros(int(0.3 * SAMPLE_RATE), dtype=np.float32)
    for party in parties:
        clips = party.voice.enrolment
        if not clips:
            continue
        audio = np.concatenate([part for clip in clips for part in (clip.audio, pause)])
        path = folder / f"enrol-{party.party_id}.wav"
        sf.write(path, 0.5 * audio / (np.max(np.abs(audio)) or 1.0), SAMPLE_RATE, "PCM_16")
        written[party.party_id] = str(path)
    return written


def _finish(
    spec: ItemSpec,
    folder: Path,
    *,
    source,
    audio,
    reference,
    party_ids,
    duration_s,
    params,
    uem=None,
    enrolment=None,
) -> BenchItem:
    rep_channel = params.get("rep_channel")
    call = call_json(spec.item_id, party_ids, party_ids[0], rep_channel, duration_s)
    (folder / "call.json").write_text(json.dumps(call, indent=1), encoding="utf-8")
    (folder / "reference.rttm").write_text(format_rttm(reference, spec.item_id), encoding="utf-8")
    return BenchItem(
        item_id=spec.item_id,
        condition=spec.condition,
        source=source,
        audio=str(Path(audio).resolve()),
        rttm=str((folder / "reference.rttm").resolve()),
        call=str((folder / "call.json").resolve()),
        duration_s=round(duration_s, 3),
        channels=int(params["channels"]),
        sample_rate=int(params["sample_rate"]),
        party_ids=party_ids,
        rep_party_id=party_ids[0],
        rep_channel=rep_channel,
        uem=tuple(uem) if uem else None,
        enrolment=enrolment or {},
        params=params,
    )
