"""The stereo pass: speech per channel, leaks removed, and the channel layout, in one read.

The recording is streamed in blocks at 16 kHz. For each block both channels go through Silero
VAD together (one LSTM step per frame for both, on a worker thread), frames that are only the
other side's leaked voice are cleared (`diarize.bleed`), and layout evidence is gathered
(`diarize.channels`). Nothing but per-frame numbers is kept, so memory does not grow with
the length of the call.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from diarize.bleed import BleedParams, coherent_frames, frame_levels_db
from diarize.channels import ChannelLayout, LayoutEvidence, LayoutParams
from diarize.options import ProgressHook
from diarize.segments import Segment
from diarize.vad import VadParams, speech_regions
from models.params import load_params
from models.silero import FRAME_SAMPLES, SAMPLE_RATE, SileroVad, load_silero_vad

__all__ = [
    "StereoAnalysis",
    "StereoParams",
    "analyze_stereo",
    "channel_label",
    "load_stereo_params",
]

PARAMS_FILE = "stereo.yaml"
_HOP_S = FRAME_SAMPLES / SAMPLE_RATE
_BLOCK_S = 60.0
_LAYOUT_CHECK_STRIDE = 8  # compare one jointly active frame in eight for the layout decision


@dataclass(frozen=True)
class StereoParams:
    """All tuned numbers of the stereo path.

    ``precise`` is whether dual-channel timelines may claim ``precise: true``: set only where
    the benchmark shows their boundaries within 100 ms of the reference.
    """

    precise: bool = False
    vad: VadParams = field(default_factory=VadParams)
    bleed: BleedParams = field(default_factory=BleedParams)
    layout: LayoutParams = field(default_factory=LayoutParams)


def load_stereo_params(path: str | Path | None = None) -> tuple[int, StereoParams]:
    """The tuned stereo parameters and their version (default: `models/stereo.yaml`)."""
    return load_params(path or PARAMS_FILE, StereoParams)


def channel_label(channel: int) -> str:
    """The speaker label of a channel's segments: ``"ch0"`` (left) or ``"ch1"`` (right)."""
    return f"ch{channel}"


@dataclass
class StereoAnalysis:
    """What the stereo pass found."""

    layout: ChannelLayout
    silent_channel: int | None
    segments: list[Segment]  # speaker: channel_label(0) / channel_label(1)
    duration_s: float
    evidence: LayoutEvidence
    leaked_frames: tuple[int, int] = (0, 0)


class _ChunkAnalyzer:
    """Per-chunk work of the stereo pass; holds the state that crosses chunk edges."""

    def __init__(self, vad: SileroVad, params: StereoParams) -> None:
        self.params = params
        self.streams = [vad.stream(), vad.stream()]
        self.max_delay = int(params.bleed.max_delay_ms * SAMPLE_RATE / 1000)
        self.history = np.zeros((2, self.max_delay), dtype=np.float32)
        self.probabilities: list[np.ndarray] = []  # shape of each: (2, chunk_frames)
        self.leak_flags: list[np.ndarray] = []  # shape of each: (2, chunk_frames)
        self.evidence = LayoutEvidence()
        self.leaked = np.zeros(2, dtype=np.int64)
        self.vad = vad
        self.pool = ThreadPoolExecutor(max_workers=1)
        self._in_flight: tuple[np.ndarray, Future] | None = None

    def process(self, chunk: np.ndarray) -> None:
        """Analyse whole frames; chunk shape: (2, num_frames * FRAME_SAMPLES).

        The VAD of this chunk runs on the pool's thread while this thread analyses the
        previous chunk, whose speech probabilities are ready by then.
        """
        previous = self._in_flight
        previous_probs = self._wait(previous)
        self._in_flight = (chunk, self.pool.submit(self.vad.process, self.streams, list(chunk)))
        if previous is not None:
            self._analyse(previous[0], previous_probs)

    def _drain(self) -> None:
        """Analyse the chunk whose VAD is still running."""
        if self._in_flight is not None:
            chunk = self._in_flight[0]
            self._analyse(chunk, self._wait(self._in_flight))
            self._in_flight = None

    @staticmethod
    def _wait(in_flight: tuple | None) -> np.ndarray | None:
        # shape: (2, num_frames)
        return None if in_flight is None else np.stack(in_flight[1].result())

    def _analyse(self, chunk: np.ndarray, probs: np.ndarray) -> None:
        num_frames = chunk.shape[1] // FRAME_SAMPLES
        # shape: (2, num_frames)
        levels = frame_levels_db(chunk.reshape(2, num_frames, FRAME_SAMPLES))
        raw_speech = probs >= self.params.vad.onset
        self.leak_flags.append(self._clear_leaks(chunk, probs, levels))
        self._gather_layout_evidence(chunk, levels, raw_speech, probs)
        tail = chunk[:, max(0, chunk.shape[1] - self.max_delay) :]
        self.history = np.concatenate([self.history, tail], axis=1)[:, -self.max_delay :]
        self.probabilities.append(probs)

    def _coherent(
        self, chunk: np.ndarray, target: int, frames: np.ndarray, threshold: float
    ) -> np.ndarray:
        """`coherent_frames` of channel `target` behind the other channel, for frames of
        `chunk`: scored in the chunk itself, but the first frames, whose delayed source reaches
        back into the previous chunk, on a stretch with that history in front."""
        source = 1 - target
        starts = frames * FRAME_SAMPLES
        inside = starts >= self.max_delay
        found = np.zeros(len(frames), dtype=bool)
        found[inside] = coherent_frames(
            chunk[target], chunk[source], starts[inside], FRAME_SAMPLES, self.max_delay, threshold
        )
        if not inside.all():
            head = starts[~inside]
            end = int(head.max()) + FRAME_SAMPLES
            stretch = np.concatenate([self.history, chunk[:, :end]], axis=1)
            found[~inside] = coherent_frames(
                stretch[target],
                stretch[source],
                head + self.max_delay,
                FRAME_SAMPLES,
                self.max_delay,
                threshold,
            )
        return found

    def _clear_leaks(self, chunk: np.ndarray, probs: np.ndarray, levels: np.ndarray) -> np.ndarray:
        """Zero the speech probability of leaked frames; return where they were."""
        bleed = self.params.bleed
        flags = np.zeros(probs.shape, dtype=bool)
        for ch in (0, 1):
            other = 1 - ch
            candidates = np.flatnonzero(
                (probs[ch] >= self.params.vad.offset)
                & (levels[other] - levels[ch] >= bleed.min_level_gap_db)
            )
            leaks = candidates[self._coherent(chunk, ch, candidates, bleed.min_coherence)]
            probs[ch, leaks] = 0.0
            flags[ch, leaks] = True
            self.leaked[ch] += len(leaks)
        return flags

    def _gather_layout_evidence(
        self,
        chunk: np.ndarray,
        levels: np.ndarray,
        raw_speech: np.ndarray,
        probs: np.ndarray,
    ) -> None:
        layout = self.params.layout
        joint = np.flatnonzero(raw_speech[0] & raw_speech[1])
        checked = joint[::_LAYOUT_CHECK_STRIDE]
        # a frame counts as similar only where the levels are close too: the coherence of the
        # others cannot change the count, so it is not computed
        close = checked[
            np.abs(levels[0, checked] - levels[1, checked]) < layout.similar_frame_gap_db
        ]
        threshold = layout.similar_frame_coherence
        either = self._coherent(chunk, 0, close, threshold) | self._coherent(
            chunk, 1, close, threshold
        )
        similar = int(np.count_nonzero(either))
        speech = probs >= self.params.vad.onset
        self.evidence.update(chunk, levels, speech, len(joint), len(checked), similar)

    def finish(self, duration_s: float) -> StereoAnalysis:
        """Turn the gathered frame probabilities into segments and a layout."""
        self._drain()
        self.pool.shutdown()
        probs = (
            np.concatenate(self.probabilities, axis=1)
            if self.probabilities
            else np.zeros((2, 0), dtype=np.float32)
        )
        leaks = (
            np.concatenate(self.leak_flags, axis=1)
            if self.leak_flags
            else np.zeros(probs.shape, dtype=bool)
        )
        layout, silent = self.evidence.classify(self.params.layout)
        segments = [
            Segment(start, end, channel_label(ch))
            for ch in (0, 1)
            for start, end in speech_regions(probs[ch], _HOP_S, self.params.vad, duration_s)
            if not self._mostly_leak(leaks[ch], start, end)
        ]
        return StereoAnalysis(
            layout=layout,
            silent_channel=silent,
            segments=sorted(segments),
            duration_s=duration_s,
            evidence=self.evidence,
            leaked_frames=(int(self.leaked[0]), int(self.leaked[1])),
        )

    def _mostly_leak(self, leak_flags: np.ndarray, start_s: float, end_s: float) -> bool:
        """Whether leaked frames make up much of a region: what is left between them is the
        leak's fringe (word edges where the correlation dips), not the channel's own speech."""
        first, last = int(start_s / _HOP_S), int(np.ceil(end_s / _HOP_S))
        span = leak_flags[first:last]
        return bool(len(span)) and float(span.mean()) >= self.params.bleed.max_leak_share


def analyze_stereo(
    source: object,
    params: StereoParams | None = None,
    vad: SileroVad | None = None,
    hook: ProgressHook | None = None,
) -> StereoAnalysis:
    """Detect each channel's own speech and the channel layout of a stereo recording.

    Parameters
    ----------
    source
        A two-channel `diarize.audio.AudioSource`.
    params
        Tuned parameters (default: `load_stereo_params()`).
    vad
        A loaded VAD model (default: the bundled Silero VAD).
    hook
        Progress callback, called as ``hook("channels", completed_s, total_s)``.

    Returns
    -------
    StereoAnalysis
        Segments labelled ``"ch0"``/``"ch1"``, the layout and the evidence behind it.
    """
    info = source.info  # type: ignore[attr-defined]
    if info.num_channels != 2:
        raise ValueError(f"analyze_stereo needs 2 channels, got {info.num_channels}")
    params = params or load_stereo_params()[1]
    analyzer = _ChunkAnalyzer(vad or load_silero_vad(), params)
    pending = np.zeros((2, 0), dtype=np.float32)
    done_samples = 0
    total_s = info.duration_s
    for block in _prefetch(source.blocks(SAMPLE_RATE, _BLOCK_S)):  # type: ignore[attr-defined]
        data = np.concatenate([pending, block], axis=1) if pending.shape[1] else block
        usable = data.shape[1] // FRAME_SAMPLES * FRAME_SAMPLES
        if usable:
            analyzer.process(data[:, :usable])
        pending = data[:, usable:]
        done_samples += block.shape[1]
        if hook is not None:
            hook("channels", int(min(done_samples / SAMPLE_RATE, total_s)), int(total_s))
    if pending.shape[1]:
        tail = np.zeros((2, FRAME_SAMPLES), dtype=np.float32)
        tail[:, : pending.shape[1]] = pending
        analyzer.process(tail)
    return analyzer.finish(done_samples / SAMPLE_RATE)


def _prefetch(blocks: Iterator[np.ndarray], depth: int = 2) -> Iterator[np.ndarray]:
    """Decode the next blocks on a background thread while the current one is analysed."""
    ready: queue.Queue = queue.Queue(depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for block in blocks:
                while not stop.is_set():
                    try:
                        ready.put(block, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            ready.put(exc)

    thread = threading.Thread(target=produce, name="audio-prefetch", daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
