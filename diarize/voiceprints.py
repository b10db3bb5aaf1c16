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

Prints are also *learned* (`diarize.learning`): each dual-channel call whose rep is known adds
the rep channel's speech to a running, speech-weighted aggregate, and the print keeps what it
was learned from (calls, seconds, band, model version).

Voiceprints are biometric data. The store is private to its owner (folder 0700, files 0600),
shared safely by threads, processes and batch workers (every change is made under a file lock
and written atomically), and one file per key and embedding model (prints of another model are
never compared). Nothing here logs, prints or reprs an embedding.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import platformdirs
import soxr
from scipy.optimize import linear_sum_assignment

from diarize.audio import AudioSource, open_audio
from diarize.errors import AudioLoadError, ConfigError

if TYPE_CHECKING:
    from diarize.diarizer import Diarizer
    from diarize.options import ProgressHook

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
_EXPORT_FORMAT = 1
_HISTORY = 50  # learned calls listed in a print (the counts cover them all)
_LOCK_NAME = ".lock"
_thread_lock = threading.RLock()
log = logging.getLogger(__name__)

Band = Literal["wideband", "telephone"]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


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


@dataclass(frozen=True, repr=False)
class Voiceprint:
    """One voice: enrolled from samples, learned from calls, or both.

    Attributes
    ----------
    party_key
        The userId or e-mail address it belongs to (e-mails lower-cased).
    embedding
        Unit-norm float32 vector (full band).
    model
        Embedding space (`EMBEDDING_MODEL`).
    speech_s
        Seconds of full-band speech `embedding` was computed from (its weight).
    sources
        Names (not paths) of the enrolment files.
    created
        ISO-8601 time of enrolment or first learning.
    narrowband
        Unit-norm embedding of telephone-band speech (the enrolment speech through a telephone
        band, and telephone calls as they are); None in prints written before it existed.
    narrowband_s
        Seconds of speech behind `narrowband` (its weight).
    learned_calls
        Calls it was learned from (`diarize.learning`); 0 for a print only enrolled.
    learned_s
        Seconds of speech learned from those calls.
    history
        The last calls learned: ``{"call", "seconds", "band", "configVersion", "at"}`` each.
    updated
        ISO-8601 time of the last change.
    """

    party_key: str
    embedding: np.ndarray
    model: str
    speech_s: float
    sources: tuple[str, ...]
    created: str
    narrowband: np.ndarray | None = None
    narrowband_s: float | None = None
    learned_calls: int = 0
    learned_s: float = 0.0
    history: tuple[dict, ...] = field(default_factory=tuple)
    updated: str = ""

    def __repr__(self) -> str:  # biometric: never the vectors
        return (
            f"Voiceprint(party_key={self.party_key!r}, model={self.model!r}, "
            f"speech_s={self.speech_s:.1f}, learned_calls={self.learned_calls})"
        )

    def for_recording(self, narrowband: bool) -> np.ndarray:
        """The embedding to compare with a recording, narrowband (telephone) or not."""
        return self.narrowband if narrowband and self.narrowband is not None else self.embedding

    def bands(self) -> dict[str, int]:
        """How many of the listed learned calls were full band and how many telephone."""
        counts = {"wideband": 0, "telephone": 0}
        for entry in self.history:
            band = str(entry.get("band", "wideband"))
            counts[band] = counts.get(band, 0) + 1
        return counts

    def learned(
        self,
        vector: np.ndarray,
        narrow_vector: np.ndarray | None,
        seconds: float,
        band: Band,
        call: str,
        config_version: int | None = None,
    ) -> Voiceprint:
        """This print with one more call's speech added to its running aggregate.

        A full-band call adds `vector` to the full-band embedding and `narrow_vector` (the same
        speech through a telephone band) to the narrowband one; a telephone call adds `vector`
        to the narrowband embedding only (and stands in for the full-band one while there is
        none). Each is weighted by `seconds`.
        """
        narrow_s = self.narrowband_s if self.narrowband_s is not None else self.speech_s
        narrow_old = self.narrowband if self.narrowband is not None else self.embedding
        if band == "telephone":
            narrowband = _weighted(narrow_old, narrow_s, vector, seconds)
            narrow_s += seconds
            embedding, speech_s = self.embedding, self.speech_s
            if speech_s == 0.0:
                embedding = narrowband
        else:
            embedding = _weighted(self.embedding, self.speech_s, vector, seconds)
            speech_s = self.speech_s + seconds
            narrowband = _weighted(narrow_old, narrow_s, narrow_vector, seconds)
            narrow_s += seconds if narrow_vector is not None else 0.0
        entry = {
            "call": call,
            "seconds": round(seconds, 2),
            "band": band,
            "configVersion": config_version,
            "at": _now(),
        }
        return replace(
            self,
            embedding=embedding,
            speech_s=speech_s,
            narrowband=narrowband,
            narrowband_s=narrow_s,
            learned_calls=self.learned_calls + 1,
            learned_s=self.learned_s + seconds,
            history=(*self.history, entry)[-_HISTORY:],
            updated=entry["at"],
        )

    @classmethod
    def first_learned(cls, party_key: str, vector: np.ndarray, **learned) -> Voiceprint:
        """A print made from one call's speech (see `learned`)."""
        empty = cls(_normalise(party_key), _unit_vector(vector), EMBEDDING_MODEL, 0.0, (), _now())
        return replace(empty, narrowband_s=0.0).learned(vector, **learned)

    def provenance(self) -> dict:
        """What the print was made from, without the vectors (safe to show)."""
        return {
            "partyKey": self.party_key,
            "model": self.model,
            "enrolledFrom": list(self.sources),
            "speechSeconds": round(self.speech_s, 1),
            "narrowbandSeconds": round(
                self.narrowband_s if self.narrowband_s is not None else self.speech_s, 1
            ),
            "learnedCalls": self.learned_calls,
            "learnedSeconds": round(self.learned_s, 1),
            "bands": self.bands(),
            "created": self.created,
            "updated": self.updated or self.created,
            "history": list(self.history),
        }

    def to_dict(self) -> dict:
        """The stored form (with the embeddings)."""
        data = {
            "format": _FORMAT,
            "partyKey": self.party_key,
            "model": self.model,
            "speechSeconds": round(self.speech_s, 2),
            "sources": list(self.sources),
            "created": self.created,
            "embedding": _rounded(self.embedding),
            "learnedCalls": self.learned_calls,
            "learnedSeconds": round(self.learned_s, 2),
            "history": list(self.history),
            "updated": self.updated,
        }
        if self.narrowband is not None:
            data["narrowbandEmbedding"] = _rounded(self.narrowband)
        if self.narrowband_s is not None:
            data["narrowbandSeconds"] = round(self.narrowband_s, 2)
        return data

    @classmethod
    def from_dict(cls, data: dict, where: str) -> Voiceprint:
        """Read the stored form; `where` names the file in errors."""
        try:
            narrowband = data.get("narrowbandEmbedding")
            narrow_s = data.get("narrowbandSeconds")
            history = data.get("history", [])
            if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
                raise ValueError("history is not a list of objects")
            return cls(
                party_key=str(data["partyKey"]),
                embedding=_unit_vector(data["embedding"]),
                model=str(data["model"]),
                speech_s=float(data["speechSeconds"]),
                sources=tuple(str(s) for s in data.get("sources", [])),
                created=str(data.get("created", "")),
                narrowband=None if narrowband is None else _unit_vector(narrowband),
                narrowband_s=None if narrow_s is None else float(narrow_s),
                learned_calls=int(data.get("learnedCalls", 0)),
                learned_s=float(data.get("learnedSeconds", 0.0)),
                history=tuple(history),
                updated=str(data.get("updated", "")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # the message names the problem, never the values (they are biometric)
            reason = f"missing {exc}" if isinstance(exc, KeyError) else type(exc).__name__
            raise ConfigError(f"{where}: not a valid voiceprint ({reason})") from exc


def _weighted(
    old: np.ndarray | None, old_s: float, new: np.ndarray | None, new_s: float
) -> np.ndarray | None:
    """The unit-norm, speech-weighted mean of two unit embeddings (either may be missing)."""
    if new is None or new_s <= 0:
        return old
    if old is None or old_s <= 0:
        return _unit_vector(new)
    return _unit_vector(old * old_s + new * new_s)


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
    from scipy.signal import butter, sosfilt  # a second of start-up the stereo path skips

    narrow = soxr.resample(samples, sample_rate, NARROWBAND_RATE)
    band = butter(4, (300, 3400), btype="bandpass", fs=NARROWBAND_RATE, output="sos")
    return soxr.resample(sosfilt(band, narrow), NARROWBAND_RATE, sample_rate).astype(np.float32)


class VoiceprintStore:
    """A private folder of voiceprints, one JSON file per party key and embedding model.

    Every change happens under an exclusive lock (a lock file in the folder, plus a lock for
    this process's threads) and is written to a temporary file that then replaces the old one,
    so concurrent writers (threads, processes, batch workers) lose no update and a reader never
    sees half a file. The folder is created 0700, the files 0600.

    Parameters
    ----------
    directory
        The folder (created on first save); default `default_store_dir`.
    """

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_store_dir()

    def __repr__(self) -> str:
        return f"VoiceprintStore({str(self.directory)!r})"

    def path_for(self, party_key: str, model: str = EMBEDDING_MODEL) -> Path:
        """Where the print of `party_key` in embedding space `model` is (or would be) stored."""
        digest = hashlib.sha256(_normalise(party_key).encode("utf-8")).hexdigest()[:24]
        return self.directory / f"{digest}.{_safe_name(model)}.json"

    def _ensure_directory(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.directory.stat().st_mode & 0o077:
            os.chmod(self.directory, 0o700)  # biometric data: owner only

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's exclusive lock (re-entrant within a thread)."""
        with _thread_lock:
            self._ensure_directory()
            handle = os.open(self.directory / _LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX)
                yield
            finally:
                os.close(handle)  # releases the lock

    def save(self, print_: Voiceprint) -> Path:
        """Write a voiceprint atomically, replacing an earlier one of the same key and model."""
        with self.locked():
            return self._write(print_)

    def _write(self, print_: Voiceprint) -> Path:
        path = self.path_for(print_.party_key, print_.model)
        _write_private(path, json.dumps(print_.to_dict()))
        return path

    def load(self, party_key: str, model: str = EMBEDDING_MODEL) -> Voiceprint | None:
        """The print of `party_key` in embedding space `model`, or None when there is none.

        Raises
        ------
        ConfigError
            When the stored file is unreadable or malformed.
        """
        path = self.path_for(party_key, model)
        if not path.is_file():
            return None
        print_ = _read(path)
        if print_.party_key != _normalise(party_key) or print_.model != model:
            raise ConfigError(f"{path}: holds another key's voiceprint")
        return print_

    def find(self, party: dict, model: str = EMBEDDING_MODEL) -> Voiceprint | None:
        """The print of a call party (by userId, then e-mail) in embedding space `model`."""
        for key in party_keys(party):
            print_ = self.load(key, model)
            if print_ is not None:
                return print_
        return None

    def update(
        self,
        party_key: str,
        change: Callable[[Voiceprint | None], Voiceprint | None],
        model: str = EMBEDDING_MODEL,
    ) -> Voiceprint | None:
        """Read, change and write one print under the lock: no concurrent update is lost.

        `change` gets the current print (None when there is none) and returns the new one
        (None: leave it as it is). Returns what is stored afterwards.
        """
        with self.locked():
            current = self.load(party_key, model)
            changed = change(current)
            if changed is None:
                return current
            self._write(changed)
            return changed

    def prints(self) -> list[Voiceprint]:
        """Every stored print (all models), by key.

        Raises
        ------
        ConfigError
            When a stored file is unreadable or malformed.
        """
        if not self.directory.is_dir():
            return []
        found = [_read(path) for path in sorted(self.directory.glob("*.json"))]
        return sorted(found, key=lambda p: (p.party_key, p.model))

    def forget(self, party_key: str) -> int:
        """Delete every print of `party_key` (all models); returns how many were deleted."""
        digest = self.path_for(party_key).name.split(".")[0]
        with self.locked():
            paths = list(self.directory.glob(f"{digest}.*.json"))
            for path in paths:
                path.unlink()
        return len(paths)

    def export(self, path: str | Path) -> int:
        """Write every print to one JSON file (0600) to move them to another machine of the
        same owner; returns how many."""
        with self.locked():
            prints = self.prints()
        document = {"format": _EXPORT_FORMAT, "voiceprints": [p.to_dict() for p in prints]}
        _write_private(Path(path), json.dumps(document))
        return len(prints)

    def import_(self, path: str | Path) -> int:
        """Store every print of an `export` file, replacing those of the same key and model;
        returns how many. Nothing is stored when any of them is malformed."""
        path = Path(path)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read voiceprints ({type(exc).__name__})") from exc
        items = document.get("voiceprints") if isinstance(document, dict) else None
        if not isinstance(items, list):
            raise ConfigError(f"{path}: not a voiceprint export (no 'voiceprints' list)")
        prints = [
            Voiceprint.from_dict(item, f"{path}: voiceprints[{i}]") for i, item in enumerate(items)
        ]
        with self.locked():
            for print_ in prints:
                self._write(print_)
        return len(prints)


def _safe_name(model: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in model)


def _read(path: Path) -> Voiceprint:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read voiceprint ({type(exc).__name__})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not a valid voiceprint (not an object)")
    return Voiceprint.from_dict(data, str(path))


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically as a file only its owner can read (0600)."""
    handle, temporary = tempfile.mkstemp(prefix=".vp.", dir=path.parent)  # created 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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
    hook: ProgressHook | None = None,
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
    hook
        Progress callback, called as ``hook("enroll", seconds_done, seconds_total)`` over
        all the recordings (see `diarize.options.ProgressHook`).

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
    sources = [open_audio(path) for path in audio_paths]  # every file is checked first
    total_s = round(sum(source.info.duration_s for source in sources))
    report = hook or (lambda step, completed, total: None)
    report("enroll", 0, total_s)
    diarizer = diarizer or get_diarizer()
    wide = narrow = 0.0  # speech-weighted sums of unit embeddings
    speech_s = done_s = 0.0
    for path, source in zip(audio_paths, sources, strict=True):
        mono = source.read(SAMPLE_RATE).mean(axis=0)  # enrolment clips are short

        def progress(seconds: float, before: float = done_s) -> None:
            report("enroll", min(total_s, round(before + seconds)), total_s)

        turns = diarizer.speakers(open_audio(mono, SAMPLE_RATE), progress=progress)
        done_s += source.info.duration_s
        report("enroll", min(total_s, round(done_s)), total_s)
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
        created=_now(),
        narrowband=_unit_vector(narrow),
        narrowband_s=speech_s,
    )
    return VoiceprintStore(store_dir).save(print_)
