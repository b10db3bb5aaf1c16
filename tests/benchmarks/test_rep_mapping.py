"""The rep-mapping benchmark in its tiny form: one rep, one learned call, two mono calls.

Real voices, the real pipeline and the real store; skips where the AMI dev excerpts
(``../shared/evaldata``) are absent.
"""

from __future__ import annotations

import pytest

from benchmarks.data.rep_calls import available_reps, dual_channel_call, mono_call
from benchmarks.rep_mapping import (
    Settings,
    figures,
    format_table,
    run_rep_mapping,
    targets_met,
)

needs_evaldata = pytest.mark.skipif(
    not available_reps(["FEE083"]), reason="AMI dev excerpts (../shared/evaldata) are absent"
)


@needs_evaldata
def test_calls_are_deterministic_and_the_reference_is_the_reps_speech(tmp_path) -> None:
    rep = available_reps(["FEE083"])[0]
    first = dual_channel_call(rep, 0, "telephone", tmp_path / "a")
    again = dual_channel_call(rep, 0, "telephone", tmp_path / "b")
    assert first.sample_rate == 8000 and first.audio.shape[0] == 2
    assert (first.audio == again.audio).all() and first.drawn == again.drawn
    rep_side = first.audio[first.drawn["rep_channel"]]
    # the rep's channel is loud inside the rep's turns, not between them (leak and noise only)
    inside = sum(rep_side[int(s * 8000) : int(e * 8000)].std() for s, e in first.rep_spans)
    assert inside / len(first.rep_spans) > 3 * rep_side[: int(first.rep_spans[0][0] * 8000)].std()
    mono = mono_call(rep, 1, "clean", tmp_path)
    assert mono.audio.is_file() and mono.customer not in rep.learn_customers
    assert mono.rep_spans and all(e > s for s, e in mono.rep_spans)


@needs_evaldata
def test_tiny_run_has_every_figure_in_range(tmp_path) -> None:
    settings = Settings(reps=("FEE083",), learned=(1,), calls_per_rep=2, enrol=False)
    document = run_rep_mapping(settings, tmp_path, quiet=True)
    assert document["reps"] == ["FEE083"]
    assert [(r["condition"], r["source"]) for r in document["figures"]] == [
        ("clean", "learned-1"),
        ("telephone", "learned-1"),
    ]
    for row in document["figures"]:
        assert row["calls"] == 2 and row["right"] + row["wrong"] + row["none"] == 2
        assert row["merged"] + row["customer"] == row["wrong"]
        assert row["rightPct"] + row["wrongPct"] + row["nonePct"] == pytest.approx(100.0)
        assert row["meanRepScore"] is None or 0.0 < row["meanRepScore"] <= 1.0
    assert len(document["learning"]) == 2
    assert all(r["layout"] == "dual-channel" for r in document["learning"])
    assert document["targetsMet"] == {"clean": None, "telephone": None}  # 3 calls not run
    for call in document["calls"]:
        assert call["outcome"] in ("right", "wrong", "none")
        assert 0.0 <= call["purity"] <= 1.0 and 0.0 <= call["coverage"] <= 1.0
    assert "learned-1" in format_table(document)


def test_figures_count_each_outcome_and_split_the_wrong_ones() -> None:
    def call(outcome: str, coverage: float, speakers: int = 2) -> dict:
        voiceprint = outcome != "none"
        return {
            "condition": "clean",
            "source": "learned-3",
            "outcome": outcome,
            "coverage": coverage,
            "speakers": speakers,
            "repRule": "voiceprint" if voiceprint else None,
            "score": 0.7 if voiceprint else None,
        }

    calls = [call("right", 0.9, 1), call("wrong", 0.9), call("wrong", 0.1), call("none", 0.0)]
    (row,) = figures(calls)
    counts = ("right", "wrong", "merged", "customer", "none", "oneSpeaker")
    assert [row[k] for k in counts] == [1, 2, 1, 1, 1, 1]
    assert row["rightPct"] == 25.0 and row["wrongPct"] == 50.0 and row["meanRepScore"] == 0.7
    assert targets_met([row]) == {"clean": False}
    assert targets_met(figures([call("right", 0.9)] * 20)) == {"clean": True}
