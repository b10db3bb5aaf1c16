"""Accuracy figures on cases small enough to check by hand."""

from __future__ import annotations

import pytest

from benchmarks.metrics import boundary_scores, matched_count, optimal_mapping, score
from benchmarks.rttm import Turn

REF = [Turn(1.0, 5.0, "rep"), Turn(6.0, 10.0, "customer-1")]


def test_perfect_hypothesis_with_other_labels():
    hyp = [Turn(1.0, 5.0, "S1"), Turn(6.0, 10.0, "S0")]
    m = score(REF, hyp, (0.0, 12.0))
    assert m["der"] == 0.0 and m["jer"] == 0.0 and m["speaker_count_error"] == 0.0
    assert m["boundary_precision"] == m["boundary_recall"] == m["precise_share"] == 1.0
    assert "party_accuracy" not in m


def test_der_components_by_hand():
    # 8 s of reference speech: 1 s missed (9-10), 0.5 s false alarm (5-5.5),
    # 2 s confused (6-8 labelled as the rep's voice).
    hyp = [Turn(1.0, 5.5, "A"), Turn(6.0, 8.0, "A"), Turn(8.0, 9.0, "B")]
    m = score(REF, hyp, (0.0, 12.0))
    assert m["ref_speech_s"] == pytest.approx(8.0)
    assert m["der_miss"] == pytest.approx(1.0 / 8)
    assert m["der_fa"] == pytest.approx(0.5 / 8)
    assert m["der_confusion"] == pytest.approx(2.0 / 8)
    assert m["der"] == pytest.approx(3.5 / 8)


def test_collar_is_a_quarter_second_each_side():
    shifted = [Turn(1.2, 5.2, "A"), Turn(6.2, 10.2, "B")]  # every edge 0.2 s late
    m = score(REF, shifted, (0.0, 12.0))
    assert m["der"] == pytest.approx(0.8 / 8)
    assert m["der_collar"] == pytest.approx(0.0)
    late = [Turn(1.3, 5.0, "A"), Turn(6.0, 10.0, "B")]  # 0.3 s late: 0.05 s outside the collar
    assert score(REF, late, (0.0, 12.0))["der_collar"] > 0


def test_boundary_precision_recall_and_precise_share():
    # rep: start 30 ms late (ok), end 150 ms early (not ok); customer split in two at 8 s.
    hyp = [Turn(1.03, 4.85, "A"), Turn(6.0, 8.0, "B"), Turn(8.3, 10.05, "B")]
    mapping = {"A": "rep", "B": "customer-1"}
    b = boundary_scores(REF, hyp, mapping, (0.0, 12.0))
    # reference edges: 1, 5, 6, 10 -> 4; hypothesis edges: 1.03, 4.85, 6, 8, 8.3, 10.05 -> 6
    # matched: 1.03~1, 6~6, 10.05~10 -> 3
    assert (b["edges_ref"], b["edges_hyp"], b["edges_matched"]) == (4, 6, 3)
    assert b["boundary_recall"] == pytest.approx(3 / 4)
    assert b["boundary_precision"] == pytest.approx(3 / 6)
    # no hypothesis segment has both edges right: A's end, B1's end and B2's start are off
    assert b["precise_share"] == 0.0


def test_edges_are_matched_to_the_mapped_speaker_only():
    hyp = [Turn(1.0, 5.0, "B"), Turn(6.0, 10.0, "A")]
    wrong = boundary_scores(REF, hyp, {"A": "rep", "B": "customer-1"}, (0.0, 12.0))
    assert wrong["edges_matched"] == 0 and wrong["precise_share"] == 0.0


def test_edges_at_the_scoring_border_are_not_judged():
    ref = [Turn(0.0, 4.0, "a")]
    hyp = [Turn(0.05, 4.0, "x")]
    b = boundary_scores(ref, hyp, {"x": "a"}, (0.0, 10.0))
    assert (b["edges_ref"], b["edges_hyp"], b["precise_share"]) == (1, 1, 1.0)


def test_matched_count_is_one_to_one():
    assert matched_count([1.0], [0.95, 1.05], 0.1) == 1
    assert matched_count([1.0, 1.1], [1.05], 0.1) == 1
    assert matched_count([1.0, 1.2, 1.4], [1.1, 1.3, 1.5], 0.1) == 3
    assert matched_count([1.0], [1.2], 0.1) == 0


def test_party_accuracy_and_ier_take_labels_literally():
    right = score(REF, [Turn(1, 5, "rep"), Turn(6, 10, "customer-1")], (0, 12), True)
    swapped = score(REF, [Turn(1, 5, "customer-1"), Turn(6, 10, "rep")], (0, 12), True)
    assert right["party_accuracy"] == 1.0 and right["ier"] == 0.0
    assert swapped["party_accuracy"] == 0.0 and swapped["ier"] == pytest.approx(1.0)
    assert swapped["der"] == 0.0  # DER maps labels optimally


def test_speaker_count_error_and_empty_hypothesis():
    m = score(REF, [], (0.0, 12.0))
    assert m["der"] == pytest.approx(1.0) and m["speaker_count_error"] == 2.0
    assert m["boundary_precision"] is None and m["boundary_recall"] == 0.0
    extra = score(REF, [*REF, Turn(11, 11.5, "x")], (0.0, 12.0))
    assert extra["speaker_count_error"] == 1.0


def test_optimal_mapping():
    hyp = [Turn(1.0, 4.0, "S0"), Turn(6.0, 9.0, "S1"), Turn(9.0, 9.5, "S2")]
    assert optimal_mapping(REF, hyp, (0.0, 12.0)) == {"S0": "rep", "S1": "customer-1"}
