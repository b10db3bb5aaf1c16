"""segmentation-3.0 as a soft multi-label model."""

from __future__ import annotations

import torch

from models.loader import load_model
from models.segmentation import SoftPowersetSegmentation
from tests.models.voices import sample_audio


def test_soft_scores_agree_with_the_powerset_argmax() -> None:
    """Soft per-speaker probabilities over 0.5 mark the speakers pyannote's argmax picks."""
    powerset = load_model("segmentation-3.0")
    soft = SoftPowersetSegmentation(powerset).eval()
    chunk = torch.from_numpy(sample_audio()[16000 * 8 : 16000 * 18])[None, None]
    with torch.inference_mode():
        log_probs = powerset(chunk)
        scores = soft(chunk)
    # shape: (1, frames, 3)
    hard = soft.powerset.to_multilabel(log_probs)
    assert scores.shape == hard.shape
    assert float(scores.min()) >= 0.0 and float(scores.max()) <= 1.0
    agreement = ((scores > 0.5) == (hard > 0.5)).float().mean()
    assert agreement > 0.97
    assert hard.sum() > 100  # there is speech in this chunk


def test_pyannote_sees_a_multilabel_model_with_the_same_frames() -> None:
    powerset = load_model("segmentation-3.0")
    soft = SoftPowersetSegmentation(powerset)
    assert not soft.specifications.powerset
    assert soft.specifications.classes == powerset.specifications.classes
    for attribute in ("start", "duration", "step"):
        assert getattr(soft.receptive_field, attribute) == getattr(
            powerset.receptive_field, attribute
        )
    assert soft.num_frames(160000) == powerset.num_frames(160000)
