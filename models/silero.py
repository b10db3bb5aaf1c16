"""Silero VAD from the weights inside the `silero-vad` wheel, run as a stream of 32 ms frames.

The wheel's *sequence* ONNX export evaluates a whole block of frames in one call while keeping
the LSTM state between calls, so a long recording is processed block by block with exactly the
probabilities the frame-by-frame model would give, at several hundred times real time per core.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import numpy as np

__all__ = ["FRAME_SAMPLES", "SAMPLE_RATE", "SileroStream", "SileroVad", "load_silero_vad"]

SAMPLE_RATE = 16_000
FRAME_SAMPLES = 512  # one probability per 32 ms
_CONTEXT_SAMPLES = 64  # the model sees the last 4 ms of the previous frame too
_MODEL_FILE = "silero_vad_16k_sequence.onnx"
_MAX_FRAMES_PER_CALL = 1024


class SileroVad:
    """A loaded Silero VAD model; create one `SileroStream` per channel with `stream()`."""

    def __init__(self, session: object) -> None:
        self._session = session

    def stream(self) -> SileroStream:
        """A new stream with fresh model state, for one channel of one recording."""
        return SileroStream(self._session)

    def probabilities(self, audio_16k: np.ndarray) -> np.ndarray:
        """Speech probability of each 32 ms frame of a whole mono 16 kHz signal."""
        stream = self.stream()
        return np.concatenate([stream.process(audio_16k), stream.flush()])


class SileroStream:
    """Feeds consecutive 16 kHz mono blocks of any length through the model.

    `process` returns the probabilities of every frame completed so far; `flush` zero-pads
    the last partial frame and returns its probability.
    """

    def __init__(self, session: object) -> None:
        self._session = session
        self._hidden = np.zeros((1, 1, 128), dtype=np.float32)
        self._cell = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(_CONTEXT_SAMPLES, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Probabilities, one per complete 32 ms frame, of `samples` appended to the stream."""
        samples = np.concatenate([self._pending, np.asarray(samples, dtype=np.float32)])
        num_frames = len(samples) // FRAME_SAMPLES
        self._pending = samples[num_frames * FRAME_SAMPLES :]
        if num_frames == 0:
            return np.zeros(0, dtype=np.float32)
        # shape: (num_frames, FRAME_SAMPLES)
        frames = samples[: num_frames * FRAME_SAMPLES].reshape(num_frames, FRAME_SAMPLES)
        outputs = []
        for first in range(0, num_frames, _MAX_FRAMES_PER_CALL):
            outputs.append(self._run(frames[first : first + _MAX_FRAMES_PER_CALL]))
        return np.concatenate(outputs)

    def flush(self) -> np.ndarray:
        """Probability of the trailing partial frame (zero-padded), if there is one."""
        if len(self._pending) == 0:
            return np.zeros(0, dtype=np.float32)
        frame = np.zeros((1, FRAME_SAMPLES), dtype=np.float32)
        frame[0, : len(self._pending)] = self._pending
        self._pending = np.zeros(0, dtype=np.float32)
        return self._run(frame)

    def _run(self, frames: np.ndarray) -> np.ndarray:
        # shape: (n, CONTEXT + FRAME): each frame prefixed with the previous frame's tail
        contexts = np.empty((len(frames), _CONTEXT_SAMPLES), dtype=np.float32)
        contexts[0] = self._context
        contexts[1:] = frames[:-1, -_CONTEXT_SAMPLES:]
        self._context = frames[-1, -_CONTEXT_SAMPLES:].copy()
        inputs = {
            "input": np.concatenate([contexts, frames], axis=1),
            "h": self._hidden,
            "c": self._cell,
        }
        probs, self._hidden, self._cell = self._session.run(["speech_probs", "hn", "cn"], inputs)
        return np.asarray(probs, dtype=np.float32).reshape(-1)


def load_silero_vad(num_threads: int = 1) -> SileroVad:
    """Load the Silero VAD sequence model that ships in the `silero-vad` wheel (no download)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = num_threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        str(_weights_path()), sess_options=options, providers=["CPUExecutionProvider"]
    )
    return SileroVad(session)


def _weights_path() -> Path:
    """The ONNX file inside the installed wheel, found without importing `silero_vad` (whose
    package imports torch: over 600 MB of memory the stereo path does not need)."""
    spec = find_spec("silero_vad")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("silero-vad is not installed: pip install silero-vad")
    return Path(spec.origin).parent / "data" / _MODEL_FILE
