"""The batch summary: totals, the who-spoke-when strip, summary.json and summary.html."""

from __future__ import annotations

import json
from pathlib import Path

from gong_client.batch.strip import make_strip
from gong_client.batch.summary import SummaryWriter, format_table

PARTIES = [{"partyId": "p1", "name": "Dana"}, {"partyId": "p2", "name": "<b>Sam</b>"}]


def test_the_strip_shows_who_spoke_in_each_slice() -> None:
    segments = [(0.0, 3.0, "p1"), (5.0, 10.0, "p2"), (6.0, 6.5, "p1"), (9.0, 9.2, "ghost")]
    strip = make_strip(segments, 10.0, PARTIES, cells=10)
    assert strip == {"cells": "000..11111", "parties": ["Dana", "<b>Sam</b>"]}
    assert make_strip([], 0.0, PARTIES)["cells"] == ""


def test_summary_totals_files_and_table(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    writer = SummaryWriter(tmp_path)
    strip = make_strip([(0.0, 30.0, "p1"), (30.0, 60.0, "p2")], 60.0, PARTIES)
    done = {"audio": "a.wav", "clientUniqueId": "a", "status": "done", "audioSeconds": 1800.0}
    writer.add({**done, "callId": "42", "url": "https://x.example/42", "strip": strip})
    writer.add({"audio": "b.wav", "clientUniqueId": "b", "status": "skipped", "audioSeconds": 60})
    writer.add(
        {"audio": "c.wav", "status": "failed", "error": "c.wav: truncated", "reason": "audio"}
    )
    writer.add(
        {"audio": "d.wav", "status": "failed", "error": "worker died", "reason": "worker died"}
    )
    writer.add({"audio": "e.wav", "status": "failed", "error": "e.wav: no", "reason": "audio"})
    totals = writer.finish(wall_s=900.0)
    writer.close()
    assert totals["calls"] == 5 and (totals["done"], totals["failed"], totals["skipped"]) == (
        1,
        3,
        1,
    )
    assert totals["uploaded"] == 1
    assert totals["audioHours"] == 0.5 and totals["audioHoursPerHour"] == 2.0
    assert totals["callsPerHour"] == 4.0
    assert totals["failuresByReason"] == {"audio": 2, "worker died": 1}

    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["totals"] == totals
    assert [c["audio"] for c in summary["calls"]] == ["a.wav", "b.wav", "c.wav", "d.wav", "e.wav"]

    html = (tmp_path / "summary.html").read_text()
    assert html.count("<tr>") == 6  # a header and a line per call
    assert '<span style="flex:60;background:' in html  # half the strip each
    assert "&lt;b&gt;Sam&lt;/b&gt;" in html and "<b>Sam</b>" not in html
    assert '<a href="https://x.example/42">42</a>' in html

    table = format_table(writer.records(), totals)
    assert "failed   c.wav" in table and "call 42" in table
    assert "failures by reason: audio: 2, worker died: 1" in table
