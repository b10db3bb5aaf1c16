"""Loading and wrapping model weights: segmentation-3.0, CAM++, Silero VAD, diarization pipelines.

Importing this package first imports `models._privacy`, which switches off the telemetry,
host look-ups and home-folder caches of the dependencies (ONNX Runtime, pyannote.audio, Hugging
Face hub, matplotlib) before any of them is imported. Heavy names (torch, pyannote) are
imported on first use only, so ``import models`` stays cheap.
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import Any

from models import _privacy  # noqa: F401  (before any dependency is imported)

__all__ = [
    "DiarizationConfig",
    "build_offline_pipeline",
    "disable_telemetry",
    "export_pipeline_dir",
    "load_config",
    "load_model",
    "load_pipeline",
    "load_pretrained_pipeline",
]

_LAZY = {
    "DiarizationConfig": "models.config",
    "load_config": "models.config",
    "load_model": "models.loader",
    "build_offline_pipeline": "models.pipelines",
    "export_pipeline_dir": "models.pipelines",
    "load_pipeline": "models.pipelines",
    "load_pretrained_pipeline": "models.pipelines",
}


def disable_telemetry() -> None:
    """Switch pyannote.audio's usage metrics off for this process, whatever the environment says."""
    os.environ["PYANNOTE_METRICS_ENABLED"] = "false"


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'models' has no attribute {name!r}")
