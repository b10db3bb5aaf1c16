"""The plain baseline for stereo calls: an energy threshold on each channel.

Each channel is cut into 20 ms frames (10 ms hop); a frame is speech when it is 15 dB above
the channel's noise floor (its 10th-percentile frame level) and no more than 25 dB below the
channel's loud speech (its 95th-percentile frame level). Short gaps are bridged and short
blips dropped. Nothing else is done about one side's voice leaking into the other channel:
that is what a plain per-channel VAD misses, and what the benchmark shows.
"""

from __future__ import annotations

import numpy as np

from benchmarks.data.items import BenchItem
from benchmarks.peers.audio import read_channels
from benchmarks.rttm import Turn
from benchmarks.systems import Output, System

__all__ = ["EnergyBaseline", "energy_regions"]

_RATE = 16000
_FRAME_S = 0.02
_HOP_S = 0.01


def energy_regions(
    samples: np.ndarray,
    sample_rate: int = _RATE,
    above_floor_db: float = 15.0,
    below_loud_db: float = 25.0,
    min_gap_s: float = 0.3,
    min_speech_s: float = 0.15,
) -> list[tuple[float, float]]:
    """Speech regions ``[(start_s, end_s)]`` of one channel by frame energy.

    Parameters
    ----------
    samples
        One channel, float.
    sample_rate
        Its rate.
    above_floor_db
        How far above the noise floor (10th-percentile frame level) a frame must be.
    below_loud_db
        How far below the loud level (95th-percentile frame level) a frame may be.
    min_gap_s, min_speech_s
        Gaps shorter than this are bridged; regions shorter than that are dropped.
    """
    frame, hop = int(_FRAME_S * sample_rate), int(_HOP_S * sample_rate)
    n_frames = max(0, (len(samples) - frame) // hop + 1)
    if n_frames == 0:
        return []
    starts = np.arange(n_frames) * hop
    cumulative = np.concatenate([[0.0], np.cumsum(samples.astype(np.float64) ** 2)])
    power = (cumulative[starts + frame] - cumulative[starts]) / frame
    # shape: (n_frames,)
    level_db = 10 * np.log10(power + 1e-12)
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
        channels = read_channels(item.audio, _RATE)
        customers = [p for p in item.party_ids if p != item.rep_party_id]
        labels = {}
        if item.rep_channel is not None:
            labels[item.rep_channel] = item.rep_party_id
            labels[1 - item.rep_channel] = customers[0] if len(customers) == 1 else "ch-other"
        turns = [
            Turn(start_s, end_s, labels.get(ch, f"ch{ch}"))
            for ch in range(channels.shape[0])
            for start_s, end_s in energy_regions(channels[ch])
        ]
        return Output(sorted(turns), labels_are_parties=bool(labels))
