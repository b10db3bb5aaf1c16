"""The systems a benchmark compares: ours and the peers, behind one small interface.

A system is loaded once per run (models, warm-up), then run on each item it accepts. Its
output is a list of turns: labelled with party ids when the system maps voices to the call's
parties (ours), with anonymous labels otherwise (the peers).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

import numpy as np
import soundfile as sf

from benchmarks.data.items import CACHE_DIR, BenchItem
from benchmarks.rttm import Turn

__all__ = [
    "DEFAULT_SYSTEMS",
    "OURS",
    "Output",
    "PEERS",
    "STEREO_CONDITIONS",
    "SYSTEMS",
    "System",
    "create_system",
    "warmup_audio",
]

STEREO_CONDITIONS = ("stereo", "long-stereo")


@dataclass
class Output:
    """What a system found in one recording."""

    turns: list[Turn]
    labels_are_parties: bool = False
    details: dict = field(default_factory=dict)


class System(ABC):
    """One diarization system as the benchmark drives it."""

    name: str = ""
    description: str = ""
    max_cpu_audio_s: float | None = None
    """Longest recording run on a CPU (the run's time budget); ``None``: no limit."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self.items: list[BenchItem] = []
        """The items this run will give the system (set before `load`, so that it warms up
        only what it will use)."""

    def accepts(self, item: BenchItem) -> bool:
        """Whether this system is run on ``item``. By default a system is a mono diarizer:
        it runs on mono files and on duplicated-mono stereo, not on true stereo calls (those
        are what the stereo systems and the energy baseline are compared on)."""
        return item.condition not in STEREO_CONDITIONS

    def too_long(self, item: BenchItem) -> bool:
        """Whether ``item`` is beyond this system's CPU time budget (never on a GPU)."""
        limit = self.max_cpu_audio_s
        return self.device == "cpu" and limit is not None and item.duration_s > limit

    def load(self) -> None:  # noqa: B027 - optional hook
        """Load models and warm up; timed apart from the files."""

    def prepare(self, item: BenchItem) -> None:  # noqa: B027 - optional hook
        """Untimed set-up before ``run`` on ``item`` (e.g. enrolling voiceprints)."""

    @abstractmethod
    def run(self, item: BenchItem) -> Output:
        """Process one recording, reading it from ``item.audio``."""


# name -> "module:Class"; imported only when the system is used.
SYSTEMS: dict[str, str] = {
    "ours": "benchmarks.ours:OursCall",
    "ours-nogate": "benchmarks.ours:OursNoGate",
    "ours-capped": "benchmarks.ours:OursCapped",
    "ours-stereo": "benchmarks.ours:OursStereo",
    "energy": "benchmarks.peers.energy:EnergyBaseline",
    "silero-cluster": "benchmarks.peers.silero_cluster:SileroCluster",
    "senko": "benchmarks.peers.senko_peer:Senko",
    "pyannote-default": "benchmarks.peers.pyannote_default:PyannoteDefault",
}
PEERS = ("energy", "silero-cluster", "senko", "pyannote-default")
OURS = ("ours", "ours-nogate", "ours-capped", "ours-stereo")
DEFAULT_SYSTEMS = ("ours", "ours-stereo", *PEERS)  # ablations run only when named


def create_system(name: str, device: str = "cpu") -> System:
    """Instantiate the system registered as ``name``, or named ``"module:Class"`` (not yet
    loaded)."""
    if name not in SYSTEMS and ":" not in name:
        raise ValueError(f"unknown system {name!r}; known: {', '.join(SYSTEMS)}")
    module_name, _, class_name = SYSTEMS.get(name, name).partition(":")
    cls = getattr(import_module(module_name), class_name)
    return cls(device=device)


def warmup_audio(cache_dir: Path = CACHE_DIR, stereo: bool = False) -> Path:
    """A 10 s clip of real speech (two speakers) for warming systems up: mono, or a stereo
    file with the clip on the left and the clip played backwards on the right (two unrelated
    channels, so that it reads as a dual-channel call)."""
    from benchmarks.data.sources import pyannote_sample

    path = cache_dir / ("warmup-stereo.wav" if stereo else "warmup.wav")
    if not path.exists():
        audio, rate = sf.read(str(pyannote_sample().audio), dtype="float32")
        clip = audio[int(6.5 * rate) : int(16.5 * rate)]
        data = np.stack([clip, clip[::-1]], axis=1) if stereo else clip
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.wav")
        sf.write(tmp, data, rate, "PCM_16")
        tmp.replace(path)
    return path
