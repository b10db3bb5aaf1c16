"""segmentation-3.0 seen as a multi-label model with soft per-speaker probabilities.

segmentation-3.0 is a "powerset" model: each frame gets one of 7 classes (nobody, speaker 1,
2, 3, or a pair). pyannote turns that into hard 0/1 speaker activities with an argmax, which
leaves no threshold to tune and drops quiet or overlapping speech whenever "nobody" (or one
speaker alone) is the single most likely class. This wrapper returns instead, for each local
speaker, the summed probability of every class that contains it. pyannote's pipeline then
treats the model as multi-label: it binarizes with a tunable ``segmentation.threshold``, and
its reconstruction ranks speakers by these scores instead of breaking ties between ones.
"""

from __future__ import annotations

import torch
from pyannote.audio import Model
from pyannote.audio.core.task import Problem, Specifications
from pyannote.audio.utils.powerset import Powerset

from models.onnx_backend import OnnxForward

__all__ = ["SoftPowersetSegmentation"]


class SoftPowersetSegmentation(Model):
    """A powerset segmentation model whose output is soft multi-label speaker probabilities.

    Parameters
    ----------
    powerset_model
        A loaded pyannote powerset segmentation model (e.g. segmentation-3.0).
    """

    def __init__(self, powerset_model: Model) -> None:
        specs = powerset_model.specifications
        if not specs.powerset:
            raise ValueError("SoftPowersetSegmentation wraps a powerset segmentation model")
        super().__init__(
            sample_rate=powerset_model.hparams.sample_rate,
            num_channels=powerset_model.hparams.num_channels,
        )
        self.powerset_model = powerset_model
        self.powerset = Powerset(len(specs.classes), specs.powerset_max_classes)
        self._runner = OnnxForward(
            powerset_model,
            "segmentation",
            example_shape=(1, powerset_model.hparams.num_channels, 160_000),
            dynamic_axes={"input": {0: "batch", 2: "samples"}, "output": {0: "batch", 1: "frames"}},
        )
        self.specifications = Specifications(
            problem=Problem.MULTI_LABEL_CLASSIFICATION,
            resolution=specs.resolution,
            duration=specs.duration,
            min_duration=specs.min_duration,
            warm_up=specs.warm_up,
            classes=specs.classes,
            permutation_invariant=True,
        )

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        """(batch, channels, samples) -> (batch, frames, speakers) probabilities in [0, 1]."""
        log_probs = self._runner(waveforms)
        # shape: (batch, frames, powerset classes)
        return self.powerset.to_multilabel(log_probs, soft=True).clamp(0.0, 1.0)

    def num_frames(self, num_samples: int) -> int:
        """Output frames for `num_samples` input samples (those of the wrapped model)."""
        return self.powerset_model.num_frames(num_samples)

    def receptive_field_size(self, num_frames: int = 1) -> int:
        """Receptive field of the wrapped model, in samples."""
        return self.powerset_model.receptive_field_size(num_frames)

    def receptive_field_center(self, frame: int = 0) -> int:
        """Centre of a frame's receptive field in the wrapped model, in samples."""
        return self.powerset_model.receptive_field_center(frame)
