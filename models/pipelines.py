"""Diarization pipelines: the offline default built from bundled weights, and pretrained ones.

Both are pyannote.audio ``SpeakerDiarization`` pipelines, driven by pyannote itself:

- `build_offline_pipeline` builds `OfflineSpeakerDiarization` (pyannote's class with the
  bundled segmentation-3.0 and CAM++ models) and instantiates it with the tuned numbers of
  ``models/offline-diarization.yaml``. No download, no token.
- `load_pretrained_pipeline` loads any pyannote pipeline by Hugging Face id (with a token) or
  from a local directory (an offline clone whose ``config.yaml`` points at local weights).
- `export_pipeline_dir` writes the offline pipeline as such a directory.
"""

from __future__ import annotations

import os
import threading
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import lightning
import numpy as np
import torch
import yaml
from pyannote.audio import Inference, Model, Pipeline
from pyannote.audio.core.plda import PLDA
from pyannote.audio.pipelines import SpeakerDiarization
from pyannote.core import SlidingWindow, SlidingWindowFeature

from diarize.errors import ModelLoadError
from models._privacy import hub_access
from models.assets import AssetFileName
from models.campplus import CAMPPlusEmbedding
from models.config import DiarizationConfig, load_config
from models.loader import ModelSpec, load_model, resolve_device
from models.segmentation import SoftPowersetSegmentation

__all__ = [
    "OfflineSpeakerDiarization",
    "UnusedPLDA",
    "build_offline_pipeline",
    "export_pipeline_dir",
    "load_pipeline",
    "load_pretrained_pipeline",
    "TRUSTED_CODE",
    "save_checkpoint",
    "untrusted_code",
]


class UnusedPLDA(PLDA):
    """Stands in for the PLDA that pyannote.audio 4.0.7's `SpeakerDiarization` always loads.

    Only ``VBxClustering`` reads a PLDA; agglomerative clustering never calls it. Passing this
    placeholder (it *is* a `PLDA`, so pyannote's ``get_plda`` accepts it as is) avoids
    inventing PLDA weights that the bundled CAM++ embedding has none of.
    """

    def __init__(self) -> None:  # no transform files to read
        self.lda_dimension = 0

    def __call__(self, embeddings: Any) -> Any:
        raise RuntimeError("no PLDA is loaded: use AgglomerativeClustering, or give a PLDA")

    @property
    def phi(self) -> Any:
        raise RuntimeError("no PLDA is loaded: use AgglomerativeClustering, or give a PLDA")


class OfflineSpeakerDiarization(SpeakerDiarization):
    """pyannote's `SpeakerDiarization` whose models are our specs and whose PLDA is optional.

    Parameters
    ----------
    segmentation, embedding
        Model specs for `models.loader.load_model` (bundled names, local paths, or the
        ``$model/...`` mappings of a local pipeline directory).
    soft_segmentation
        Read a powerset segmentation model as soft per-speaker scores (see
        `models.segmentation`), which gives the pipeline a ``segmentation.threshold``.
    soft_count_offset
        With soft scores: count the speakers of each frame from the scores themselves instead
        of from their binarized version (see `speaker_count`); ``None`` keeps pyannote's count.
    embedding_max_speech_s
        Let the CAM++ embedding see at most this much speech per (chunk, speaker).
    plda
        Only needed (and then required) for ``VBxClustering``.
    **kwargs
        Everything else `SpeakerDiarization` takes (clustering, segmentation_step, batch sizes).
    """

    def __init__(
        self,
        segmentation: ModelSpec = "segmentation-3.0",
        embedding: ModelSpec = "campplus",
        clustering: str = "AgglomerativeClustering",
        plda: Any = None,
        soft_segmentation: bool = False,
        soft_count_offset: float | None = None,
        embedding_max_speech_s: float | None = None,
        token: str | None = None,
        cache_dir: str | Path | None = None,
        **kwargs: Any,
    ) -> None:
        if plda is None:
            if clustering == "VBxClustering":
                raise ModelLoadError("VBxClustering needs a PLDA; use AgglomerativeClustering")
            plda = UnusedPLDA()
        segmentation_model = load_model(segmentation, device="cpu")
        if soft_segmentation and segmentation_model.specifications.powerset:
            segmentation_model = SoftPowersetSegmentation(segmentation_model)
        embedding_model = load_model(embedding, device="cpu")
        if isinstance(embedding_model, CAMPPlusEmbedding):
            embedding_model.hparams.max_speech_s = embedding_max_speech_s
        super().__init__(
            segmentation=segmentation_model,
            embedding=embedding_model,
            clustering=clustering,
            plda=plda,
            **kwargs,
        )
        if soft_count_offset is not None and not isinstance(
            segmentation_model, SoftPowersetSegmentation
        ):
            raise ModelLoadError("soft_count_offset needs soft_segmentation on a powerset model")
        self.soft_count_offset = soft_count_offset
        self._scores = threading.local()  # this thread's last soft scores, for speaker_count

    def get_segmentations(self, file, hook=None) -> SlidingWindowFeature:
        """pyannote's segmentation, whose soft scores are kept for `speaker_count`."""
        segmentations = super().get_segmentations(file, hook=hook)
        self._scores.last = segmentations
        return segmentations

    def speaker_count(
        self,
        binarized_segmentations: SlidingWindowFeature,
        frames: SlidingWindow,
        warm_up: tuple[float, float] = (0.1, 0.1),
    ) -> SlidingWindowFeature:
        """How many speakers talk in each frame.

        pyannote averages the *binarized* speaker count of the chunks that cover a frame and
        rounds half to even. With 10 s chunks every 5 s a frame sees about two chunks, so the
        average is 0, 0.5, 1, 1.5 or 2, and 1.5 always becomes 2: one chunk's doubt makes
        overlapped speech. Here the average is taken over the soft scores (the expected number
        of speakers in each chunk) and rounded with ``soft_count_offset`` held back: a frame
        has k speakers from an average of k - 0.5 + offset (a second one from 1.6 at 0.1).
        """
        scores = getattr(self._scores, "last", None)
        if self.soft_count_offset is None or scores is None:
            return super().speaker_count(binarized_segmentations, frames, warm_up=warm_up)
        trimmed = Inference.trim(scores, warm_up=warm_up)
        count = Inference.aggregate(
            np.sum(trimmed, axis=-1, keepdims=True),
            frames,
            hamming=False,
            missing=0.0,
            skip_average=False,
        )
        rounded = np.floor(count.data + 0.5 - self.soft_count_offset).clip(min=0)
        if not binarized_segmentations.data.any():
            rounded[:] = 0  # no speaker above the threshold anywhere: nobody to reconstruct
        count.data = rounded.astype(np.uint8)
        return count


def build_offline_pipeline(
    config: DiarizationConfig | str | Path | None = None,
    *,
    device: str | torch.device | None = None,
    segmentation_batch_size: int | None = None,
    embedding_batch_size: int | None = None,
) -> SpeakerDiarization:
    """The offline default: bundled weights, tuned numbers, ready to call.

    Parameters
    ----------
    config
        A loaded configuration or a YAML path (default: ``models/offline-diarization.yaml``).
    device
        ``None`` runs on CUDA when available.
    segmentation_batch_size, embedding_batch_size
        Override the configured batch sizes.

    Raises
    ------
    ModelLoadError, ConfigError
    """
    if not isinstance(config, DiarizationConfig):
        config = load_config(config)
    s = config.structure
    pipeline = OfflineSpeakerDiarization(
        segmentation=s.segmentation,
        embedding=s.embedding,
        clustering=s.clustering,
        soft_segmentation=s.soft_segmentation,
        soft_count_offset=s.soft_count_offset,
        embedding_max_speech_s=s.embedding_max_speech_s,
        segmentation_step=s.segmentation_step,
        embedding_exclude_overlap=s.embedding_exclude_overlap,
        segmentation_batch_size=segmentation_batch_size or s.segmentation_batch_size,
        embedding_batch_size=embedding_batch_size or s.embedding_batch_size,
    )
    pipeline.instantiate(config.params.to_pyannote())
    return pipeline.to(resolve_device(device))


TRUSTED_CODE = ("pyannote.audio.", "models.", "diarize.")
"""Where the classes a pipeline's ``config.yaml`` names may come from without --trust-pipeline
(a name without a module is pyannote's own block)."""


def untrusted_code(config: Any) -> list[str]:
    """The classes a pipeline's parsed ``config.yaml`` would import from outside pyannote.audio
    and this project: its ``pipeline.name`` and its ``preprocessors[*].name``."""
    if not isinstance(config, dict):
        return []
    pipeline = config.get("pipeline")
    names = [pipeline.get("name") if isinstance(pipeline, dict) else None]
    preprocessors = config.get("preprocessors")
    if isinstance(preprocessors, dict):
        names += [p.get("name") for p in preprocessors.values() if isinstance(p, dict)]
    return [
        str(name)
        for name in names
        if name is not None
        and (not isinstance(name, str) or ("." in name and not name.startswith(TRUSTED_CODE)))
    ]


def _check_trusted(spec: str | Path, config_file: Path | None, token: str | None) -> None:
    """Refuse a pipeline whose config.yaml names code from elsewhere (pyannote imports and
    calls the class it names)."""
    if config_file is None:  # a hub id: fetch its config.yaml alone first
        from huggingface_hub import hf_hub_download

        try:
            with hub_access():
                config_file = Path(
                    hf_hub_download(str(spec), AssetFileName.PIPELINE.value, token=token or None)
                )
        except Exception as exc:  # hub and network errors of every kind
            raise ModelLoadError(f"{spec}: cannot load pipeline ({_scrub(exc, token)})") from None
    try:
        config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ModelLoadError(
            f"{config_file}: cannot read the pipeline configuration ({exc})"
        ) from None
    foreign = untrusted_code(config)
    if foreign:
        raise ModelLoadError(
            f"{spec}: its {AssetFileName.PIPELINE.value} names code outside pyannote.audio and "
            f"gong-diarize ({', '.join(foreign)}), which loading would run; pass "
            "--trust-pipeline if you trust it"
        )


def load_pretrained_pipeline(
    spec: str | Path,
    *,
    token: str | None = None,
    device: str | torch.device | None = None,
    trust: bool = False,
) -> Pipeline:
    """A pyannote pipeline from a local directory (or its ``config.yaml``) or a Hugging Face id.

    Parameters
    ----------
    spec
        A local directory or ``config.yaml``; anything else is taken as a Hugging Face id
        (e.g. ``pyannote/speaker-diarization-community-1``), which needs network and,
        for gated pipelines, a `token`: the one load that may reach the hub.
    token
        Hugging Face token; never logged nor put in an error message.
    device
        ``None`` runs on CUDA when available.
    trust
        Load it even when its ``config.yaml`` names classes outside pyannote.audio and this
        project (pyannote imports and calls them: configuration that becomes code).

    Raises
    ------
    ModelLoadError
        When the pipeline cannot be found or built, or names untrusted code.
    """
    local = Path(spec).expanduser()
    if local.is_dir() and not (local / AssetFileName.PIPELINE.value).is_file():
        raise ModelLoadError(f"{spec}: directory has no {AssetFileName.PIPELINE.value}")
    if not trust:
        config_file = local / AssetFileName.PIPELINE.value if local.is_dir() else local
        _check_trusted(spec, config_file if local.exists() else None, token)
    checkpoint = str(local) if local.exists() else str(spec)
    try:
        with nullcontext() if local.exists() else hub_access():
            pipeline = Pipeline.from_pretrained(checkpoint, token=token or None)
    except Exception as exc:  # hub, yaml, import and checkpoint errors of every kind
        raise ModelLoadError(f"{spec}: cannot load pipeline ({_scrub(exc, token)})") from None
    if pipeline is None:
        raise ModelLoadError(
            f"{spec}: cannot load pipeline (not a local directory; on the hub, check the id, "
            "the token and that its user conditions are accepted)"
        )
    return pipeline.to(resolve_device(device))


def load_pipeline(
    spec: str | Path | None = None,
    *,
    token: str | None = None,
    device: str | torch.device | None = None,
    config: DiarizationConfig | str | Path | None = None,
    trust: bool = False,
) -> Pipeline:
    """`build_offline_pipeline` when `spec` is None, else `load_pretrained_pipeline`."""
    if spec is None:
        return build_offline_pipeline(config, device=device)
    return load_pretrained_pipeline(spec, token=token, device=device, trust=trust)


def save_checkpoint(model: Model, path: str | Path) -> Path:
    """Write `model` as a pyannote.audio checkpoint that ``Model.from_pretrained`` reads."""
    checkpoint: dict[str, Any] = {
        "state_dict": model.state_dict(),
        "hyper_parameters": dict(model.hparams),
        "pytorch-lightning_version": lightning.__version__,
    }
    model.on_save_checkpoint(checkpoint)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, path)
    return path


def export_pipeline_dir(
    directory: str | Path, config: DiarizationConfig | str | Path | None = None
) -> Path:
    """Write the offline pipeline as a self-contained pyannote pipeline directory.

    The directory holds ``config.yaml`` (``$model/segmentation`` and ``$model/embedding``
    point at its own sub-folders) and one ``pytorch_model.bin`` per model, so that
    `load_pretrained_pipeline` (or pyannote's ``Pipeline.from_pretrained``) loads it offline.
    """
    if not isinstance(config, DiarizationConfig):
        config = load_config(config)
    directory = Path(directory)
    s = config.structure
    for subfolder, spec in (("segmentation", s.segmentation), ("embedding", s.embedding)):
        target = directory / subfolder / AssetFileName.MODEL.value
        save_checkpoint(load_model(spec, device="cpu"), target)
    document = {
        "dependencies": dict(config.dependencies),
        "pipeline": {
            "name": f"{OfflineSpeakerDiarization.__module__}.OfflineSpeakerDiarization",
            "params": {
                "segmentation": "$model/segmentation",
                "embedding": "$model/embedding",
                "clustering": s.clustering,
                "soft_segmentation": s.soft_segmentation,
                "soft_count_offset": s.soft_count_offset,
                "embedding_max_speech_s": s.embedding_max_speech_s,
                "segmentation_step": s.segmentation_step,
                "embedding_exclude_overlap": s.embedding_exclude_overlap,
                "segmentation_batch_size": s.segmentation_batch_size,
                "embedding_batch_size": s.embedding_batch_size,
            },
        },
        "params": config.params.to_pyannote(),
    }
    config_file = directory / AssetFileName.PIPELINE.value
    config_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return directory


def _scrub(exc: BaseException, token: str | None) -> str:
    """An exception's message on one line, without the token."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    for secret in filter(None, (token, os.environ.get("HF_TOKEN"))):
        text = text.replace(secret, "***")
    return text[:300]
