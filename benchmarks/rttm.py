"""Reference and hypothesis turns, and the RTTM/UEM text formats they travel in."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Turn", "format_rttm", "merge_turns", "read_rttm", "read_uem"]


@dataclass(frozen=True, order=True)
class Turn:
    """``speaker`` talks from ``start_s`` to ``end_s`` (seconds from the start of the file)."""

    start_s: float
    end_s: float
    speaker: str

    @property
    def duration_s(self) -> float:
        """Length of the turn."""
        return self.end_s - self.start_s


def read_rttm(path: Path) -> dict[str, list[Turn]]:
    """Read an RTTM file into turns per file id (uri).

    Parameters
    ----------
    path
        RTTM file, UTF-8 (speaker labels may hold accented letters).

    Returns
    -------
    dict
        ``uri -> sorted turns``. Lines other than ``SPEAKER`` are ignored.

    Raises
    ------
    ValueError
        A ``SPEAKER`` line has fewer than 8 fields or a non-numeric time (names the line).
    """
    turns: dict[str, list[Turn]] = defaultdict(list)
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split()
        if not fields or fields[0] != "SPEAKER":
            continue
        try:
            start_s, duration_s = float(fields[3]), float(fields[4])
            speaker = fields[7]
        except (IndexError, ValueError) as exc:
            raise ValueError(f"{path}:{number}: malformed RTTM line") from exc
        turns[fields[1]].append(Turn(start_s, start_s + duration_s, speaker))
    return {uri: sorted(items) for uri, items in turns.items()}


def read_uem(path: Path) -> dict[str, tuple[float, float]]:
    """Read a UEM file (``uri channel start end``) into one scoring region per uri."""
    regions: dict[str, tuple[float, float]] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) >= 4:
            regions[fields[0]] = (float(fields[2]), float(fields[3]))
    return regions


def format_rttm(turns: Iterable[Turn], uri: str) -> str:
    """Turns as RTTM text, one ``SPEAKER`` line each, sorted by time, times in milliseconds."""
    uri = uri.replace(" ", "_") or "file"
    return "".join(
        f"SPEAKER {uri} 1 {t.start_s:.3f} {t.duration_s:.3f} <NA> <NA> {t.speaker} <NA> <NA>\n"
        for t in sorted(turns)
    )


def merge_turns(turns: Iterable[Turn], max_gap_s: float = 0.0) -> list[Turn]:
    """Merge turns of the same speaker that overlap or are at most ``max_gap_s`` apart."""
    runs: dict[str, list[Turn]] = {}
    for turn in sorted(turns):
        mine = runs.setdefault(turn.speaker, [])
        if mine and turn.start_s - mine[-1].end_s <= max_gap_s:
            last = mine[-1]
            mine[-1] = Turn(last.start_s, max(last.end_s, turn.end_s), turn.speaker)
        else:
            mine.append(turn)
    return sorted(t for mine in runs.values() for t in mine)
