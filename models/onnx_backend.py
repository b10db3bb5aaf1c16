"""Run a network's forward pass through ONNX Runtime on a CPU.

On one CPU thread ONNX Runtime runs the bundled networks faster than PyTorch's eager mode
(CAM++ on 4 s of speech: about 65 ms against 100 ms; segmentation-3.0 on 32 chunks of 10 s:
1.15 s against 1.5 s), with outputs equal to within 1e-4. The network is exported once with
PyTorch's own exporter and kept in this tool's cache folder (``~/.cache/gong-diarize/onnx`` on
Linux), named by a hash of its weights and of the versions that shaped the export, so a later
run only opens the file (a quarter of a second). Nothing is downloaded: the file is made here
from the weights on disk.

PyTorch stays in charge whenever the faster path cannot be taken: on a GPU, when gradients are
wanted, when ``GONG_DIARIZE_BACKEND=torch`` is set, or when the export fails (the ``onnx``
package missing, a network the exporter does not handle); the reason is logged once.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import platformdirs
import torch
from torch import nn

__all__ = ["BACKEND_ENV", "OnnxForward", "onnx_cache_dir"]

BACKEND_ENV = "GONG_DIARIZE_BACKEND"
"""Environment variable: ``torch`` keeps every forward pass in PyTorch (default: ``onnx``)."""

_EXPORT_VERSION = 1  # bump when the way networks are exported changes
_OPSET = 17
_log = logging.getLogger(__name__)


def onnx_cache_dir() -> Path:
    """Where exported networks are kept (per user, this tool's own cache folder)."""
    return Path(platformdirs.user_cache_dir("gong-diarize", appauthor=False)) / "onnx"


class OnnxForward:
    """A network's forward pass, run by ONNX Runtime once it is first called.

    Parameters
    ----------
    module
        The network, in eval mode, whose single tensor input and output are exported.
    name
        Stem of the exported file (e.g. ``"campplus"``).
    example_shape
        Shape of the input used to trace the network.
    dynamic_axes
        For the input and the output, which axes may change size ({axis: name}).
    """

    def __init__(
        self,
        module: nn.Module,
        name: str,
        example_shape: Sequence[int],
        dynamic_axes: Mapping[str, Mapping[int, str]],
    ) -> None:
        self.module = module
        self.name = name
        self.example_shape = tuple(example_shape)
        self.dynamic_axes = {k: dict(v) for k, v in dynamic_axes.items()}
        self._session = None
        self._failed = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OnnxForward({self.name!r})"

    def __getstate__(self) -> dict:
        # an ONNX Runtime session cannot be copied or pickled: a copy opens its own
        state = dict(self.__dict__)
        state.update(_session=None, _lock=None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def usable(self, inputs: torch.Tensor) -> bool:
        """Whether `inputs` can go through ONNX Runtime (a CPU tensor, no gradient wanted)."""
        return (
            inputs.device.type == "cpu"
            and not torch.is_grad_enabled()
            and os.environ.get(BACKEND_ENV, "onnx").strip().lower() != "torch"
            and not self._failed
        )

    def __call__(self, inputs: torch.Tensor) -> torch.Tensor:
        """The network's output for `inputs`, from ONNX Runtime when `usable`, else PyTorch."""
        session = self._open() if self.usable(inputs) else None
        if session is None:
            return self.module(inputs)
        array = inputs.detach().to(torch.float32).contiguous().numpy()
        (output,) = session.run(None, {"input": array})
        return torch.from_numpy(np.ascontiguousarray(output))

    def reset(self) -> None:
        """Forget the session (after the module's weights changed)."""
        with self._lock:
            self._session = None
            self._failed = False

    def _open(self):
        if self._session is not None:
            return self._session
        with self._lock:
            if self._session is None and not self._failed:
                try:
                    self._session = _session(self._model_bytes())
                except Exception as exc:  # export and runtime errors of every kind
                    self._failed = True
                    _log.info("%s runs in PyTorch (no ONNX Runtime export: %s)", self.name, exc)
        return self._session

    def _model_bytes(self) -> bytes:
        path = onnx_cache_dir() / f"{self.name}-{self._key()}.onnx"
        try:
            return path.read_bytes()
        except OSError:
            pass
        data = self._export()
        try:
            _write_atomically(path, data)
        except OSError as exc:  # a read-only cache: export again next time
            _log.info("cannot keep %s in %s (%s)", self.name, path.parent, exc)
        return data

    def _key(self) -> str:
        """A hash of the weights, the layers and their code, the input layout and the versions."""
        digest = hashlib.sha256()
        spec = (
            type(self.module).__qualname__,
            self.example_shape,
            sorted((k, sorted(v.items())) for k, v in self.dynamic_axes.items()),
            torch.__version__,
            _OPSET,
            _EXPORT_VERSION,
        )
        digest.update(repr(spec).encode())
        digest.update(repr(self.module).encode())  # the layers, e.g. one replaced after loading
        for cls in type(self.module).__mro__:
            if cls.__module__.startswith("torch."):
                break
            digest.update(Path(inspect.getfile(cls)).read_bytes())  # the forward code
        for name, tensor in sorted(self.module.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()[:16]

    def _export(self) -> bytes:
        buffer = io.BytesIO()
        example = torch.zeros(self.example_shape)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer notes on shape-dependent Python code
            torch.onnx.export(
                self.module,
                (example,),
                buffer,
                input_names=["input"],
                output_names=["output"],
                dynamic_axes=self.dynamic_axes,
                opset_version=_OPSET,
                dynamo=False,
            )
        return buffer.getvalue()


def _session(model: bytes):
    """An ONNX Runtime CPU session with PyTorch's thread count."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = max(1, torch.get_num_threads())
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
