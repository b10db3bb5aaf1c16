"""Anonymous speakers of a recording: who spoke when, and what each voice sounds like.

pyannote's pipeline holds whole-file arrays, so a long recording is fed to it in windows
(``long_form.window_s`` of ``models/offline-diarization.yaml``, streamed from
`AudioSource.blocks`). Each window is diarized on its own; each of its speakers gets a CAM++
embedding from its own (non-overlapped) speech, and `SpeakerLinker` ties the speakers of
successive windows together by those embeddings. Memory stays bounded by one window however
long the call is. The same embeddings compare speakers with enrolled voiceprints, whatever
pipeline did the diarization.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import linear_sum_assignment

from diarize.audio import AudioSource
from diarize.bleed import frame_levels_db
from diarize.errors import ChannelLayoutError
from diarize.segments import Segment, intersect, merge_close

if TYPE_CHECKING:  # torch and pyannote load with the diarizer: the stereo path needs neither
    import torch
    from pyannote.core import Annotation

__all__ = [
    "SAMPLE_RATE",
    "SpeakerHints",
    "SpeakerLinker",
    "SpeakerTurns",
    "diarize_speakers",
    "embed_speech",
    "mono_windows",
    "silence_outside",
    "window_count",
    "window_hints",
]

SAMPLE_RATE = 16000
"""Rate the models run at."""

_MIN_EMBED_TURN_S = 0.5  # shorter turns give unreliable embeddings
_EMBED_PIECE_S = 10.0  # CAM++ is fed at most this much speech at once
_MAX_EMBED_SPEECH_S = 60.0  # per speaker and window: plenty for a stable voiceprint
_SHORT_TAIL = 0.25  # a last window shorter than this share of window_s joins the one before

Progress = Callable[[float], None]


@dataclass(frozen=True)
class SpeakerHints:
    """Speaker-count hints passed to pyannote (None: let it decide)."""

    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None


@dataclass
class SpeakerTurns:
    """The anonymous speakers of one recording.

    Attributes
    ----------
    segments
        Speech turns labelled ``SPEAKER_00``, ``SPEAKER_01``, ...; they overlap where people
        speak at once.
    exclusive_segments
        The same turns with at most one speaker at a time.
    embeddings
        Unit-norm CAM++ embedding of each label (missing when it never spoke long enough alone).
    speech_s
        Seconds of speech of each label.
    """

    segments: list[Segment] = field(default_factory=list)
    exclusive_segments: list[Segment] = field(default_factory=list)
    embeddings: dict[str, np.ndarray] = field(default_factory=dict)
    speech_s: dict[str, float] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        """Every speaker label, in order."""
        return sorted({s.speaker for s in self.segments})

    def within(self, regions: Iterable[tuple[float, float]]) -> SpeakerTurns:
        """These turns cut to `regions` (non-overlapping spans); speakers left with no speech
        are dropped."""
        regions = list(regions)
        segments = intersect(self.segments, regions)
        speech_s = _speech_seconds(segments)
        return SpeakerTurns(
            segments,
            intersect(self.exclusive_segments, regions),
            {k: v for k, v in self.embeddings.items() if k in speech_s},
            speech_s,
        )

    def dominant(self) -> str | None:
        """The label that speaks most among those with an embedding (None: no such label)."""
        if not self.embeddings:
            return None
        return max(self.embeddings, key=lambda label: self.speech_s.get(label, 0.0))

    def spans_of(self, label: str) -> list[tuple[float, float]]:
        """(start_s, end_s) of `label`'s turns where nobody else speaks."""
        return [(s.start_s, s.end_s) for s in self.exclusive_segments if s.speaker == label]


def _speech_seconds(segments: Iterable[Segment]) -> dict[str, float]:
    """Seconds of speech of each label in `segments`."""
    speech_s: dict[str, float] = {}
    for seg in segments:
        speech_s[seg.speaker] = speech_s.get(seg.speaker, 0.0) + seg.duration_s
    return speech_s


def window_count(duration_s: float, window_s: float) -> int:
    """How many windows `mono_windows` cuts a recording of `duration_s` into."""
    full, rest = divmod(duration_s, window_s)
    count = int(full) + (1 if rest > 0 else 0)
    if count > 1 and rest > 0 and rest < _SHORT_TAIL * window_s:
        count -= 1
    return max(1, count)


def window_hints(hints: SpeakerHints, num_windows: int) -> SpeakerHints:
    """The hints pyannote gets per window: all of them for a single window; otherwise only
    the maximum (a speaker may be silent for a whole window), the rest applies after linking."""
    if num_windows <= 1:
        return hints
    return SpeakerHints(max_speakers=hints.num_speakers or hints.max_speakers)


def mono_windows(
    source: AudioSource,
    window_s: float,
    *,
    channel: int | None = None,
    limit_s: float | None = None,
) -> Iterator[tuple[float, np.ndarray]]:
    """Stream `source` as (offset_s, mono float32 samples at `SAMPLE_RATE`) windows.

    Parameters
    ----------
    source
        The recording.
    window_s
        Window length; a last window shorter than a quarter of it joins the one before.
    channel
        Keep only this channel; ``None`` downmixes.
    limit_s
        Stop after this many seconds.
    """
    if channel is not None and not 0 <= channel < source.info.num_channels:
        raise ChannelLayoutError(
            f"{source.info.path or '<array>'}: no channel {channel} in a "
            f"{source.info.num_channels}-channel recording"
        )
    pending: np.ndarray | None = None
    offset_s = 0.0
    taken = 0
    limit = None if limit_s is None else int(limit_s * SAMPLE_RATE)
    for block in source.blocks(SAMPLE_RATE, window_s):
        mono = block[channel] if channel is not None else block.mean(axis=0)
        if limit is not None:
            mono = mono[: max(0, limit - taken)]
        taken += mono.shape[0]
        if pending is not None:
            if mono.shape[0] < _SHORT_TAIL * window_s * SAMPLE_RATE:
                mono = np.concatenate([pending, mono])
            else:
                yield offset_s, pending
                offset_s += pending.shape[0] / SAMPLE_RATE
        pending = np.ascontiguousarray(mono, dtype=np.float32)
        if limit is not None and taken >= limit:
            break
    if pending is not None and pending.shape[0]:
        yield offset_s, pending


def silence_outside(
    windows: Iterable[tuple[float, np.ndarray]],
    regions: Iterable[tuple[float, float]],
    pad_s: float = 0.0,
) -> Iterator[tuple[float, np.ndarray]]:
    """The `windows` of `mono_windows` with every sample outside `regions` set to zero.

    Used on the conference-bridge channel of a stereo call: the stereo pass has already told
    that channel's own speech from the rep's voice leaking into it, and diarization must not
    count the leaked voice as one more speaker.

    Parameters
    ----------
    windows
        (offset_s, mono samples at `SAMPLE_RATE`) pairs.
    regions
        (start_s, end_s) spans to keep, in seconds from the start of the recording.
    pad_s
        Widen each span by this much on both sides (keeps the edges of words).
    """
    spans = sorted(regions)
    for offset_s, waveform in windows:
        kept = np.zeros_like(waveform)
        for start_s, end_s in spans:
            a = max(0, int(round((start_s - pad_s - offset_s) * SAMPLE_RATE)))
            b = min(waveform.shape[0], int(round((end_s + pad_s - offset_s) * SAMPLE_RATE)))
            if b > a:
                kept[a:b] = waveform[a:b]
        yield offset_s, kept


def embed_speech(
    embedder: torch.nn.Module,
    waveform: np.ndarray,
    turns: Iterable[tuple[float, float]],
    *,
    max_speech_s: float = _MAX_EMBED_SPEECH_S,
) -> tuple[np.ndarray | None, float]:
    """A unit-norm CAM++ embedding of one voice from its turns in `waveform`.

    Longer turns are used first (they embed more reliably), up to `max_speech_s`; each is cut
    into pieces of at most 10 s, embedded, normalised, and averaged weighted by duration.

    Parameters
    ----------
    embedder
        A `models.campplus.CAMPPlusEmbedding` (any model called as ``model(waveforms)``).
    waveform
        Mono float32 samples at `SAMPLE_RATE`.
    turns
        (start_s, end_s) spans of this voice, relative to `waveform`.

    Returns
    -------
    (embedding, seconds used)
        ``(None, 0.0)`` when no turn is long enough.
    """
    import torch

    spans = sorted(
        ((s, e) for s, e in turns if e - s >= _MIN_EMBED_TURN_S), key=lambda t: t[0] - t[1]
    )
    pieces: list[tuple[int, int]] = []
    used_s = 0.0
    for start_s, end_s in spans:
        if used_s >= max_speech_s:
            break
        end_s = min(end_s, start_s + max_speech_s - used_s)
        t = start_s
        while end_s - t >= _MIN_EMBED_TURN_S:
            stop = min(end_s, t + _EMBED_PIECE_S)
            pieces.append((int(t * SAMPLE_RATE), int(stop * SAMPLE_RATE)))
            used_s += stop - t
            t = stop
    device = next(embedder.parameters()).device
    total = np.zeros(0)
    weight_s = 0.0
    with torch.inference_mode():
        for a, b in pieces:
            chunk = torch.from_numpy(np.ascontiguousarray(waveform[a:b]))[None, None].to(device)
            vector = embedder(chunk)[0].float().cpu().numpy()
            if not np.all(np.isfinite(vector)):
                continue
            vector = vector / (np.linalg.norm(vector) + 1e-12)
            total = vector * (b - a) if total.size == 0 else total + vector * (b - a)
            weight_s += (b - a) / SAMPLE_RATE
    if weight_s == 0.0:
        return None, 0.0
    return (total / np.linalg.norm(total)).astype(np.float32), weight_s


DROPPED = -1
"""`SpeakerLinker.merge_down`'s target for a speaker dropped as background talk."""


class SpeakerLinker:
    """Ties each window's local speakers to global ones by embedding similarity.

    Local speakers of one window are different people, so each window is matched one-to-one
    (Hungarian) against the global speakers; a pair counts when its cosine distance is at most
    `link_threshold`. Unmatched local speakers become new global speakers.
    """

    def __init__(self, link_threshold: float) -> None:
        self.link_threshold = link_threshold
        self._sums: list[np.ndarray | None] = []
        self.speech_s: list[float] = []

    def centroid(self, index: int) -> np.ndarray | None:
        """Unit-norm mean embedding of a global speaker (None if it has none)."""
        total = self._sums[index]
        return None if total is None else total / np.linalg.norm(total)

    def link(self, local: dict[str, tuple[np.ndarray | None, float]]) -> dict[str, int]:
        """Map local labels (with embedding and seconds of speech) to global speaker indices."""
        names = list(local)
        known = [i for i in range(len(self._sums)) if self._sums[i] is not None]
        with_vec = [n for n in names if local[n][0] is not None]
        mapping: dict[str, int] = {}
        if known and with_vec:
            centroids = np.stack([self.centroid(i) for i in known])
            vectors = np.stack([local[n][0] for n in with_vec])
            distance = 1.0 - vectors @ centroids.T
            # shape: (local speakers, global speakers)
            rows, cols = linear_sum_assignment(distance)
            for r, c in zip(rows, cols, strict=True):
                if distance[r, c] <= self.link_threshold:
                    mapping[with_vec[r]] = known[c]
        for name in names:
            if name not in mapping:
                self._sums.append(None)
                self.speech_s.append(0.0)
                mapping[name] = len(self._sums) - 1
            vector, seconds = local[name]
            index = mapping[name]
            if vector is not None:
                total = self._sums[index]
                self._sums[index] = vector * seconds if total is None else total + vector * seconds
            self.speech_s[index] += seconds
        return mapping

    def merge_down(
        self,
        max_speakers: int,
        levels_db: dict[int, float] | None = None,
        background_db: float | None = None,
    ) -> dict[int, int]:
        """Merge the closest global speakers until at most `max_speakers` remain.

        With `levels_db` (each speaker's typical speech level) and `background_db`, the
        quietest speaker, when it speaks at least `background_db` under the loudest one and
        is no close match of any other (a cosine distance above the link threshold), is
        background talk (a call-centre floor, a television) rather than a party: it is
        dropped (mapped to `DROPPED`) before any two voices are merged.

        Returns the map from every global index to the index it was merged into.
        """
        alive = list(range(len(self._sums)))
        target = {i: i for i in alive}
        while len([i for i in alive if self._sums[i] is not None]) > max(1, max_speakers):
            vec = [i for i in alive if self._sums[i] is not None]
            centroids = np.stack([self.centroid(i) for i in vec])
            similarity = centroids @ centroids.T
            np.fill_diagonal(similarity, -np.inf)
            a, b = np.unravel_index(np.argmax(similarity), similarity.shape)
            background = self._background(vec, levels_db, background_db)
            if background is not None and (
                1.0 - similarity[vec.index(background)].max() > self.link_threshold
            ):
                keep, drop = DROPPED, background
            else:
                keep, drop = sorted((vec[a], vec[b]), key=lambda i: -self.speech_s[i])
                self._sums[keep] = self._sums[keep] + self._sums[drop]
                self.speech_s[keep] += self.speech_s[drop]
            self._sums[drop] = None
            alive.remove(drop)
            for k, v in target.items():
                if v == drop:
                    target[k] = keep
        if levels_db is not None and background_db and len(alive) > max(1, max_speakers):
            # uncapped diarization left fragments too short to embed: past the cap, they go
            fragments = {i for i in alive if self._sums[i] is None}
            target = {k: DROPPED if v in fragments else v for k, v in target.items()}
        return target

    @staticmethod
    def _background(
        speakers: list[int], levels_db: dict[int, float] | None, background_db: float | None
    ) -> int | None:
        """The quietest of `speakers` when it is `background_db` under the loudest."""
        if not levels_db or not background_db:
            return None
        known = [i for i in speakers if i in levels_db]
        if len(known) < 2:
            return None
        quietest = min(known, key=lambda i: levels_db[i])
        loudest = max(levels_db[i] for i in known)
        return quietest if loudest - levels_db[quietest] >= background_db else None


def diarize_speakers(
    windows: Iterable[tuple[float, np.ndarray]],
    pipeline,
    embedder: torch.nn.Module,
    *,
    pyannote_hints: SpeakerHints = SpeakerHints(),
    max_speakers: int | None = None,
    link_threshold: float,
    merge_gap_s: float = 0.0,
    embed: bool = True,
    background_db: float | None = None,
    progress: Progress | None = None,
) -> SpeakerTurns:
    """Diarize mono windows with a pyannote pipeline and link their speakers.

    Parameters
    ----------
    windows
        (offset_s, mono float32 at `SAMPLE_RATE`) pairs, e.g. from `mono_windows`.
    pipeline
        A pyannote ``SpeakerDiarization``-like pipeline (see `models.pipelines`).
    embedder
        The CAM++ model used to compare speakers across windows and with voiceprints.
    pyannote_hints
        Speaker-count hints for pyannote in each window (see `window_hints`).
    max_speakers
        Once all windows are linked, the closest speakers are merged down to this many.
    link_threshold
        Cosine distance under which speakers of two windows are the same person.
    merge_gap_s
        Turns of one speaker closer than this are joined (across window edges too).
    embed
        Embed each speaker's voice (``SpeakerTurns.embeddings``). Without embeddings the
        speakers of different windows cannot be linked: pass False only for a single window.
    background_db
        With `max_speakers`: pyannote is not capped; when it finds more speakers than that,
        one at least this far (dB) under the loudest speaker is dropped as background talk
        instead of two voices being merged (see `SpeakerLinker.merge_down`). None: pyannote
        is capped itself.
    progress
        Called with the seconds of audio done so far (fractional within a window).
    """
    linker = SpeakerLinker(link_threshold)
    raw: list[Segment] = []
    raw_exclusive: list[Segment] = []
    uncapped = bool(background_db and max_speakers)
    if uncapped:
        pyannote_hints = SpeakerHints(pyannote_hints.num_speakers, pyannote_hints.min_speakers)
    levels: dict[int, list[tuple[float, float]]] = {}
    for offset_s, waveform in windows:
        duration_s = waveform.shape[0] / SAMPLE_RATE
        output = _run_window(pipeline, waveform, pyannote_hints, offset_s, duration_s, progress)
        overlapped, exclusive = _annotations(output)
        # embeddings link windows and, past the cap, tell voices apart from background talk
        needed = embed or (uncapped and len(overlapped.labels()) > max_speakers)
        local = {
            label: embed_speech(
                embedder, waveform, [(s.start, s.end) for s in exclusive.label_timeline(label)]
            )
            if needed
            else (None, 0.0)
            for label in overlapped.labels()
        }
        mapping = linker.link(local)
        if uncapped:
            for turn, _, label in exclusive.itertracks(yield_label=True):
                level = _level_db(waveform, turn.start, turn.end)
                if level is not None:
                    levels.setdefault(mapping[label], []).append((level, turn.end - turn.start))
        for annotation, sink in ((overlapped, raw), (exclusive, raw_exclusive)):
            for turn, _, label in annotation.itertracks(yield_label=True):
                start_s, end_s = offset_s + turn.start, offset_s + turn.end
                sink.append(Segment(start_s, end_s, str(mapping[label])))
        if progress is not None:
            progress(offset_s + duration_s)
    typical = {index: _weighted_median(pairs) for index, pairs in levels.items()}
    merged = linker.merge_down(max_speakers, typical, background_db) if max_speakers else {}
    return _finish(linker, raw, raw_exclusive, merged, merge_gap_s)


def _level_db(waveform: np.ndarray, start_s: float, end_s: float) -> float | None:
    """Mean power in dBFS of a turn (None when shorter than 0.1 s)."""
    piece = waveform[int(start_s * SAMPLE_RATE) : int(end_s * SAMPLE_RATE)]
    return float(frame_levels_db(piece)) if piece.shape[0] >= SAMPLE_RATE // 10 else None


def _weighted_median(pairs: list[tuple[float, float]]) -> float:
    """The median of (value, weight) pairs."""
    ordered = sorted(pairs)
    half = sum(w for _, w in ordered) / 2
    running = 0.0
    for value, weight in ordered:
        running += weight
        if running >= half:
            return value
    return ordered[-1][0]


def _run_window(pipeline, waveform, hints, offset_s, duration_s, progress):
    """One pyannote call on one window, its progress reported in seconds of audio."""
    import torch

    file = {"waveform": torch.from_numpy(waveform)[None], "sample_rate": SAMPLE_RATE}
    kwargs = {k: v for k, v in vars(hints).items() if v is not None}

    def hook(step: str, artifact=None, file=None, completed=None, total=None, **_) -> None:
        if progress is None or not total or completed is None:
            return
        share = {"segmentation": (0.0, 0.3), "embeddings": (0.3, 0.65)}.get(step)
        if share is not None:
            done = min(1.0, completed / total)
            progress(offset_s + duration_s * (share[0] + share[1] * done))

    with warnings.catch_warnings():
        # on a clip too short to train its clustering, pyannote averages an empty set of
        # embeddings (and then keeps one cluster): numpy's warnings tell a user nothing
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        warnings.filterwarnings("ignore", "invalid value encountered in divide", RuntimeWarning)
        return pipeline(file, hook=hook, **kwargs)


def _annotations(output) -> tuple[Annotation, Annotation]:
    """(overlapped, exclusive) annotations from a pyannote 4 output or a legacy Annotation."""
    from pyannote.core import Annotation

    if isinstance(output, Annotation):
        return output, _exclusive(output)
    return output.speaker_diarization, output.exclusive_speaker_diarization


def _exclusive(annotation: Annotation) -> Annotation:
    """A non-overlapping version of a legacy output: overlapped stretches are left out."""
    from pyannote.core import Annotation

    result = Annotation(uri=annotation.uri)
    for segment, track, label in annotation.itertracks(yield_label=True):
        result[segment, track] = label
    overlap = annotation.get_overlap()
    return result.extrude(overlap) if overlap else result


def _finish(linker, raw, raw_exclusive, merged, merge_gap_s) -> SpeakerTurns:
    """Relabel global indices as ``SPEAKER_NN`` (by first turn) and merge touching turns."""

    def target(seg: Segment) -> int:
        index = int(seg.speaker)
        return merged.get(index, index)

    order: dict[int, str] = {}
    for seg in sorted(raw):
        if target(seg) != DROPPED:  # background talk
            order.setdefault(target(seg), f"SPEAKER_{len(order):02d}")
    relabel = {}
    for sink, items in (("segments", raw), ("exclusive", raw_exclusive)):
        relabel[sink] = merge_close(
            (Segment(s.start_s, s.end_s, order[target(s)]) for s in items if target(s) in order),
            merge_gap_s,
        )
    turns = SpeakerTurns(relabel["segments"], relabel["exclusive"])
    turns.speech_s = _speech_seconds(turns.segments)
    for index, label in order.items():
        centroid = linker.centroid(index)
        if centroid is not None:
            turns.embeddings[label] = centroid
    return turns
