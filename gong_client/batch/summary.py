"""What a batch did: one record per call, totals, ``summary.json``, and the table at the end.

Records are appended to a file as calls finish (``OUT/state/summary-calls.jsonl``) and only
tallied in memory, so a manifest of a million rows does not fill the memory; `finish`
streams them into ``summary.json`` (``{"calls": [...], "totals": {...}}``) and
``summary.html``.

A record holds ``audio``, ``clientUniqueId``, ``status`` (``done``, ``failed`` or
``skipped``), ``error`` and ``reason`` (failed), ``output`` (the enriched JSON, when there is
one), ``callId`` and ``url`` (uploaded), ``layout``, ``speakers``, ``audioSeconds``,
``processingSeconds``, ``line`` (in the manifest) and ``strip`` (who spoke when, see
`gong_client.batch.strip`).
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gong_client.batch.report_html import write_html

__all__ = ["STATUSES", "SummaryWriter", "format_table"]

STATUSES = ("done", "failed", "skipped")
_SHOWN = 40


class SummaryWriter:
    """Collects call records (thread-safe) and writes the summary files at the end.

    Parameters
    ----------
    out
        The ``--out`` folder.
    on_record
        Called with each record as it is added (the progress tracker), under the lock.
    """

    def __init__(self, out: Path, on_record: Callable[[dict[str, Any]], None] | None = None):
        self.out = Path(out)
        self.partial = self.out / "state" / "summary-calls.jsonl"
        self._stream = self.partial.open("w", encoding="utf-8")
        self._lock = threading.Lock()
        self._on_record = on_record
        self.counts: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.audio_s = {"done": 0.0, "all": 0.0}
        self.uploaded = 0

    def add(self, record: dict[str, Any]) -> None:
        """Record what happened to one call."""
        record = {k: v for k, v in record.items() if v is not None}
        line = json.dumps(record, ensure_ascii=False)
        with self._lock:
            self._stream.write(line + "\n")
            status = record["status"]
            self.counts[status] += 1
            if status == "failed":
                self.reasons[record.get("reason") or "other"] += 1
            seconds = float(record.get("audioSeconds") or 0.0)
            self.audio_s["all"] += seconds
            if status == "done":
                self.audio_s["done"] += seconds
            if record.get("callId") and status == "done":
                self.uploaded += 1
            if self._on_record is not None:
                self._on_record(record)

    def totals(self, wall_s: float, interrupted: bool = False) -> dict[str, Any]:
        """The totals: counts by status, audio hours, wall time, throughput, failure reasons."""
        hours = max(wall_s, 1e-9) / 3600
        done = self.counts["done"]
        return {
            "calls": sum(self.counts.values()),
            **{status: self.counts[status] for status in STATUSES},
            "uploaded": self.uploaded,
            "audioHours": round(self.audio_s["done"] / 3600, 4),
            "audioHoursIncludingSkipped": round(self.audio_s["all"] / 3600, 4),
            "wallSeconds": round(wall_s, 2),
            "audioHoursPerHour": round(self.audio_s["done"] / 3600 / hours, 2),
            "callsPerHour": round(done / hours, 1),
            "failuresByReason": dict(self.reasons.most_common()),
            "interrupted": interrupted,
        }

    def records(self) -> Iterator[dict[str, Any]]:
        """Every record added so far, read back from the file."""
        with self._lock:
            if not self._stream.closed:
                self._stream.flush()
        with self.partial.open(encoding="utf-8") as stream:
            for line in stream:
                if line.strip():
                    yield json.loads(line)

    def finish(self, wall_s: float, interrupted: bool = False) -> dict[str, Any]:
        """Write ``summary.json`` and ``summary.html``; return the totals."""
        with self._lock:
            self._stream.flush()
        totals = self.totals(wall_s, interrupted)
        target = self.out / "summary.json"
        temporary = target.with_name(f".{target.name}.tmp")
        with temporary.open("w", encoding="utf-8") as stream:
            stream.write('{"calls": [\n')
            for number, record in enumerate(self.records()):
                stream.write((",\n" if number else "") + json.dumps(record, ensure_ascii=False))
            stream.write('\n],\n"totals": ' + json.dumps(totals, indent=2) + "}\n")
        os.replace(temporary, target)
        write_html(self.out / "summary.html", self.records(), totals)
        return totals

    def close(self) -> None:
        """Close the record file."""
        with self._lock:
            if not self._stream.closed:
                self._stream.close()


def format_table(records: Iterator[dict[str, Any]], totals: dict[str, Any]) -> str:
    """The summary as text: a line per call (failures only, past a screenful), then totals."""
    rows: list[str] = []
    hidden = 0
    many = totals["calls"] > _SHOWN
    for record in records:
        if many and record["status"] != "failed":
            continue
        if len(rows) >= _SHOWN:
            hidden += 1
            continue
        who = record.get("clientUniqueId") or Path(str(record.get("audio", "?"))).name
        detail = record.get("error") or ", ".join(
            part
            for part in (
                record.get("layout"),
                f"{record['speakers']} speakers" if record.get("speakers") is not None else None,
                f"{record.get('audioSeconds', 0):.0f} s" if record.get("audioSeconds") else None,
                f"call {record['callId']}" if record.get("callId") else None,
            )
            if part
        )
        rows.append(f"  {record['status']:<8} {who[:40]:<40} {detail}")
    if hidden:
        rows.append(f"  ... and {hidden} more failures (see summary.json)")
    lines = ["failures:" if many else "calls:"] if rows else []
    lines += rows
    lines.append(
        f"{totals['calls']} calls: {totals['done']} done, {totals['failed']} failed, "
        f"{totals['skipped']} skipped"
        + (f", {totals['uploaded']} uploaded" if totals["uploaded"] else "")
        + f"; {totals['audioHours']:.2f} audio hours in {totals['wallSeconds']:.0f} s "
        f"({totals['audioHoursPerHour']:.1f} audio h/h, {totals['callsPerHour']:.0f} calls/h)"
    )
    if totals["failuresByReason"]:
        reasons = ", ".join(f"{k}: {v}" for k, v in totals["failuresByReason"].items())
        lines.append(f"failures by reason: {reasons}")
    return "\n".join(lines)
