"""Reference and hypothesis turns, and the RTTM/UEM text formats they travel in."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from diarize.segments import Segment as Turn
from diarize.segments import merge_close as merge_turns
from diarize.segments import to_rttm as format_rttm

# Turns are the project's segments; the benchmark keeps its own names for them.
__all__ = ["Turn", "format_rttm", "merge_turns", "read_rttm", "read_uem"]


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
