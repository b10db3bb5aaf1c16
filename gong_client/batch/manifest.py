"""Manifests: the calls of a batch, read one at a time (memory does not grow with their number).

Three sources, picked by what SOURCE is:

- a ``.jsonl`` file: one object per line, ``{"audio": PATH, "call": {...} or PATH}``;
- a ``.csv`` file: one row per call, in the dialer column convention of `csv_calls`;
- a folder: every recording with its call JSON beside it under the same stem
  (``a.wav`` + ``a.json``).

Relative paths are relative to the manifest's folder. Each entry comes out as a `Row` (a
recording that exists and a call that passes the ``POST /v2/calls`` checks) or a `BadRow`
that names its line and field; a bad row never stops the others.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diarize.call import load_call, problems_in_call
from diarize.errors import CallValidationError
from gong_client.batch.csv_calls import CsvRowError, call_from_row, normalise_header
from gong_client.batch.errors import BatchError

__all__ = ["AUDIO_SUFFIXES", "BadRow", "Row", "count_entries", "read_manifest"]

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".mp4", ".m4a", ".mkv", ".ogg")


@dataclass(frozen=True)
class Row:
    """A call ready for work: an existing recording and a valid call JSON."""

    index: int
    line: int
    where: str
    audio: Path
    call: dict[str, Any]


@dataclass(frozen=True)
class BadRow:
    """An entry that cannot be worked on, and why."""

    index: int
    line: int
    where: str
    field: str
    message: str
    audio: str | None = None

    @property
    def error(self) -> str:
        """One line: ``calls.csv line 7: actual_start: needs a UTC offset``."""
        return f"{self.where}: {self.field}: {self.message}"


Entry = Row | BadRow


def _manifest_kind(source: Path) -> str:
    if source.is_dir():
        return "folder"
    if not source.is_file():
        raise BatchError(f"{source}: no such file or folder")
    suffix = source.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise BatchError(f"{source}: a manifest is a .jsonl or .csv file, or a folder of recordings")


def read_manifest(source: str | os.PathLike) -> Iterator[Entry]:
    """Stream the entries of a manifest (see the module docstring).

    Raises
    ------
    BatchError
        The manifest itself cannot be read (missing, wrong kind, not UTF-8, no CSV header).
    """
    source = Path(source)
    kind = _manifest_kind(source)
    try:
        if kind == "folder":
            yield from _folder(source)
        elif kind == "jsonl":
            yield from _jsonl(source)
        else:
            yield from _csv(source)
    except UnicodeDecodeError as exc:
        raise BatchError(f"{source}: not UTF-8 text (bad byte at offset {exc.start})") from None
    except OSError as exc:
        raise BatchError(f"{source}: cannot read ({exc.strerror or exc})") from None


def count_entries(source: str | os.PathLike) -> int:
    """How many entries a manifest has (a quick pass, for the progress bar's total)."""
    source = Path(source)
    kind = _manifest_kind(source)
    try:
        if kind == "folder":
            return sum(1 for _ in _recordings(source))
        with source.open(encoding="utf-8-sig", newline="") as stream:
            if kind == "jsonl":
                return sum(1 for line in stream if line.strip())
            return max(0, sum(1 for _ in csv.reader(stream)) - 1)
    except (OSError, UnicodeDecodeError, csv.Error):
        return 0


def _check(index: int, line: int, where: str, audio: Path, call: Any, prefix: str) -> Entry:
    """A `Row` when the recording exists and the call is valid, else the `BadRow`."""
    if not audio.is_file():
        why = "is a folder" if audio.is_dir() else "file not found"
        return BadRow(index, line, where, "audio", f"{why}: {audio}", str(audio))
    checked = call
    if isinstance(call, dict) and not call.get("clientUniqueId"):
        # derived from the recording's content later (as `upload` does), so not missing
        checked = {**call, "clientUniqueId": "sha256-of-the-recording"}
    problems = problems_in_call(checked, require_timeline_party_ids=False)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        field = prefix + first.path.removeprefix("$").lstrip(".") if prefix else first.path
        return BadRow(index, line, where, field, first.message + more, str(audio))
    return Row(index, line, where, audio, call)


def _jsonl(source: Path) -> Iterator[Entry]:
    base = source.parent
    index = 0
    with source.open(encoding="utf-8-sig") as stream:
        for line_number, text in enumerate(stream, start=1):
            if not text.strip():
                continue
            where = f"{source.name} line {line_number}"
            yield _jsonl_entry(index, line_number, where, text, base)
            index += 1


def _jsonl_entry(index: int, line: int, where: str, text: str, base: Path) -> Entry:
    try:
        item = json.loads(text)
    except ValueError as exc:
        return BadRow(index, line, where, "line", f"not JSON ({exc})")
    if not isinstance(item, dict):
        return BadRow(index, line, where, "line", "must be a JSON object {audio, call}")
    audio, call = item.get("audio"), item.get("call")
    if not isinstance(audio, str) or not audio:
        return BadRow(index, line, where, "audio", "missing: the recording's path")
    audio_path = base / audio
    if isinstance(call, str) and call:
        try:
            call = load_call(base / call)
        except CallValidationError as exc:
            reason = "; ".join(p.message for p in exc.problems)
            return BadRow(index, line, where, "call", f"{base / call}: {reason}", str(audio_path))
    elif not isinstance(call, dict):
        return BadRow(
            index, line, where, "call", "missing: the call JSON or its path", str(audio_path)
        )
    return _check(index, line, where, audio_path, call, "call.")


def _recordings(folder: Path) -> Iterator[Path]:
    for name in sorted(os.listdir(folder)):
        path = folder / name
        if path.suffix.lower() in AUDIO_SUFFIXES and path.is_file():
            yield path


def _folder(folder: Path) -> Iterator[Entry]:
    for index, audio in enumerate(_recordings(folder)):
        call_path = audio.with_suffix(".json")
        where = audio.name
        if not call_path.is_file():
            yield BadRow(index, 0, where, "call", f"no call JSON beside it ({call_path.name})")
            continue
        try:
            call = load_call(call_path)
        except CallValidationError as exc:
            reason = "; ".join(p.message for p in exc.problems)
            yield BadRow(index, 0, where, "call", f"{call_path.name}: {reason}", str(audio))
            continue
        yield _check(index, 0, call_path.name, audio, call, "")


def _csv(source: Path) -> Iterator[Entry]:
    base = source.parent
    with source.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        try:
            header = next(reader)
        except StopIteration:
            raise BatchError(f"{source}: empty CSV (no header row)") from None
        except csv.Error as exc:
            raise BatchError(f"{source} line 1: {exc}") from None
        try:
            columns = normalise_header(header)
        except CsvRowError as exc:
            raise BatchError(f"{source} line 1: {exc.field}: {exc.message}") from None
        index = 0
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                where = f"{source.name} line {reader.line_num}"
                yield BadRow(index, reader.line_num, where, "row", str(exc))
                index += 1
                continue
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            where = f"{source.name} line {line}"
            try:
                audio, call = call_from_row(columns, values)
            except CsvRowError as exc:
                yield BadRow(index, line, where, exc.field, exc.message)
            else:
                entry = _check(index, line, where, base / audio, call, "")
                if isinstance(entry, BadRow):
                    entry = BadRow(
                        entry.index,
                        entry.line,
                        entry.where,
                        _column_for(entry.field),
                        entry.message,
                        entry.audio,
                    )
                yield entry
            index += 1


def _column_for(json_path: str) -> str:
    """The CSV column a call-JSON problem came from, when one column maps to it."""
    from gong_client.batch.csv_calls import column_for_path

    return column_for_path(json_path)
