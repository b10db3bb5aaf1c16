"""Loading and wrapping model weights: segmentation-3.0, CAM++, Silero VAD, diarization pipelines.

Importing this package switches pyannote.audio's usage telemetry off (it would otherwise send
usage events to an outside endpoint; recordings of customer calls are private). Only a
``PYANNOTE_METRICS_ENABLED=true`` set before pyannote.audio was first imported is respected.
Heavy names (torch, pyannote) are imported on first use only, so ``import models`` stays cheap.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from typing import Any

# pyannote fills the variable from its own default when it is imported first: then we cannot
# tell a user's choice from that default, and privacy wins.
if (
    "PYANNOTE_METRICS_ENABLED" not in os.environ
    or "pyannote.audio.telemetry.metrics" in sys.modules
):
    os.environ["PYANNOTE_METRICS_ENABLED"] = "false"

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
