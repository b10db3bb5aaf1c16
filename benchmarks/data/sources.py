"""Where real recordings come from, and how to read their references.

Two real sources exist: the 2-speaker telephone recording that ships inside pyannote.audio
(always present) and the AMI dev excerpts in ``<repo>/../shared/evaldata/dev`` (skipped where
absent). References are RTTM (one ``SPEAKER`` line per turn) with optional UEM scoring regions.
"""

from __future__ import annotations

import importlib.util
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from benchmarks.rttm import Turn, read_rttm, read_uem

__all__ = [
    "RealRecording",
    "evaldata_dir",
    "evaldata_recordings",
    "party_id_for",
    "pyannote_sample",
    "solo_regions",
]

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class RealRecording:
    """A real recording with its reference turns and scoring region."""

    uri: str
    audio: Path
    turns: tuple[Turn, ...]
    uem: tuple[float, float] | None
    source: str  # "pyannote-sample" or "evaldata"


def pyannote_sample() -> RealRecording:
    """The real 2-speaker telephone recording bundled with pyannote.audio."""
    # find_spec locates the package without importing it (importing it would load torch)
    spec = importlib.util.find_spec("pyannote.audio")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("pyannote.audio is not installed: its sample recording is needed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "sample"
    turns = read_rttm(folder / "sample.rttm")["sample"]
    return RealRecording("sample", folder / "sample.wav", tuple(turns), None, "pyannote-sample")


def evaldata_dir(repo_root: Path = REPO_ROOT) -> Path | None:
    """``<repo>/../shared/evaldata/dev`` when it exists, else ``None``."""
    folder = repo_root.parent / "shared" / "evaldata" / "dev"
    return folder if folder.is_dir() else None


def evaldata_recordings(folder: Path | None = None) -> list[RealRecording]:
    """The AMI dev excerpts that have both audio and a reference, sorted by uri.

    The file lists (``*.lst``) are not trusted: the set of recordings is every uri that
    appears in an RTTM file and has a matching ``<uri>.flac`` beside it.
    """
    folder = folder if folder is not None else evaldata_dir()
    if folder is None or not folder.is_dir():
        return []
    turns: dict[str, list[Turn]] = {}
    uems: dict[str, tuple[float, float]] = {}
    for rttm in sorted(folder.glob("*.rttm")):
        turns.update(read_rttm(rttm))
    for uem in sorted(folder.glob("*.uem")):
        uems.update(read_uem(uem))
    found = []
    for uri in sorted(turns):
        audio = folder / f"{uri}.flac"
        if audio.is_file():
            found.append(RealRecording(uri, audio, tuple(turns[uri]), uems.get(uri), "evaldata"))
    return found


def party_id_for(label: str) -> str:
    """An ASCII party id for a reference speaker label (``"MÉO069"`` -> ``"MEO069"``)."""
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    cleaned = "".join(c if c.isalnum() or c in "-_" else "_" for c in ascii_label)
    return cleaned or "speaker"


def solo_regions(turns: tuple[Turn, ...] | list[Turn], min_duration_s: float) -> list[Turn]:
    """Parts of each turn where no other speaker talks, at least ``min_duration_s`` long.

    These are the stretches that can be cut out as clean single-speaker speech.
    """
    solos: list[Turn] = []
    for turn in turns:
        pieces = [(turn.start_s, turn.end_s)]
        for other in turns:
            if other.speaker == turn.speaker:
                continue
            pieces = [
                part
                for start_s, end_s in pieces
                for part in _subtract(start_s, end_s, other.start_s, other.end_s)
            ]
        solos.extend(Turn(s, e, turn.speaker) for s, e in pieces if e - s >= min_duration_s)
    return sorted(solos)


def _subtract(start_s: float, end_s: float, cut_start_s: float, cut_end_s: float):
    if cut_end_s <= start_s or cut_start_s >= end_s:
        return [(start_s, end_s)]
    parts = []
    if cut_start_s > start_s:
        parts.append((start_s, cut_start_s))
    if cut_end_s < end_s:
        parts.append((cut_end_s, end_s))
    return parts
