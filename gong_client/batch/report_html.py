"""``summary.html``: one line per call with a who-spoke-when strip, for a person to look at.

Self-contained (inline CSS, no scripts, nothing fetched), written as the records stream by.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gong_client.batch.strip import SYMBOLS

__all__ = ["MAX_ROWS", "write_html"]

MAX_ROWS = 10_000
"""Calls drawn in the report at most (a page a browser still opens); all are in the JSON."""

_COLOURS = ["#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#319795", "#b7791f"]
_STATUS_COLOURS = {"done": "#276749", "failed": "#c53030", "skipped": "#4a5568"}

_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gong-diarize batch</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#1a202c}
table{border-collapse:collapse}td,th{padding:4px 10px;text-align:left;vertical-align:middle}
tr:nth-child(even){background:#f7fafc}th{border-bottom:2px solid #cbd5e0}
.strip{display:flex;width:360px;height:14px;background:#edf2f7}
.err{color:#c53030;max-width:520px}
.legend span{display:inline-block;width:10px;height:10px;margin:0 3px 0 8px}
</style></head><body>
"""


def _runs(cells: str) -> list[tuple[str, int]]:
    """Runs of one symbol: ``"..001"`` -> ``[(".", 2), ("0", 2), ("1", 1)]``."""
    runs: list[tuple[str, int]] = []
    for symbol in cells:
        if runs and runs[-1][0] == symbol:
            runs[-1] = (symbol, runs[-1][1] + 1)
        else:
            runs.append((symbol, 1))
    return runs


def _strip_html(strip: dict[str, Any] | None) -> str:
    if not strip or not strip.get("cells"):
        return ""
    cells = []
    for symbol, run in _runs(strip["cells"]):
        colour = "" if symbol == "." else _COLOURS[SYMBOLS.index(symbol) % len(_COLOURS)]
        background = f";background:{colour}" if colour else ""
        cells.append(f'<span style="flex:{run}{background}"></span>')
    legend = "".join(
        f'<span style="background:{_COLOURS[i % len(_COLOURS)]}"></span>{html.escape(name)}'
        for i, name in enumerate(strip.get("parties", []))
        if SYMBOLS[i % len(SYMBOLS)] in strip["cells"]
    )
    return f'<div class="strip">{"".join(cells)}</div><div class="legend">{legend}</div>'


def _row(record: dict[str, Any]) -> str:
    status = record.get("status", "")
    who = record.get("clientUniqueId") or Path(str(record.get("audio", ""))).name
    minutes = float(record.get("audioSeconds") or 0) / 60
    call = record.get("callId") or ""
    url = record.get("url")
    call_cell = (
        f'<a href="{html.escape(url)}">{html.escape(call)}</a>' if url else html.escape(call)
    )
    detail = (
        f'<div class="err">{html.escape(record.get("error", ""))}</div>'
        if status == "failed"
        else _strip_html(record.get("strip"))
    )
    colour = _STATUS_COLOURS.get(status, "#000")
    return (
        f"<tr><td>{html.escape(str(who))}</td>"
        f'<td style="color:{colour}">{html.escape(status)}</td>'
        f"<td>{html.escape(str(record.get('layout') or ''))}</td>"
        f"<td>{minutes:.1f}</td><td>{detail}</td><td>{call_cell}</td></tr>\n"
    )


def write_html(path: Path, records: Iterable[dict[str, Any]], totals: dict[str, Any]) -> None:
    """Write the report to `path` (atomically), one table row per record."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as out:
        out.write(_HEAD)
        out.write(
            f"<h1>Batch: {totals['calls']} calls</h1><p>{totals['done']} done, "
            f"{totals['failed']} failed, {totals['skipped']} skipped, "
            f"{totals['uploaded']} uploaded; {totals['audioHours']:.2f} audio hours in "
            f"{totals['wallSeconds']:.0f} s ({totals['callsPerHour']:.0f} calls per hour)</p>\n"
        )
        out.write(
            "<table><tr><th>call</th><th>status</th><th>layout</th><th>min</th>"
            "<th>who spoke when</th><th>Gong callId</th></tr>\n"
        )
        shown = 0
        for record in records:
            if shown < MAX_ROWS:
                out.write(_row(record))
            shown += 1
        if shown > MAX_ROWS:
            out.write(
                f'<tr><td colspan="6">... and {shown - MAX_ROWS} more calls: see summary.json'
                "</td></tr>\n"
            )
        out.write("</table></body></html>\n")
    os.replace(temporary, path)
