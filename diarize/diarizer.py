"""A loaded diarization backend: the pyannote pipeline, the CAM++ embedder and the tuned config.

Loading takes a second or two, so `get_diarizer` keeps the last few backends for reuse by
`diarize_parties`, `find_rep_channel` and `enroll` in the same process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

import models  # noqa: F401  (switches pyannote telemetry off before pyannote is imported)
from diarize.audio import AudioSource
from diarize.options import Options
from diarize.speakers import (
    SpeakerHints,
    SpeakerTurns,
    diarize_speakers,
    mono_windows,
    silence_outside,
    window_count,
    window_hints,
)
from diarize.speech_gate import SpeechGate
from models.campplus import CAMPPlusEmbedding
from models.config import DiarizationConfig, load_config
from models.loader import load_model, resolve_device
from models.pipelines import build_offline_pipeline, load_pretrained_pipeline
from models.silero import SileroVad, load_silero_vad

__all__ = ["Diarizer", "get_diarizer"]

_CACHE_SIZE = 2
_SPEECH_PAD_S = 0.1  # audio kept around given speech spans, so word edges reach the models
_cache: OrderedDict[tuple, Diarizer] = OrderedDict()
_cache_lock = threading.Lock()


@dataclass
class Diarizer:
    """Everything needed to diarize a recording and compare its voices.

    Attributes
    ----------
    pipeline
        A pyannote speaker-diarization pipeline.
    embedder
        The CAM++ model that links windows and matches voiceprints.
    config
        Tuned numbers (long-form windows, voiceprint thresholds) from the YAML file.
    backend
        ``"offline"`` or the pretrained pipeline's id or directory.
    vad
        Silero VAD for the speech gate (``speech_gate`` of the config); None: no gating.
    """

    pipeline: Any
    embedder: torch.nn.Module
    config: DiarizationConfig
    backend: str
    num_threads: int | None = None
    vad: SileroVad | None = None

    @classmethod
    def load(
        cls,
        pipeline: str | Path | None = None,
        *,
        token: str | None = None,
        device: str | torch.device | None = None,
        config: DiarizationConfig | str | Path | None = None,
        segmentation_batch_size: int | None = None,
        embedding_batch_size: int | None = None,
        num_threads: int | None = None,
        trust_pipeline: bool = False,
    ) -> Diarizer:
        """Load a backend.

        Parameters
        ----------
        pipeline
            ``None`` for the offline default; else a pyannote pipeline id or local directory.
        token
            Hugging Face token for pipeline ids.
        trust_pipeline
            Load a `pipeline` that names code outside pyannote.audio and this project.
        device
            ``None``: CUDA when available.
        config
            The tuned configuration (default ``models/offline-diarization.yaml``).
        segmentation_batch_size, embedding_batch_size
            Override the configured batch sizes (offline backend).
        num_threads
            torch threads while diarizing on the CPU; default 1. Measured on a 2-core machine
            with another busy process: 20.7x real time on 1 thread, 1.8x on 2 (OpenMP
            threads spin while waiting for the core the other process holds). Give more
            threads only on a machine that runs nothing else.

        Raises
        ------
        ModelLoadError, ConfigError
        """
        if not isinstance(config, DiarizationConfig):
            config = load_config(config)
        resolved = resolve_device(device)
        if pipeline is None:
            loaded = build_offline_pipeline(
                config,
                device=resolved,
                segmentation_batch_size=segmentation_batch_size,
                embedding_batch_size=embedding_batch_size,
            )
        else:
            loaded = load_pretrained_pipeline(
                pipeline, token=token, device=resolved, trust=trust_pipeline
            )
        embedder = _pipeline_campplus(loaded) if pipeline is None else None
        if embedder is None:
            embedder = load_model(config.structure.embedding, device=resolved)
        if num_threads is None and resolved.type == "cpu":
            num_threads = 1
        backend = "offline" if pipeline is None else str(pipeline)
        vad = load_silero_vad() if config.speech_gate.enabled else None
        return cls(loaded, embedder, config, backend, num_threads, vad)

    def speakers(
        self,
        source: AudioSource,
        *,
        channel: int | None = None,
        hints: SpeakerHints | None = None,
        limit_s: float | None = None,
        speech: Sequence[tuple[float, float]] | None = None,
        embeddings: bool = True,
        progress: Callable[[float], None] | None = None,
    ) -> SpeakerTurns:
        """Who spoke when in `source` (downmixed, or only `channel`), in bounded memory.

        `speech`, when given, is where the speech worth diarizing is (non-overlapping spans in
        seconds): the rest of the audio is silenced before diarization, and turns are cut to it.
        Without it, the speech gate (Silero VAD, ``speech_gate`` of the config) silences what
        is not speech, so that line noise is never diarized.
        `embeddings=False` skips each voice's CAM++ embedding, a third of the time on a short
        call, when nothing will compare voices; a recording longer than one window gets them
        anyway, since its windows are linked by them.
        """
        long_form = self.config.long_form
        hints = hints or SpeakerHints()
        duration_s = source.info.duration_s
        if limit_s is not None:
            duration_s = min(duration_s, limit_s)
        count = window_count(duration_s, long_form.window_s)
        windows = mono_windows(source, long_form.window_s, channel=channel, limit_s=limit_s)
        gate = None
        if speech is not None:
            windows = silence_outside(windows, speech, _SPEECH_PAD_S)
        elif self.vad is not None and self.config.speech_gate.enabled:
            gate = SpeechGate(self.vad, self.config.speech_gate)
            windows = gate.apply(windows)
        with _torch_threads(self.num_threads):
            turns = diarize_speakers(
                windows,
                self.pipeline,
                self.embedder,
                pyannote_hints=window_hints(hints, count),
                max_speakers=hints.num_speakers or hints.max_speakers,
                link_threshold=long_form.link_threshold,
                merge_gap_s=self.config.params.segmentation.min_duration_off,
                embed=embeddings or count > 1,
                background_db=self.config.speech_gate.background_db or None,
                progress=progress,
            )
        if gate is not None and self.config.speech_gate.cut_turns:
            return turns.within(gate.regions)
        return turns if speech is None else turns.within(speech)

    def dominant_voice(
        self, source: AudioSource, *, channel: int | None = None
    ) -> tuple[np.ndarray | None, float]:
        """The embedding and seconds of speech of the voice that speaks most in `source`."""
        turns = self.speakers(source, channel=channel)
        label = turns.dominant()
        if label is None:
            return None, 0.0
        return turns.embeddings[label], turns.speech_s[label]


@contextmanager
def _torch_threads(num_threads: int | None) -> Iterator[None]:
    """Run with `num_threads` torch threads, then restore the previous count."""
    before = torch.get_num_threads()
    if num_threads is not None and num_threads != before:
        torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def get_diarizer(options: Options | None = None) -> Diarizer:
    """The backend `options` ask for (pipeline, token, device), loaded once and reused."""
    options = options or Options()
    key = (
        options.pipeline,
        options.hf_token,
        options.trust_pipeline,
        options.device,
        options.batch_size,
    )
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    diarizer = Diarizer.load(
        options.pipeline,
        token=options.hf_token,
        trust_pipeline=options.trust_pipeline,
        device=options.device,
        segmentation_batch_size=options.batch_size,
        embedding_batch_size=options.batch_size,
    )
    with _cache_lock:
        _cache[key] = diarizer
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return diarizer


def _pipeline_campplus(pipeline: Any) -> CAMPPlusEmbedding | None:
    """The offline pipeline's own CAM++, to embed voices with (loading it twice costs a second
    of start-up; its speech cap applies to the pipeline's masked calls only)."""
    model = getattr(getattr(pipeline, "_embedding", None), "model_", None)
    return model if isinstance(model, CAMPPlusEmbedding) else None
