"""Voiceprints: one stored CAM++ embedding per party key (a Gong userId or an e-mail address).

``gong-diarize enroll`` writes them; diarization compares them with the voices it finds. The
store is a folder of small JSON files (default: a per-user data folder from platformdirs), one
per key, named by a hash of the key so that any e-mail address makes a safe file name. The
embedding model is recorded with each print: prints are only compared with embeddings of the
same model.

A telephone line changes how a voice embeds (8 kHz, 300-3400 Hz, codec): a rep enrolled from a
headset matched their own telephone call at cosine 0.46-0.70, other voices at up to 0.31. So
each print also keeps a *narrowband* embedding of the same speech passed through a telephone
band, and narrowband recordings are compared with that one (0.72-0.89 for the same voices).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import platformdirs
import soxr
from scipy.optimize import linear_sum_assignment
from scipy.signal import butter, sosfilt

from diarize.audio import AudioSource, open_audio
from diarize.errors import AudioLoadError, ConfigError

if TYPE_CHECKING:
    from diarize.diarizer import Diarizer

__all__ = [
    "EMBEDDING_MODEL",
    "MIN_ENROLL_SPEECH_S",
    "Voiceprint",
    "VoiceprintStore",
    "default_store_dir",
    "enroll",
    "is_narrowband",
    "match_voiceprints",
    "party_keys",
    "telephone_band",
]

EMBEDDING_MODEL = "campplus-192"
"""Name recorded with each voiceprint: the embedding space it lives in."""

MIN_ENROLL_SPEECH_S = 3.0
"""Least speech (summed over the files) that makes a voiceprint."""

NARROWBAND_RATE = 8000
"""Recordings at or below this sample rate are compared with the narrowband prints."""

_FORMAT = 1
log = logging.getLogger(__name__)


def default_store_dir() -> Path:
    """The per-user voiceprint folder (e.g. ``~/.local/share/gong-diarize/voiceprints``)."""
    return Path(platformdirs.user_data_dir("gong-diarize", appauthor=False)) / "voiceprints"


def party_keys(party: dict) -> list[str]:
    """The keys a party can be enrolled under: its ``userId``, then its ``emailAddress``."""
    keys = [party.get("userId"), party.get("emailAddress")]
    return [_normalise(k) for k in keys if isinstance(k, str) and k.strip()]


def _normalise(key: str) -> str:
    key = key.strip()
    return key.lower() if "@" in key else key


@dataclass(frozen=True)
class Voiceprint:
    """One enrolled voice.

    Attributes
    ----------
    party_key
        The userId or e-mail address it was enrolled under (e-mails lower-cased).
    embedding
        Unit-norm float32 vector.
    model
        Embedding space (`EMBEDDING_MODEL`).
    speech_s
        Seconds of speech it was computed from.
    sources
        Names (not paths) of the enrolment files.
    created
        ISO-8601 time of enrolment.
    narrowband
        Unit-norm embedding of the same speech through a telephone band (None in prints
        written before it existed).
    """

    party_key: str
    embedding: np.ndarray
    model: str
    speech_s: float
    sources: tuple[str, ...]
    created: str
    narrowband: np.ndarray | None = None

    def for_recording(self, narrowband: bool) -> np.ndarray:
        """The embedding to compare with a recording, narrowband (telephone) or not."""
        return self.narrowband if narrowband and self.narrowband is not None else self.embedding

    def to_dict(self) -> dict:
        data = {
            "format": _FORMAT,
            "partyKey": self.party_key,
            "model": self.model,
            "speechSeconds": round(self.speech_s, 2),
            "sources": list(self.sources),
            "created": self.created,
            "embedding": _rounded(self.embedding),
        }
        if self.narrowband is not None:
            data["narrowbandEmbedding"] = _rounded(self.narrowband)
        return data

    @classmethod
    def from_dict(cls, data: dict, where: str) -> Voiceprint:
        try:
            narrowband = data.get("narrowbandEmbedding")
            return cls(
                party_key=str(data["partyKey"]),
                embedding=_unit_vector(data["embedding"]),
                model=str(data["model"]),
                speech_s=float(data["speechSeconds"]),
                sources=tuple(str(s) for s in data.get("sources", [])),
                created=str(data.get("created", "")),
                narrowband=None if narrowband is None else _unit_vector(narrowband),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: not a valid voiceprint ({exc})") from exc


def _rounded(vector: np.ndarray) -> list[float]:
    return [round(float(x), 7) for x in vector]


def _unit_vector(values: object) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    if vector.ndim != 1 or not np.all(np.isfinite(vector)) or not np.any(vector):
        raise ValueError("embedding is not a finite non-zero vector")
    return vector / np.linalg.norm(vector)


def is_narrowband(source: AudioSource) -> bool:
    """Whether a recording is telephone-band, to be compared with the narrowband prints."""
    return source.info.sample_rate <= NARROWBAND_RATE


def telephone_band(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono `samples` as a telephone line carries them: 8 kHz, 300-3400 Hz, back at the
    input rate (the codec is not simulated)."""
    narrow = soxr.resample(samples, sample_rate, NARROWBAND_RATE)
    band = butter(4, (300, 3400), btype="bandpass", fs=NARROWBAND_RATE, output="sos")
    return soxr.resample(sosfilt(band, narrow), NARROWBAND_RATE, sample_rate).astype(np.float32)


class VoiceprintStore:
    """A folder of voiceprints, one JSON file per party key.

    Parameters
    ----------
    directory
        The folder (created on first save); default `default_store_dir`.
    """

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_store_dir()

    def __repr__(self) -> str:
        return f"VoiceprintStore({str(self.directory)!r})"

    def path_for(self, party_key: str) -> Path:
        """Where the print of `party_key` is (or would be) stored."""
        digest = hashlib.sha256(_normalise(party_key).encode("utf-8")).hexdigest()[:24]
        return self.directory / f"{digest}.json"

    def save(self, print_: Voiceprint) -> Path:
        """Write a voiceprint atomically, replacing an earlier one of the same key."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path_for(print_.party_key)
        handle, temporary = tempfile.mkstemp(prefix=".vp.", dir=self.directory)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(print_.to_dict(), stream)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path

    def load(self, party_key: str) -> Voiceprint | None:
        """The print of `party_key`, or None when it was never enrolled.

        Raises
        ------
        ConfigError
            When the stored file is unreadable or malformed.
        """
        path = self.path_for(party_key)
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read voiceprint ({exc})") from exc
        print_ = Voiceprint.from_dict(data, str(path))
        if print_.party_key != _normalise(party_key):
            raise ConfigError(f"{path}: holds another key's voiceprint")
        return print_

    def find(self, party: dict, model: str = EMBEDDING_MODEL) -> Voiceprint | None:
        """The print of a call party (by userId, then e-mail) in embedding space `model`."""
        for key in party_keys(party):
            print_ = self.load(key)
            if print_ is not None and print_.model == model:
                return print_
        return None


def match_voiceprints(
    speakers: dict[str, np.ndarray], prints: dict[str, np.ndarray], threshold: float
) -> list[tuple[str, str, float]]:
    """Assign speakers to enrolled parties by best total cosine similarity (Hungarian).

    Parameters
    ----------
    speakers
        Speaker label -> unit-norm embedding.
    prints
        Party id -> unit-norm voiceprint.
    threshold
        Least cosine similarity for a pair to count.

    Returns
    -------
    list of (speaker label, party id, similarity)
        Only pairs at or above `threshold`; each speaker and each party at most once.
    """
    labels, party_ids = list(speakers), list(prints)
    if not labels or not party_ids:
        return []
    similarity = (
        np.stack([speakers[s] for s in labels]) @ np.stack([prints[p] for p in party_ids]).T
    )
    # shape: (speakers, parties)
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    return [
        (labels[r], party_ids[c], float(similarity[r, c]))
        for r, c in zip(rows, cols, strict=True)
        if similarity[r, c] >= threshold
    ]


def enroll(
    party_key: str,
    audio_paths: list[str | Path],
    store_dir: Path | None = None,
    *,
    diarizer: Diarizer | None = None,
) -> Path:
    """Store a voiceprint for a party key from recordings of that person's voice.

    Each file is diarized; the voice that speaks most in it is taken as the party's (so a
    file should hold mostly that person), and the files' embeddings are averaged weighted by
    their speech.

    Parameters
    ----------
    party_key
        A Gong userId or e-mail address.
    audio_paths
        One or more recordings.
    store_dir
        The voiceprint folder; default `default_store_dir`.
    diarizer
        A loaded `diarize.diarizer.Diarizer` (default: the offline one, on the CPU or CUDA).

    Returns
    -------
    Path
        The voiceprint file written.

    Raises
    ------
    AudioLoadError
        For an unreadable file, or too little speech in all of them.
    """
    from diarize.diarizer import get_diarizer
    from diarize.speakers import SAMPLE_RATE, embed_speech

    if not party_key or not party_key.strip():
        raise ValueError("party_key must be a userId or an e-mail address")
    if not audio_paths:
        raise ValueError("enroll needs at least one recording")
    diarizer = diarizer or get_diarizer()
    wide = narrow = 0.0  # speech-weighted sums of unit embeddings
    speech_s = 0.0
    for path in audio_paths:
        mono = open_audio(path).read(SAMPLE_RATE).mean(axis=0)  # enrolment clips are short
        turns = diarizer.speakers(open_audio(mono, SAMPLE_RATE))
        label = turns.dominant()
        if label is None:
            log.warning("%s: no voice long enough to enrol; skipped", path)
            continue
        vector, seconds = turns.embeddings[label], turns.speech_s[label]
        # the same turns of the same voice, as a telephone line would carry them
        narrow_vector, _ = embed_speech(
            diarizer.embedder, telephone_band(mono, SAMPLE_RATE), turns.spans_of(label)
        )
        if narrow_vector is None:  # the band cut too much: fall back on the full-band voice
            narrow_vector = vector
        wide = wide + vector * seconds
        narrow = narrow + narrow_vector * seconds
        speech_s += seconds
    if speech_s < MIN_ENROLL_SPEECH_S:
        raise AudioLoadError(
            str(audio_paths[0]) if len(audio_paths) == 1 else f"{len(audio_paths)} files",
            f"only {speech_s:.1f} s of speech found; enrolment needs at least "
            f"{MIN_ENROLL_SPEECH_S:.0f} s of the party's voice",
        )
    print_ = Voiceprint(
        party_key=_normalise(party_key),
        embedding=_unit_vector(wide),
        model=EMBEDDING_MODEL,
        speech_s=speech_s,
        sources=tuple(Path(p).name for p in audio_paths),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        narrowband=_unit_vector(narrow),
    )
    return VoiceprintStore(store_dir).save(print_)
