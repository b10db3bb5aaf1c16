"""RTTM/UEM reading and writing, and merging turns."""

from __future__ import annotations

import pytest

from benchmarks.rttm import Turn, format_rttm, merge_turns, read_rttm, read_uem


def test_rttm_round_trip_keeps_times_and_accented_labels(tmp_path):
    turns = [Turn(1.5, 2.25, "MÉO069"), Turn(0.0, 1.0, "rep"), Turn(2.0, 3.0, "customer-1")]
    path = tmp_path / "x.rttm"
    path.write_text(format_rttm(turns, "call 1"), encoding="utf-8")
    read = read_rttm(path)
    assert list(read) == ["call_1"]
    assert read["call_1"] == sorted(turns)


def test_malformed_rttm_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.rttm"
    path.write_text("SPEAKER f 1 0.0 1.0 <NA> <NA> a <NA> <NA>\nSPEAKER f 1 x\n")
    with pytest.raises(ValueError, match=r"bad\.rttm:2"):
        read_rttm(path)


def test_uem_regions(tmp_path):
    path = tmp_path / "x.uem"
    path.write_text("a NA 0.000 30.000\nb NA 1.5 20\n")
    assert read_uem(path) == {"a": (0.0, 30.0), "b": (1.5, 20.0)}


def test_merge_turns_merges_per_speaker_only():
    turns = [Turn(0, 1, "a"), Turn(0.9, 2, "a"), Turn(2.2, 3, "a"), Turn(1, 2.5, "b")]
    assert merge_turns(turns) == [Turn(0, 2, "a"), Turn(1, 2.5, "b"), Turn(2.2, 3, "a")]
    assert merge_turns(turns, max_gap_s=0.25) == [Turn(0, 3, "a"), Turn(1, 2.5, "b")]
