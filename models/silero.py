"""Silero VAD from the weights inside the `silero-vad` wheel, computed with numpy.

Silero VAD (v6, 16 kHz) gives one speech probability per 32 ms frame: each frame (with the
last 4 ms of the previous one) goes through a short-time Fourier transform, four small
convolutions and one LSTM cell whose state runs from frame to frame. Only the LSTM depends on
earlier frames, so everything before it is computed for a whole block of frames at once as a
few large matrix products, and the LSTM steps through the block with its input already
projected. Several streams (the channels of a stereo call) step together, one matrix product
per frame for all of them. The probabilities match the wheel's ONNX model to within 1e-5
(`tests/models/test_silero.py`) at about three times its speed per core.

The weights are read from the wheel's TorchScript archive (``silero_vad.jit``) with a
restricted unpickler: no torch is imported (over 600 MB of memory the stereo path does not
need) and nothing in the archive is executed.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import fft as sp_fft
from threadpoolctl import ThreadpoolController

__all__ = ["FRAME_SAMPLES", "SAMPLE_RATE", "SileroStream", "SileroVad", "load_silero_vad"]

SAMPLE_RATE = 16_000
FRAME_SAMPLES = 512  # one probability per 32 ms
_CONTEXT_SAMPLES = 64  # the model sees the last 4 ms of the previous frame too
_INPUT_SAMPLES = _CONTEXT_SAMPLES + FRAME_SAMPLES
_REFLECT_PAD = 64  # the STFT input is padded on the right by reflection
_N_FFT = 256
_HOP = 128
_HIDDEN = 128
_FRAMES_PER_STEP = 512  # frames whose features are computed at once (a few MB of scratch)
_MODEL_FILE = "silero_vad.jit"
_PREFIX = "_model."  # the 16 kHz model inside the archive (``_model_8k`` is the other)
_BLAS = ThreadpoolController()


class SileroVad:
    """A loaded Silero VAD model; create one `SileroStream` per channel with `stream()`.

    Parameters
    ----------
    weights
        The 16 kHz model's tensors by their TorchScript names (see `load_silero_vad`).
    """

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        w = {k[len(_PREFIX) :]: v.astype(np.float32) for k, v in weights.items()}
        # The STFT's basis is the DFT of a periodic Hann window: a real FFT computes it in a
        # third of the time of a product with the basis (and agrees within 1e-6 relative).
        basis = w["stft.forward_basis_buffer"][:, 0, :]
        self._window = np.hanning(_N_FFT + 1)[:-1].astype(np.float32)
        if not np.allclose(basis[0], self._window, atol=1e-6):
            raise ValueError("Silero VAD weights: the STFT basis is not a Hann-windowed DFT")
        conv = [w[f"encoder.{i}.reparam_conv.weight"] for i in range(4)]
        self._bias = [w[f"encoder.{i}.reparam_conv.bias"] for i in range(4)]
        # conv1 (stride 1, 4 steps): the three taps side by side, summed after shifting
        self._conv1 = np.ascontiguousarray(
            np.concatenate([k.T for k in conv[0].transpose(2, 0, 1)], 1)
        )
        # conv2-4 are applied tap by tap: shape of each (in, out)
        self._taps = [
            [np.ascontiguousarray(conv[i][:, :, k].T) for k in range(3)] for i in (1, 2, 3)
        ]
        # The LSTM's sigmoid gates (input, forget, output) are computed as tanh(x / 2), so one
        # tanh serves all four gates: their weights are halved here.
        scale = np.ones(4 * _HIDDEN, dtype=np.float32)
        scale[: 2 * _HIDDEN] = 0.5
        scale[3 * _HIDDEN :] = 0.5
        self._w_ih = np.ascontiguousarray(w["decoder.rnn.weight_ih"].T * scale)
        self._w_hh = np.ascontiguousarray(w["decoder.rnn.weight_hh"].T * scale)
        self._b_lstm = (w["decoder.rnn.bias_ih"] + w["decoder.rnn.bias_hh"]) * scale
        self._w_out = np.ascontiguousarray(w["decoder.decoder.2.weight"][0, :, 0])
        self._b_out = float(w["decoder.decoder.2.bias"][0])

    def stream(self) -> SileroStream:
        """A new stream with fresh model state, for one channel of one recording."""
        return SileroStream(self)

    def probabilities(self, audio_16k: np.ndarray) -> np.ndarray:
        """Speech probability of each 32 ms frame of a whole mono 16 kHz signal."""
        stream = self.stream()
        return np.concatenate([stream.process(audio_16k), stream.flush()])

    def process(
        self, streams: Sequence[SileroStream], blocks: Sequence[np.ndarray]
    ) -> list[np.ndarray]:
        """`SileroStream.process` of each stream with its block, the streams stepped together.

        Faster than one stream after another when the blocks have the same length (the
        channels of one recording): the LSTM runs one matrix product per frame for all.
        """
        framed = [s._frames(b) for s, b in zip(streams, blocks, strict=True)]
        if len({f.shape[0] for f in framed}) > 1:
            return [self._run([s], [f])[0] for s, f in zip(streams, framed, strict=True)]
        return self._run(list(streams), framed)

    def _run(self, streams: list[SileroStream], framed: list[np.ndarray]) -> list[np.ndarray]:
        """Probabilities of (num_frames, FRAME_SAMPLES) frames, one array per stream."""
        if framed[0].shape[0] == 0:
            return [np.zeros(0, dtype=np.float32) for _ in streams]
        # Matrices this small run fastest on one BLAS thread; more threads spin and wait,
        # worst of all on a machine with other work (6x the CPU time on two busy cores).
        with _BLAS.limit(limits=1, user_api="blas"):
            return self._run_frames(streams, framed)

    def _run_frames(
        self, streams: list[SileroStream], framed: list[np.ndarray]
    ) -> list[np.ndarray]:
        num_frames = framed[0].shape[0]
        out = np.empty((num_frames, len(streams)), dtype=np.float32)
        hidden = np.stack([s._hidden for s in streams])
        cell = np.stack([s._cell for s in streams])
        for first in range(0, num_frames, _FRAMES_PER_STEP):
            last = min(num_frames, first + _FRAMES_PER_STEP)
            inputs = []
            for stream, frames in zip(streams, framed, strict=True):
                inputs.append(stream._with_context(frames[first:last]))
            projected = self._project(np.concatenate(inputs))
            # shape: (frames, streams, 4 * hidden)
            projected = projected.reshape(len(streams), last - first, -1).transpose(1, 0, 2)
            hidden, cell, states = self._lstm(projected, hidden, cell)
            out[first:last] = self._decode(states)
        for i, stream in enumerate(streams):
            stream._hidden, stream._cell = hidden[i], cell[i]
        return [np.ascontiguousarray(out[:, i]) for i in range(len(streams))]

    def _project(self, inputs: np.ndarray) -> np.ndarray:
        """(n, 576) model inputs -> (n, 4 * hidden) LSTM input terms (bias included)."""
        n = inputs.shape[0]
        padded = np.empty((n, _INPUT_SAMPLES + _REFLECT_PAD), dtype=np.float32)
        padded[:, :_INPUT_SAMPLES] = inputs
        padded[:, _INPUT_SAMPLES:] = inputs[:, -2 : -2 - _REFLECT_PAD : -1]
        windows = sliding_window_view(padded, _N_FFT, axis=1)[:, ::_HOP]
        steps = windows.shape[1]  # 4 STFT frames per model frame
        magnitude = np.abs(sp_fft.rfft(windows.reshape(n * steps, _N_FFT) * self._window))
        # conv1, kernel 3, padding 1: y[t] = x[t-1] W0 + x[t] W1 + x[t+1] W2
        taps = (magnitude @ self._conv1).reshape(n, steps, 3, -1)
        y1 = taps[:, :, 1].copy()
        y1[:, 1:] += taps[:, :-1, 0]
        y1[:, :-1] += taps[:, 1:, 2]
        y1 = _relu(y1 + self._bias[0])
        # conv2, stride 2, padding 1: 4 steps -> 2
        (a0, a1, a2), b2 = self._taps[0], self._bias[1]
        y2 = [
            _relu(y1[:, 0] @ a1 + y1[:, 1] @ a2 + b2),
            _relu(y1[:, 1] @ a0 + y1[:, 2] @ a1 + y1[:, 3] @ a2 + b2),
        ]
        # conv3, stride 2, padding 1: 2 steps -> 1; conv4 on one step sees its centre tap only
        (_, c1, c2), b3 = self._taps[1], self._bias[2]
        y3 = _relu(y2[0] @ c1 + y2[1] @ c2 + b3)
        y4 = _relu(y3 @ self._taps[2][1] + self._bias[3])
        return y4 @ self._w_ih + self._b_lstm

    def _lstm(
        self, projected: np.ndarray, hidden: np.ndarray, cell: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Step the LSTM cell through (frames, streams, 4 * hidden) input terms."""
        states = np.empty(projected.shape[:2] + (_HIDDEN,), dtype=np.float32)
        gates = np.empty(projected.shape[1:], dtype=np.float32)
        h = _HIDDEN
        for t in range(projected.shape[0]):
            np.matmul(hidden, self._w_hh, out=gates)
            gates += projected[t]
            np.tanh(gates, out=gates)
            # sigmoid(x) = (tanh(x / 2) + 1) / 2 for the input, forget and output gates
            cell = (
                (gates[:, h : 2 * h] + 1.0) * cell + (gates[:, :h] + 1.0) * gates[:, 2 * h : 3 * h]
            ) * 0.5
            hidden = (gates[:, 3 * h :] + 1.0) * np.tanh(cell) * 0.5
            states[t] = hidden
        return hidden, cell, states

    def _decode(self, states: np.ndarray) -> np.ndarray:
        """(frames, streams, hidden) LSTM outputs -> (frames, streams) speech probabilities."""
        logits = _relu(states) @ self._w_out + self._b_out
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)


class SileroStream:
    """Feeds consecutive 16 kHz mono blocks of any length through the model.

    `process` returns the probabilities of every frame completed so far; `flush` zero-pads
    the last partial frame and returns its probability.
    """

    def __init__(self, vad: SileroVad) -> None:
        self._vad = vad
        self._hidden = np.zeros(_HIDDEN, dtype=np.float32)
        self._cell = np.zeros(_HIDDEN, dtype=np.float32)
        self._context = np.zeros(_CONTEXT_SAMPLES, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Probabilities, one per complete 32 ms frame, of `samples` appended to the stream."""
        return self._vad._run([self], [self._frames(samples)])[0]

    def flush(self) -> np.ndarray:
        """Probability of the trailing partial frame (zero-padded), if there is one."""
        if len(self._pending) == 0:
            return np.zeros(0, dtype=np.float32)
        frame = np.zeros((1, FRAME_SAMPLES), dtype=np.float32)
        frame[0, : len(self._pending)] = self._pending
        self._pending = np.zeros(0, dtype=np.float32)
        return self._vad._run([self], [frame])[0]

    def _frames(self, samples: np.ndarray) -> np.ndarray:
        """The complete frames of `samples` after what is pending; keeps the rest pending."""
        samples = np.concatenate([self._pending, np.asarray(samples, dtype=np.float32)])
        num_frames = len(samples) // FRAME_SAMPLES
        self._pending = samples[num_frames * FRAME_SAMPLES :]
        # shape: (num_frames, FRAME_SAMPLES)
        return samples[: num_frames * FRAME_SAMPLES].reshape(num_frames, FRAME_SAMPLES)

    def _with_context(self, frames: np.ndarray) -> np.ndarray:
        """(n, 576) model inputs: each frame prefixed with the previous frame's tail."""
        contexts = np.empty((len(frames), _CONTEXT_SAMPLES), dtype=np.float32)
        contexts[0] = self._context
        contexts[1:] = frames[:-1, -_CONTEXT_SAMPLES:]
        self._context = frames[-1, -_CONTEXT_SAMPLES:].copy()
        return np.concatenate([contexts, frames], axis=1)


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0, out=x)


def load_silero_vad() -> SileroVad:
    """Load the Silero VAD model that ships in the `silero-vad` wheel (no download, no torch)."""
    return SileroVad(_read_weights(_weights_path()))


def _weights_path() -> Path:
    """The TorchScript archive inside the installed wheel, found without importing
    `silero_vad` (whose package imports torch)."""
    spec = find_spec("silero_vad")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("silero-vad is not installed: pip install silero-vad")
    return Path(spec.origin).parent / "data" / _MODEL_FILE


class _Module:
    """A TorchScript module as its pickled attributes (submodules, tensors, settings)."""

    def __init__(self, *args: object) -> None:
        self.state: dict = {}

    def __setstate__(self, state: dict) -> None:
        self.state = state


class _WeightsUnpickler(pickle.Unpickler):
    """Reads the tensors of a TorchScript archive as numpy arrays, and nothing else."""

    def __init__(self, data: bytes, archive: zipfile.ZipFile, root: str) -> None:
        super().__init__(io.BytesIO(data))
        self._archive = archive
        self._root = root

    def find_class(self, module: str, name: str) -> object:
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch" and name == "FloatStorage":
            return name
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "torch.jit._pickle" and name.startswith("build_"):
            return _identity
        if module.startswith("__torch__."):
            return _Module
        raise pickle.UnpicklingError(f"{module}.{name}: not expected in Silero's weights")

    def persistent_load(self, pid: tuple) -> np.ndarray:
        _, kind, key, _, _ = pid
        if kind != "FloatStorage":
            raise pickle.UnpicklingError(f"{kind}: not expected in Silero's weights")
        return np.frombuffer(self._archive.read(f"{self._root}/data/{key}"), dtype="<f4")


def _identity(value: object) -> object:
    return value


def _rebuild_tensor(storage: np.ndarray, offset: int, size: tuple, stride: tuple, *_) -> np.ndarray:
    strides = [s * storage.itemsize for s in stride]
    return np.lib.stride_tricks.as_strided(storage[offset:], shape=size, strides=strides).copy()


def _read_weights(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of the archive's 16 kHz model (names start with ``_model.``)."""
    with zipfile.ZipFile(path) as archive:
        pickled = next(n for n in archive.namelist() if n.endswith("/data.pkl"))
        root = pickled.rsplit("/", 1)[0]
        top = _WeightsUnpickler(archive.read(pickled), archive, root).load()

    def tensors(module: _Module, prefix: str):
        for key, value in module.state.items():
            if isinstance(value, _Module):
                yield from tensors(value, f"{prefix}{key}.")
            elif isinstance(value, np.ndarray):
                yield f"{prefix}{key}", value

    return {k: v for k, v in tensors(top, "") if k.startswith(_PREFIX)}
