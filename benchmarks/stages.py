"""Where the mono path's time goes: wall time per stage of one `diarize.process_call`.

`StageTimer` wraps the few functions that make up each stage (decoding, the Silero speech
gate, segmentation, the pipeline's CAM++ embeddings and their filterbanks, the voices'
embeddings for linking and voiceprints, clustering) with a clock, for as long as it is
installed. Wrapping a dozen calls costs nothing measurable, unlike a profiler, which would
slow the Python-heavy stages (the VAD's LSTM loop) far more than the others. Nested stages
are reported inside their parent (``embeddings`` includes its ``fbank``); what no stage
covers (reconstruction, party mapping, timeline) is ``other``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from importlib import import_module

__all__ = ["STAGES", "StageTimer"]

_PIPELINE = "pyannote.audio.pipelines.speaker_diarization"
# stage -> (module, attribute path) of each function timed as that stage
STAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "decode": (("diarize.audio", "AudioSource.blocks"),),
    "speech gate (VAD)": (("models.silero", "SileroVad._run"),),
    "segmentation": ((_PIPELINE, "SpeakerDiarization.get_segmentations"),),
    "embeddings": ((_PIPELINE, "SpeakerDiarization.get_embeddings"),),
    "voice embeddings": (("diarize.speakers", "embed_speech"),),
    "clustering": (("pyannote.audio.pipelines.clustering", "BaseClustering.__call__"),),
    "fbank": (("models.campplus", "CAMPPlusEmbedding.compute_fbank"),),
}
NESTED = {"fbank"}
"""Stages that run inside others (filterbanks inside both kinds of embeddings)."""


class StageTimer:
    """Accumulates wall time per stage while installed (`install` ... `uninstall`).

    Only the outermost call of a stage is timed (a stage that calls itself counts once), and
    generators (decoding) are timed while they produce, not while their consumer works.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(STAGES, 0.0)
        self._depth: dict[str, int] = dict.fromkeys(STAGES, 0)
        self._patched: list[tuple[object, str, object]] = []

    def install(self) -> None:
        """Wrap every stage's functions (their modules are imported)."""
        for stage, targets in STAGES.items():
            for module_name, path in targets:
                owner_path, _, name = path.rpartition(".")
                owner = import_module(module_name)
                for part in filter(None, owner_path.split(".")):
                    owner = getattr(owner, part)
                original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
                self._patched.append((owner, name, original))
                setattr(owner, name, self._wrap(stage, original))

    def uninstall(self) -> None:
        """Put every wrapped function back."""
        for owner, name, original in reversed(self._patched):
            setattr(owner, name, original)
        self._patched.clear()

    def reset(self) -> None:
        """Zero the clocks (before each file)."""
        self.seconds = dict.fromkeys(STAGES, 0.0)

    def report(self, total_s: float) -> dict[str, float]:
        """Seconds per stage, and ``other`` (what the top-level stages leave of `total_s`)."""
        top = sum(v for k, v in self.seconds.items() if k not in NESTED)
        return {
            **{k: round(v, 3) for k, v in self.seconds.items()},
            "other": round(total_s - top, 3),
        }

    def _wrap(self, stage: str, function: Callable) -> Callable:
        import inspect

        if inspect.isgeneratorfunction(function):

            @functools.wraps(function)
            def generator(*args, **kwargs) -> Iterator:
                iterator = function(*args, **kwargs)
                while True:
                    started = time.perf_counter()
                    try:
                        value = next(iterator)
                    except StopIteration:
                        self.seconds[stage] += time.perf_counter() - started
                        return
                    self.seconds[stage] += time.perf_counter() - started
                    yield value

            return generator

        @functools.wraps(function)
        def timed(*args, **kwargs):
            self._depth[stage] += 1
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self._depth[stage] -= 1
                if self._depth[stage] == 0:
                    self.seconds[stage] += time.perf_counter() - started

        return timed
