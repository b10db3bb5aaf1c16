"""Whether a speaker that matched a voiceprint is one voice, or two that diarization merged.

On short, noisy calls diarization can put the rep and the customer in one speaker. That
speaker's embedding is a blend which may still match the rep's print, and mapping it would
give the customer's words to the rep. So the turns of a matched speaker that are long enough
to embed (``voiceprints.one_voice_turn_s``) are embedded one by one and compared with the
print: turns under ``voiceprints.other_voice_below`` (``narrowband_other_voice_below`` for
telephone-band audio) are someone else, and ``other_voice_s`` seconds of them make the speaker
two voices. `diarize.parties.speakers` then maps it to no party.

Splitting such a speaker (its other turns to the other party) was measured and is not done:
the turns left still held up to 39% of the other voice, in turns too short to embed
(``models/offline-diarization.yaml``, version 9).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from diarize.audio import AudioSource
from diarize.speakers import SAMPLE_RATE, SpeakerTurns, embed_speech, mono_windows

if TYPE_CHECKING:  # torch loads with the diarizer: the stereo path, which imports this, needs none
    import torch

    from models.config import VoiceprintParams

__all__ = ["OtherVoice", "other_voice_check", "other_voice_seconds"]

OtherVoice = Callable[[str, np.ndarray], float]
"""(speaker label, unit-norm print) -> seconds of that speaker's turns that are another voice."""

_MAX_CHECKED_S = 120.0  # of turns embedded per speaker (longest first): bounds a long call's cost


def other_voice_seconds(
    turns: list[tuple[float, np.ndarray | None]], reference: np.ndarray, below: float
) -> float:
    """Seconds of `turns` ((duration, embedding) pairs) whose similarity to `reference` is
    under `below`; turns without an embedding count as neither voice."""
    return sum(
        seconds
        for seconds, vector in turns
        if vector is not None and float(vector @ reference) < below
    )


def other_voice_check(
    turns: SpeakerTurns,
    source: AudioSource,
    embedder: torch.nn.Module,
    params: VoiceprintParams,
    *,
    narrowband: bool,
    window_s: float,
    channel: int | None = None,
) -> OtherVoice:
    """A check for `diarize.parties.speakers.map_speakers`: how much of a speaker's speech in
    `source` (downmixed, or only `channel`) is not the voice of a print.

    Each speaker's turns are embedded once, on first use, with `embedder` (the diarizer's
    CAM++), reading only the windows of `source` that hold them.
    """
    below = params.other_voice_for(narrowband)
    cache: dict[str, list[tuple[float, np.ndarray | None]]] = {}

    def seconds(label: str, reference: np.ndarray) -> float:
        if label not in cache:
            cache[label] = _embed_turns(turns, label, source, embedder, params, window_s, channel)
        return other_voice_seconds(cache[label], reference, below)

    return seconds


def _embed_turns(
    turns: SpeakerTurns,
    label: str,
    source: AudioSource,
    embedder: torch.nn.Module,
    params: VoiceprintParams,
    window_s: float,
    channel: int | None,
) -> list[tuple[float, np.ndarray | None]]:
    """(duration, embedding) of each of `label`'s turns of at least ``one_voice_turn_s``
    where nobody else speaks (longest first, up to `_MAX_CHECKED_S` in all; a turn across
    two of a long call's windows is left out)."""
    spans = sorted(
        (span for span in turns.spans_of(label) if span[1] - span[0] >= params.one_voice_turn_s),
        key=lambda span: span[0] - span[1],
    )
    chosen: list[tuple[float, float]] = []
    for span in spans:
        if sum(e - s for s, e in chosen) >= _MAX_CHECKED_S:
            break
        chosen.append(span)
    chosen.sort()
    embedded: list[tuple[float, np.ndarray | None]] = []
    for offset_s, waveform in mono_windows(source, window_s, channel=channel) if chosen else ():
        window_end = offset_s + waveform.shape[0] / SAMPLE_RATE
        for start, end in chosen:
            if start >= offset_s and end <= window_end + 1e-6:
                local = (start - offset_s, min(end, window_end) - offset_s)
                vector, _ = embed_speech(embedder, waveform, [local])
                embedded.append((end - start, vector))
        if window_end >= chosen[-1][1]:
            break
    return embedded
