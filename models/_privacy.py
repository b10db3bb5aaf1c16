"""Keep the process private: no dependency sends telemetry, looks up a host or writes a cache.

Recordings of customer calls are private; the only traffic this project makes is the Gong
upload. Several dependencies phone home or write under the user's home unless told not to,
and most of them read the setting once, when they are first imported, so it must be in the
environment before that. `models`, `diarize` and `benchmarks` import this module before
anything else (and `gong_client.cli` imports `diarize` before any model code runs), so every
entry point gets it:

- ONNX Runtime (Silero VAD) writes a device id and an event store under
  ``~/.cache/Microsoft/DeveloperTools/.onnxruntime`` and looks up its telemetry host unless
  ``ORT_DISABLE_TELEMETRY=1`` is set before ``import onnxruntime``.
- pyannote.audio 4 sends usage metrics unless ``PYANNOTE_METRICS_ENABLED=false``.
- Hugging Face hub: telemetry off and offline (only a hub id the user gives to ``--pipeline``
  goes online, through `hub_access`).
- matplotlib (imported by pyannote.core) writes a font cache under ``~/.cache/matplotlib``:
  it goes to a private temporary folder that is removed when the process exits.

A value the user set in the environment is respected. The one exception is pyannote's: when
pyannote.audio was imported before this module, it has filled the variable with its own
default (on), which cannot be told from a user's choice, and privacy wins.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["PRIVATE_ENVIRONMENT", "hub_access"]

PRIVATE_ENVIRONMENT: dict[str, str] = {
    "ORT_DISABLE_TELEMETRY": "1",
    "PYANNOTE_METRICS_ENABLED": "false",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_OFFLINE": "1",
    "DO_NOT_TRACK": "1",
}
"""The variables set when the user has not set them (``DO_NOT_TRACK`` is the common switch)."""

_defaulted = {name for name in PRIVATE_ENVIRONMENT if name not in os.environ}
for _name in _defaulted:
    os.environ[_name] = PRIVATE_ENVIRONMENT[_name]
if "pyannote.audio.telemetry.metrics" in sys.modules:
    os.environ["PYANNOTE_METRICS_ENABLED"] = "false"


def _private_matplotlib_cache() -> None:
    """Point matplotlib at a folder of its own that is removed at exit (created only if used)."""
    if "MPLCONFIGDIR" in os.environ or "matplotlib" in sys.modules:
        return
    folder = Path(tempfile.gettempdir()) / f"gong-diarize-mpl-{secrets.token_hex(8)}"
    os.environ["MPLCONFIGDIR"] = str(folder)
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:  # not from a forked child that inherited the handler
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)


_private_matplotlib_cache()


@contextmanager
def hub_access() -> Iterator[None]:
    """Let the Hugging Face hub be reached inside the block (a pipeline id the user gave).

    Offline mode is lifted only when it is this module's default, not the user's own setting.
    """
    if "HF_HUB_OFFLINE" not in _defaulted:
        yield
        return
    from huggingface_hub import constants

    before = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = False
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = before
