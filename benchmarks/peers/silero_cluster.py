"""A textbook baseline for mono calls: Silero VAD, CAM++ embeddings, agglomerative clustering.

Speech regions from Silero VAD (the ONNX model in the ``silero-vad`` wheel) are cut into
1.5 s windows with a 0.75 s hop; each window is embedded with CAM++ (through ``models``);
windows are grouped by average-linkage agglomerative clustering on cosine distance with a
fixed threshold, at most as many groups as the call has parties; each 10 ms of speech takes
the label of the window whose centre is nearest.
"""

from __future__ import annotations

import numpy as np

from benchmarks.data.items import BenchItem
from benchmarks.peers.audio import read_mono_16k
from benchmarks.rttm import Turn
from benchmarks.systems import Output, System, warmup_audio

__all__ = ["SileroCluster", "cluster_embeddings", "windows"]

_RATE = 16000
WINDOW_S = 1.5
HOP_S = 0.75
MIN_WINDOW_S = 0.4
DISTANCE_THRESHOLD = 0.6  # cosine distance


def windows(regions: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Embedding windows inside speech ``regions``: 1.5 s long with a 0.75 s hop; a region
    shorter than a window is one window of its own (if at least 0.4 s)."""
    found: list[tuple[float, float]] = []
    for start_s, end_s in regions:
        if end_s - start_s <= WINDOW_S:
            if end_s - start_s >= MIN_WINDOW_S:
                found.append((start_s, end_s))
            continue
        t = start_s
        while t + WINDOW_S < end_s:
            found.append((t, t + WINDOW_S))
            t += HOP_S
        found.append((end_s - WINDOW_S, end_s))
    return found


def cluster_embeddings(embeddings: np.ndarray, max_clusters: int) -> np.ndarray:
    """Labels for L2-normalised ``embeddings`` (n, dim): threshold first, then capped."""
    from sklearn.cluster import AgglomerativeClustering

    if len(embeddings) < 2:
        return np.zeros(len(embeddings), dtype=int)
    labels = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=DISTANCE_THRESHOLD
    ).fit_predict(embeddings)
    if labels.max() + 1 > max_clusters:
        labels = AgglomerativeClustering(
            n_clusters=max_clusters, metric="cosine", linkage="average"
        ).fit_predict(embeddings)
    return labels


class SileroCluster(System):
    """Silero VAD + CAM++ + agglomerative clustering, on the 16 kHz mono downmix."""

    name = "silero-cluster"
    description = "Silero VAD + CAM++ windows (1.5 s) + agglomerative clustering (cosine 0.6)"

    def load(self) -> None:
        import torch
        from silero_vad import get_speech_timestamps, load_silero_vad

        import models

        threads = torch.get_num_threads()
        self.vad = load_silero_vad(onnx=True)
        torch.set_num_threads(max(threads, 1))  # silero's import pins torch to one thread
        self.get_speech_timestamps = get_speech_timestamps
        self.embedding = models.load_model("campplus", device=self.device)
        self.torch = torch
        self._diarize(read_mono_16k(warmup_audio()), 2)

    def run(self, item: BenchItem) -> Output:
        return Output(self._diarize(read_mono_16k(item.audio), item.n_speakers))

    def _diarize(self, audio: np.ndarray, max_speakers: int) -> list[Turn]:
        stamps = self.get_speech_timestamps(
            self.torch.from_numpy(audio), self.vad, sampling_rate=_RATE, return_seconds=True
        )
        regions = [(float(s["start"]), float(s["end"])) for s in stamps]
        spans = windows(regions)
        if not spans:
            return []
        embeddings = self._embed(audio, spans)
        labels = cluster_embeddings(embeddings, max(1, max_speakers))
        return _label_frames(regions, spans, labels)

    def _embed(self, audio: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
        rows = []
        with self.torch.inference_mode():
            for start_s, end_s in spans:
                clip = audio[int(start_s * _RATE) : int(end_s * _RATE)]
                tensor = self.torch.from_numpy(clip)[None, None].to(self.embedding.device)
                rows.append(self.embedding(tensor)[0].cpu().numpy())
        # shape: (n_windows, 192)
        embeddings = np.stack(rows)
        return embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True).clip(1e-8)


def _label_frames(regions, spans, labels) -> list[Turn]:
    """Each 10 ms of speech gets the label of the nearest window centre; runs become turns."""
    centres = np.array([(s + e) / 2 for s, e in spans])
    turns: list[Turn] = []
    for start_s, end_s in regions:
        times = np.arange(start_s, end_s, 0.01)
        if len(times) == 0:
            continue
        nearest = np.abs(times[:, None] - centres[None, :]).argmin(axis=1)
        frame_labels = labels[nearest]
        changes = np.flatnonzero(np.diff(frame_labels)) + 1
        bounds = np.r_[0, changes, len(times)]
        for a, b in zip(bounds[:-1], bounds[1:], strict=False):
            seg_end = end_s if b == len(times) else float(times[b])
            turns.append(Turn(round(float(times[a]), 3), round(seg_end, 3), f"S{frame_labels[a]}"))
    return sorted(turns)
