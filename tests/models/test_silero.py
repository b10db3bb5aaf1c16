"""Silero VAD in numpy: the same probabilities as the wheel's ONNX model, however it is fed."""

from __future__ import annotations

import numpy as np
import pytest

from models.silero import FRAME_SAMPLES, _weights_path, load_silero_vad
from tests.models.voices import sample_audio, sample_reference

_CONTEXT = 64


def _onnx_probabilities(audio: np.ndarray) -> np.ndarray:
    """Per-frame probabilities from the wheel's sequence ONNX export, frame by frame state."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(
        str(_weights_path().parent / "silero_vad_16k_sequence.onnx"),
        sess_options=options,
        providers=["CPUExecutionProvider"],
    )
    n = len(audio) // FRAME_SAMPLES
    frames = audio[: n * FRAME_SAMPLES].reshape(n, FRAME_SAMPLES)
    contexts = np.zeros((n, _CONTEXT), dtype=np.float32)
    contexts[1:] = frames[:-1, -_CONTEXT:]
    hidden = np.zeros((1, 1, 128), dtype=np.float32)
    cell = np.zeros((1, 1, 128), dtype=np.float32)
    probs, _, _ = session.run(
        None, {"input": np.concatenate([contexts, frames], axis=1), "h": hidden, "c": cell}
    )
    return np.asarray(probs, dtype=np.float32).reshape(-1)


@pytest.fixture(scope="module")
def vad():
    return load_silero_vad()


@pytest.fixture(scope="module")
def audio() -> np.ndarray:
    return np.ascontiguousarray(sample_audio(), dtype=np.float32)


def test_probabilities_match_the_onnx_model(vad, audio) -> None:
    """Real speech: every frame within 1e-4 of ONNX Runtime's, and speech where people talk."""
    ours = vad.probabilities(audio)
    reference = _onnx_probabilities(audio)
    assert len(ours) == -(-len(audio) // FRAME_SAMPLES)
    assert np.abs(ours[: len(reference)] - reference).max() < 1e-4
    speech = np.zeros(len(ours), dtype=bool)
    for turn in sample_reference().itersegments():
        speech[int(turn.start / 0.032) : int(turn.end / 0.032)] = True
    assert (ours[speech] >= 0.5).mean() > 0.8
    assert (ours[~speech] >= 0.5).mean() < 0.3


def test_streaming_in_uneven_blocks_equals_the_whole(vad, audio) -> None:
    """State and the 4 ms context carry across blocks of any length."""
    whole = vad.probabilities(audio)
    stream = vad.stream()
    pieces = [stream.process(audio[a : a + 7777]) for a in range(0, len(audio), 7777)]
    pieces.append(stream.flush())
    np.testing.assert_allclose(np.concatenate(pieces), whole, atol=1e-5)


def test_streams_stepped_together_equal_streams_alone(vad, audio) -> None:
    """Two channels processed in lockstep give each channel's own probabilities."""
    other = np.ascontiguousarray(audio[::-1])
    left, right = vad.stream(), vad.stream()
    together = [
        vad.process([left, right], [audio[a : a + 48000], other[a : a + 48000]])
        for a in range(0, len(audio), 48000)
    ]
    joined = [np.concatenate([t[i] for t in together]) for i in (0, 1)]
    for probs, signal in zip(joined, (audio, other), strict=True):
        alone = vad.stream().process(signal)
        np.testing.assert_allclose(probs, alone, atol=1e-5)


def test_scratch_memory_does_not_grow_with_the_recording(vad) -> None:
    """Ten minutes in one call: features and LSTM run a step of frames at a time (the whole
    recording's LSTM inputs at once would be 38 MB)."""
    import tracemalloc

    signal = (np.random.default_rng(0).standard_normal(600 * 16000) * 0.01).astype(np.float32)
    tracemalloc.start()
    try:
        probs = vad.probabilities(signal)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(probs) == -(-len(signal) // FRAME_SAMPLES)
    assert peak < 16 * 2**20
