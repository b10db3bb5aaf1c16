"""The plain baseline for stereo calls: an energy threshold on each channel.

Each channel is read in blocks and cut into 20 ms frames (10 ms hop); a frame is speech when
it is 15 dB above the channel's noise floor (its 10th-percentile frame level) and no more
than 25 dB below the channel's loud speech (its 95th-percentile frame level). Short gaps are
bridged and short blips dropped. Nothing else is done about one side's voice leaking into the
other channel: that is what a plain per-channel VAD misses, and what the benchmark shows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from benchmarks.data.items import BenchItem
from benchmarks.rttm import Turn
from benchmarks.systems import Output, System

__all__ = [
    "EnergyBaseline",
    "channel_powers",
    "energy_regions",
    "hop_powers",
    "regions_from_powers",
]

_RATE = 16000
_FRAME_S = 0.02
_HOP_S = 0.01


def hop_powers(samples: np.ndarray, sample_rate: int = _RATE) -> np.ndarray:
    """Mean power of each 10 ms hop of one channel, shape (n_hops,)."""
    hop = int(_HOP_S * sample_rate)
    n_hops = len(samples) // hop
    blocks = samples[: n_hops * hop].reshape(n_hops, hop)
    return np.einsum("ij,ij->i", blocks, blocks, dtype=np.float64) / hop


def regions_from_powers(
    powers: np.ndarray,
    above_floor_db: float = 15.0,
    below_loud_db: float = 25.0,
    min_gap_s: float = 0.3,
    min_speech_s: float = 0.15,
) -> list[tuple[float, float]]:
    """Speech regions ``[(start_s, end_s)]`` from 10 ms hop powers (20 ms frames).

    Parameters
    ----------
    powers
        `hop_powers` of one channel.
    above_floor_db
        How far above the noise floor (10th-percentile frame level) a frame must be.
    below_loud_db
        How far below the loud level (95th-percentile frame level) a frame may be.
    min_gap_s, min_speech_s
        Gaps shorter than this are bridged; regions shorter than that are dropped.
    """
    if len(powers) < 2:
        return []
    # shape: (n_frames,), a 20 ms frame every 10 ms
    level_db = 10 * np.log10((powers[:-1] + powers[1:]) / 2 + 1e-12)
    floor_db, loud_db = np.percentile(level_db, [10, 95])
    active = level_db > max(floor_db + above_floor_db, loud_db - below_loud_db)
    regions: list[list[float]] = []
    for index in np.flatnonzero(active):
        start_s = index * _HOP_S
        end_s = start_s + _FRAME_S
        if regions and start_s - regions[-1][1] <= min_gap_s:
            regions[-1][1] = end_s
        else:
            regions.append([start_s, end_s])
    return [(round(s, 3), round(e, 3)) for s, e in regions if e - s >= min_speech_s]


def energy_regions(samples: np.ndarray, sample_rate: int = _RATE, **thresholds) -> list:
    """Speech regions of one whole channel (see `regions_from_powers` for ``thresholds``)."""
    return regions_from_powers(
        hop_powers(np.asarray(samples, np.float32), sample_rate), **thresholds
    )


def channel_powers(path: str | Path, block_s: float = 60.0) -> list[np.ndarray]:
    """`hop_powers` of every channel of a file, read one block at a time."""
    info = sf.info(str(path))
    hop = int(_HOP_S * info.samplerate)
    block = max(hop, int(block_s * info.samplerate) // hop * hop)
    parts: list[list[np.ndarray]] = [[] for _ in range(info.channels)]
    for data in sf.blocks(str(path), blocksize=block, dtype="float32", always_2d=True):
        for ch in range(info.channels):
            parts[ch].append(hop_powers(np.ascontiguousarray(data[:, ch]), info.samplerate))
    return [np.concatenate(p) if p else np.zeros(0) for p in parts]


class EnergyBaseline(System):
    """Energy-threshold speech detection per channel; each channel is one speaker."""

    name = "energy"
    description = (
        "energy threshold per channel (15 dB over the noise floor, within 25 dB of loud "
        "speech), no other bleed handling"
    )

    def accepts(self, item: BenchItem) -> bool:
        return item.channels == 2  # true stereo and duplicated mono

    def run(self, item: BenchItem) -> Output:
        powers = channel_powers(item.audio)
        customers = [p for p in item.party_ids if p != item.rep_party_id]
        labels = {}
        if item.rep_channel is not None:
            labels[item.rep_channel] = item.rep_party_id
            labels[1 - item.rep_channel] = customers[0] if len(customers) == 1 else "ch-other"
        turns = [
            Turn(start_s, end_s, labels.get(ch, f"ch{ch}"))
            for ch, channel in enumerate(powers)
            for start_s, end_s in regions_from_powers(channel)
        ]
        return Output(sorted(turns), labels_are_parties=bool(labels))
