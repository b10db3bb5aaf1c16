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
_PADDED_SAMPLES = _INPUT_SAMPLES + _REFLECT_PAD
_N_FFT = 256
_HOP = 128
_HIDDEN = 128
_FRAMES_PER_STEP = 256  # frames whose features are computed at once (scratch of about 1 MB)
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
        # Each convolution as matrix products of stacked inputs: for an output step, the input
        # steps its taps reach side by side (zero padding left out) times the taps stacked.
        # conv1 (kernel 3, stride 1, padding 1) on 4 STFT steps: (129 * taps, 128) per step
        taps1 = [np.ascontiguousarray(conv[0][:, :, k].T) for k in range(3)]
        self._conv1 = np.ascontiguousarray(np.concatenate(taps1))
        # conv2 (stride 2, padding 1): step 0 sees input steps 0-1 (taps 1-2), step 1 steps 1-3
        taps2 = [np.ascontiguousarray(conv[1][:, :, k].T) for k in range(3)]
        self._conv2 = (np.concatenate(taps2[1:]), np.concatenate(taps2))
        # conv3 (stride 2, padding 1): one step from input steps 0-1 (taps 1-2); conv4 on one
        # step sees its centre tap only
        self._conv3 = np.ascontiguousarray(np.concatenate([conv[2][:, :, 1].T, conv[2][:, :, 2].T]))
        self._conv4 = np.ascontiguousarray(conv[3][:, :, 1].T)
        # The LSTM's gates are reordered to (input, forget, output, cell) so the three sigmoid
        # gates are one slice, and computed as tanh(x / 2) (sigmoid(x) = (tanh(x / 2) + 1) / 2),
        # so one tanh serves all four gates: their weights are halved here. The hidden state is
        # carried doubled through a block (its weights halved again): exact, as scaling by a
        # power of two is.
        order = np.r_[0 : 2 * _HIDDEN, 3 * _HIDDEN : 4 * _HIDDEN, 2 * _HIDDEN : 3 * _HIDDEN]
        scale = np.full(4 * _HIDDEN, 0.5, dtype=np.float32)
        scale[3 * _HIDDEN :] = 1.0
        self._w_ih = np.ascontiguousarray(w["decoder.rnn.weight_ih"].T[:, order] * scale)
        self._w_hh = np.ascontiguousarray(w["decoder.rnn.weight_hh"].T[:, order] * scale * 0.5)
        self._b_lstm = (w["decoder.rnn.bias_ih"] + w["decoder.rnn.bias_hh"])[order] * scale
        self._w_out = np.ascontiguousarray(w["decoder.decoder.2.weight"][0, :, 0]) * 0.5
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
        num_frames, num_streams = framed[0].shape[0], len(streams)
        out = np.empty((num_frames, num_streams), dtype=np.float32)
        hidden = np.stack([s._hidden for s in streams]) * 2.0  # carried doubled, see __init__
        cell = np.stack([s._cell for s in streams])
        for first in range(0, num_frames, _FRAMES_PER_STEP):
            last = min(num_frames, first + _FRAMES_PER_STEP)
            # shape: (frames, streams, model input + reflection): the streams' rows interleaved
            inputs = np.empty((last - first, num_streams, _PADDED_SAMPLES), dtype=np.float32)
            for i, (stream, frames) in enumerate(zip(streams, framed, strict=True)):
                stream._with_context(frames[first:last], inputs[:, i])
            # shape: (frames, streams, 4 * hidden)
            projected = self._project(inputs.reshape(-1, _PADDED_SAMPLES)).reshape(
                last - first, num_streams, -1
            )
            hidden, cell, states = self._lstm(projected, hidden, cell)
            out[first:last] = self._decode(states)
        for i, stream in enumerate(streams):
            stream._hidden, stream._cell = hidden[i] * 0.5, cell[i].copy()
        return [np.ascontiguousarray(out[:, i]) for i in range(num_streams)]

    def _project(self, padded: np.ndarray) -> np.ndarray:
        """(n, 640) model inputs -> (n, 4 * hidden) LSTM input terms (bias included).

        The first 576 samples of each row are the model's input; the last 64 (its reflection
        padding) are written here.
        """
        n = padded.shape[0]
        padded[:, _INPUT_SAMPLES:] = padded[
            :, _INPUT_SAMPLES - 2 : _INPUT_SAMPLES - 2 - _REFLECT_PAD : -1
        ]
        windows = sliding_window_view(padded, _N_FFT, axis=1)[:, ::_HOP]
        steps = windows.shape[1]  # 4 STFT frames per model frame
        bins = _N_FFT // 2 + 1
        # shape: (n, steps * bins): the magnitudes of each frame's steps side by side
        magnitude = np.abs(sp_fft.rfft(windows * self._window)).reshape(n, steps * bins)
        # conv1, kernel 3, padding 1: y[t] = x[t-1] W0 + x[t] W1 + x[t+1] W2, one product per
        # step over the input steps it reaches
        y1 = np.empty((n, steps, _HIDDEN), dtype=np.float32)
        for t in range(steps):
            low, high = max(t - 1, 0), min(t + 1, steps - 1)
            taps = self._conv1[(low - t + 1) * bins : (high - t + 2) * bins]
            np.matmul(magnitude[:, low * bins : (high + 1) * bins], taps, out=y1[:, t])
        y1 = _relu(np.add(y1, self._bias[0], out=y1))
        # conv2, stride 2, padding 1: 4 steps -> 2 (input steps 0-1, then 1-3)
        y2 = np.empty((n, 2, self._conv2[0].shape[1]), dtype=np.float32)
        np.matmul(y1[:, 0:2].reshape(n, -1), self._conv2[0], out=y2[:, 0])
        np.matmul(y1[:, 1:4].reshape(n, -1), self._conv2[1], out=y2[:, 1])
        y2 = _relu(np.add(y2, self._bias[1], out=y2)).reshape(n, -1)
        # conv3, stride 2, padding 1: 2 steps -> 1; conv4 on one step sees its centre tap only
        y3 = _relu(np.add(y2 @ self._conv3, self._bias[2]))
        y4 = _relu(np.add(y3 @ self._conv4, self._bias[3]))
        return np.add(y4 @ self._w_ih, self._b_lstm)

    def _lstm(
        self, projected: np.ndarray, hidden: np.ndarray, cell: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Step the LSTM cell through (frames, streams, 4 * hidden) input terms.

        The hidden state comes in and goes out doubled (``states`` too); one step is a few
        in-place operations on preallocated arrays, as Python's cost per step is most of it.
        """
        h = _HIDDEN
        states = np.empty(projected.shape[:2] + (h,), dtype=np.float32)
        gates = np.empty(projected.shape[1:], dtype=np.float32)
        sigmoid, in_gate, forget = gates[:, : 3 * h], gates[:, :h], gates[:, h : 2 * h]
        out_gate, candidate = gates[:, 2 * h : 3 * h], gates[:, 3 * h :]
        scratch = np.empty((gates.shape[0], h), dtype=np.float32)
        squashed = np.empty((gates.shape[0], h), dtype=np.float32)
        # the constants as arrays: an operation on two arrays is cheaper to dispatch than one
        # with a Python float
        ones = np.ones_like(sigmoid)
        halves = np.full_like(scratch, 0.5)
        cell = cell.copy()
        dot, add, multiply, tanh, w_hh = np.dot, np.add, np.multiply, np.tanh, self._w_hh
        for inputs, state in zip(projected, states, strict=True):
            dot(hidden, w_hh, out=gates)
            add(gates, inputs, out=gates)
            tanh(gates, out=gates)
            # twice the sigmoid: tanh(x / 2) + 1 for the input, forget and output gates
            add(sigmoid, ones, out=sigmoid)
            multiply(cell, forget, out=cell)
            multiply(in_gate, candidate, out=scratch)
            add(cell, scratch, out=cell)
            multiply(cell, halves, out=cell)
            tanh(cell, out=squashed)
            multiply(out_gate, squashed, out=state)
            hidden = state
        return hidden, cell, states

    def _decode(self, states: np.ndarray) -> np.ndarray:
        """(frames, streams, hidden) doubled LSTM outputs -> (frames, streams) probabilities."""
        # not in place: the last state is the hidden state carried on
        logits = np.maximum(states, 0.0) @ self._w_out + self._b_out
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
        samples = np.asarray(samples, dtype=np.float32)
        if len(self._pending):  # else the caller's samples are read in place, not copied
            samples = np.concatenate([self._pending, samples])
        num_frames = len(samples) // FRAME_SAMPLES
        self._pending = samples[num_frames * FRAME_SAMPLES :].copy()
        # shape: (num_frames, FRAME_SAMPLES)
        return samples[: num_frames * FRAME_SAMPLES].reshape(num_frames, FRAME_SAMPLES)

    def _with_context(self, frames: np.ndarray, out: np.ndarray) -> None:
        """Write the (n, 576) model inputs into ``out[:, :576]``: each frame prefixed with the
        previous frame's tail."""
        out[0, :_CONTEXT_SAMPLES] = self._context
        out[1:, :_CONTEXT_SAMPLES] = frames[:-1, -_CONTEXT_SAMPLES:]
        out[:, _CONTEXT_SAMPLES:_INPUT_SAMPLES] = frames
        self._context = frames[-1, -_CONTEXT_SAMPLES:].copy()


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
