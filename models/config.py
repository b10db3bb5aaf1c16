"""The offline diarization configuration: structure and tuned numbers from one versioned YAML file.

The file (default: ``models/offline-diarization.yaml``) is laid out like a pyannote pipeline
``config.yaml``::

    version: 1                 # bumped whenever a tuned number changes
    dependencies: {pyannote.audio: 4.0.7}
    pipeline:                  # structure: which models, clustering, step, batch sizes
      name: models.pipelines.OfflineSpeakerDiarization
      params: {segmentation: segmentation-3.0, embedding: campplus, ...}
    params:                    # tuned numbers handed to pyannote's `instantiate`
      segmentation: {min_duration_off: ...}
      clustering: {method: ..., threshold: ..., min_cluster_size: ...}
    long_form: {...}           # windowing of long recordings (ours, not pyannote's)
    speech_gate: {...}         # Silero VAD gating of mono audio before diarization (ours)
    voiceprints: {...}         # calibrated voiceprint thresholds (ours)

Every block is loaded into a frozen dataclass; unknown or missing keys are errors.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from diarize.errors import ConfigError
from models.assets import config_path
from models.params import ParamsFileError, build_params

__all__ = [
    "DEFAULT_CONFIG",
    "ClusteringParams",
    "DiarizationConfig",
    "LongFormParams",
    "PipelineParams",
    "PipelineStructure",
    "SegmentationParams",
    "SpeechGateParams",
    "VoiceprintParams",
    "load_config",
]

DEFAULT_CONFIG = "offline-diarization.yaml"

_LINKAGE_METHODS = ("average", "centroid", "complete", "median", "single", "ward", "weighted")
_CLUSTERINGS = ("AgglomerativeClustering", "VBxClustering", "KMeansClustering")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True)
class PipelineStructure:
    """Structural choices: constructor arguments of the pyannote pipeline."""

    segmentation: str
    embedding: str
    embedding_max_speech_s: float | None
    soft_segmentation: bool
    soft_count_offset: float | None
    clustering: str
    segmentation_step: float
    embedding_exclude_overlap: bool
    segmentation_batch_size: int
    embedding_batch_size: int

    def __post_init__(self) -> None:
        _check(self.clustering in _CLUSTERINGS, f"clustering must be one of {_CLUSTERINGS}")
        _check(0.0 < self.segmentation_step <= 1.0, "segmentation_step must be in (0, 1]")
        _check(self.segmentation_batch_size >= 1, "segmentation_batch_size must be >= 1")
        _check(self.embedding_batch_size >= 1, "embedding_batch_size must be >= 1")
        _check(
            self.embedding_max_speech_s is None or self.embedding_max_speech_s >= 1.0,
            "embedding_max_speech_s must be null or at least 1",
        )
        _check(
            self.soft_count_offset is None
            or (self.soft_segmentation and 0.0 <= self.soft_count_offset < 0.5),
            "soft_count_offset must be null, or in [0, 0.5) with soft_segmentation",
        )


@dataclass(frozen=True)
class SegmentationParams:
    """Tuned numbers of pyannote's segmentation step.

    ``threshold`` binarizes soft speaker scores (``soft_segmentation: true``); it must be
    null for the powerset model's own hard decisions.
    """

    threshold: float | None
    min_duration_off: float

    def __post_init__(self) -> None:
        _check(0.0 <= self.min_duration_off <= 1.0, "min_duration_off must be in [0, 1]")
        _check(
            self.threshold is None or 0.05 <= self.threshold <= 0.95,
            "threshold must be null or in [0.05, 0.95]",
        )


@dataclass(frozen=True)
class ClusteringParams:
    """Tuned numbers of pyannote's agglomerative clustering (cosine distance threshold)."""

    method: str
    threshold: float
    min_cluster_size: int

    def __post_init__(self) -> None:
        _check(self.method in _LINKAGE_METHODS, f"method must be one of {_LINKAGE_METHODS}")
        _check(0.0 < self.threshold <= 2.0, "threshold must be in (0, 2]")
        _check(1 <= self.min_cluster_size <= 100, "min_cluster_size must be in [1, 100]")


@dataclass(frozen=True)
class PipelineParams:
    """The ``params`` block: exactly what pyannote's ``Pipeline.instantiate`` receives."""

    segmentation: SegmentationParams
    clustering: ClusteringParams

    def to_pyannote(self) -> dict[str, Any]:
        """The nested dict for ``pipeline.instantiate`` (null values left out)."""
        return {
            block: {k: v for k, v in values.items() if v is not None}
            for block, values in dataclasses.asdict(self).items()
        }


@dataclass(frozen=True)
class LongFormParams:
    """How recordings longer than one window are diarized with bounded memory."""

    window_s: float
    link_threshold: float

    def __post_init__(self) -> None:
        _check(self.window_s >= 60.0, "window_s must be at least 60")
        _check(0.0 < self.link_threshold <= 2.0, "link_threshold must be in (0, 2]")


@dataclass(frozen=True)
class SpeechGateParams:
    """Speech gating of a mono recording by Silero VAD before diarization.

    Audio outside the VAD's speech regions (each widened by ``pad_s``) is silenced, so a
    stretch of line noise can neither become a speaker of its own nor be embedded into a
    voice. ``onset``/``offset``/``min_speech_ms``/``min_silence_ms`` are those of
    `diarize.vad.VadParams`; ``cut_turns`` also cuts the diarized turns to the padded regions.
    ``level_floor_db`` (0: off) and ``level_keep_s`` are those of `diarize.speech_gate.level_floor`.
    ``background_db`` (0: off): pyannote is not capped by the party count; when it finds more
    speakers than that, one this far under the loudest that matches no other voice is
    background talk and is dropped (`diarize.speakers.SpeakerLinker.merge_down`).
    """

    enabled: bool
    onset: float
    offset: float
    min_speech_ms: float
    min_silence_ms: float
    pad_s: float
    cut_turns: bool
    level_floor_db: float
    level_keep_s: float
    background_db: float

    def __post_init__(self) -> None:
        _check(0.0 < self.offset <= self.onset < 1.0, "need 0 < offset <= onset < 1")
        _check(self.min_speech_ms >= 0.0, "min_speech_ms must be >= 0")
        _check(self.min_silence_ms >= 0.0, "min_silence_ms must be >= 0")
        _check(0.0 <= self.pad_s <= 2.0, "pad_s must be in [0, 2]")
        _check(0.0 <= self.level_floor_db <= 60.0, "level_floor_db must be in [0, 60]")
        _check(0.0 <= self.level_keep_s <= 2.0, "level_keep_s must be in [0, 2]")
        _check(0.0 <= self.background_db <= 60.0, "background_db must be in [0, 60]")


@dataclass(frozen=True)
class VoiceprintParams:
    """Calibrated cosine-similarity thresholds for voiceprint matching.

    ``narrowband_threshold`` applies to telephone-band recordings, compared with the prints'
    narrowband embeddings (see `diarize.voiceprints`). ``one_voice_turn_s``,
    ``other_voice_below`` (``narrowband_...``) and ``other_voice_s`` tell a matched speaker
    that holds a second voice (`diarize.parties.one_voice`).
    """

    threshold: float
    narrowband_threshold: float
    rep_margin: float
    rep_search_s: float
    one_voice_turn_s: float
    other_voice_below: float
    narrowband_other_voice_below: float
    other_voice_s: float

    def __post_init__(self) -> None:
        _check(-1.0 <= self.threshold <= 1.0, "threshold must be in [-1, 1]")
        _check(-1.0 <= self.narrowband_threshold <= 1.0, "narrowband_threshold must be in [-1, 1]")
        _check(0.0 <= self.rep_margin <= 2.0, "rep_margin must be in [0, 2]")
        _check(self.rep_search_s >= 10.0, "rep_search_s must be at least 10")
        _check(0.5 <= self.one_voice_turn_s <= 30.0, "one_voice_turn_s must be in [0.5, 30]")
        for name in ("other_voice_below", "narrowband_other_voice_below"):
            _check(-1.0 <= getattr(self, name) <= 1.0, f"{name} must be in [-1, 1]")
        _check(self.other_voice_s > 0.0, "other_voice_s must be positive")

    def threshold_for(self, narrowband: bool) -> float:
        """The threshold of a recording, narrowband (telephone) or not."""
        return self.narrowband_threshold if narrowband else self.threshold

    def other_voice_for(self, narrowband: bool) -> float:
        """The similarity to a print under which a turn is another voice (see
        `diarize.parties.one_voice`), narrowband (telephone) or not."""
        return self.narrowband_other_voice_below if narrowband else self.other_voice_below


@dataclass(frozen=True)
class DiarizationConfig:
    """One loaded configuration file."""

    version: int
    name: str
    structure: PipelineStructure
    params: PipelineParams
    long_form: LongFormParams
    voiceprints: VoiceprintParams
    speech_gate: SpeechGateParams
    dependencies: dict[str, str] = field(default_factory=dict)
    source: str = ""


_TOP_LEVEL = {
    "version",
    "dependencies",
    "pipeline",
    "params",
    "long_form",
    "voiceprints",
    "speech_gate",
}


def load_config(path: str | Path | None = None) -> DiarizationConfig:
    """Read a diarization configuration file.

    Parameters
    ----------
    path
        A YAML file; by default `DEFAULT_CONFIG` inside the `models` package.

    Returns
    -------
    DiarizationConfig

    Raises
    ------
    ConfigError
        When the file is missing, not YAML, or has a missing, unknown or out-of-range key;
        the message names the file and the key.
    """
    path = Path(path) if path is not None else config_path(DEFAULT_CONFIG)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the diarization configuration ({exc})") from exc
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    unknown = set(document) - _TOP_LEVEL
    missing = _TOP_LEVEL - {"dependencies"} - set(document)
    if unknown or missing:
        raise ConfigError(f"{path}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    if not isinstance(document["version"], int) or isinstance(document["version"], bool):
        raise ConfigError(f"{path}: version must be an integer")
    pipeline = document["pipeline"]
    if not isinstance(pipeline, dict) or set(pipeline) != {"name", "params"}:
        raise ConfigError(f"{path}: pipeline must hold exactly 'name' and 'params'")
    config = DiarizationConfig(
        version=document["version"],
        name=str(pipeline["name"]),
        structure=_build(PipelineStructure, pipeline["params"], path, "pipeline.params"),
        params=_build(PipelineParams, document["params"], path, "params"),
        long_form=_build(LongFormParams, document["long_form"], path, "long_form"),
        voiceprints=_build(VoiceprintParams, document["voiceprints"], path, "voiceprints"),
        speech_gate=_build(SpeechGateParams, document["speech_gate"], path, "speech_gate"),
        dependencies={str(k): str(v) for k, v in (document.get("dependencies") or {}).items()},
        source=str(path),
    )
    if config.structure.soft_segmentation != (config.params.segmentation.threshold is not None):
        raise ConfigError(
            f"{path}: params.segmentation.threshold must be set exactly when "
            "pipeline.params.soft_segmentation is true"
        )
    return config


def _build(cls: type, values: Any, path: Path, where: str) -> Any:
    """`build_params` with every failure turned into one `ConfigError` naming file and key."""
    try:
        _require_all(cls, values, where)
        return build_params(cls, values, where)
    except (ParamsFileError, ValueError, TypeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def _require_all(cls: type, values: Any, where: str) -> None:
    """Every field of `cls` (recursively) must be present: tuned numbers have no hidden defaults."""
    if not isinstance(values, dict):
        raise ValueError(f"{where}: expected a mapping")
    for f in dataclasses.fields(cls):
        if f.name not in values:
            raise ValueError(f"{where}.{f.name}: missing")
        nested = f.type if isinstance(f.type, type) else globals().get(str(f.type))
        if nested is not None and dataclasses.is_dataclass(nested):
            _require_all(nested, values[f.name], f"{where}.{f.name}")
